import { existsSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { BASELINE, REPO, runNodeScript } from './node.js';

function snapshot(): string {
  return execFileSync('bash', [path.join(REPO, 'hack', 'node', 'snapshot.sh')], { encoding: 'utf8' });
}

/** The sections of a snapshot (hack/node/snapshot.sh: "## name" then lines). */
function sections(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let current = '';
  for (const line of text.split('\n')) {
    const m = /^## (.+)$/.exec(line);
    if (m?.[1]) {
      current = m[1];
      out.set(current, []);
    } else if (line.trim() !== '' && current) {
      out.get(current)?.push(line);
    }
  }
  return out;
}

/**
 * `make cluster-down` leaves the host as cluster-up found it: the snapshot of everything the tier
 * may touch (processes, mounts and their propagation, links, addresses, routes, iptables and nft
 * tables, nfacct objects, sysctls, cgroups, paths, netns) equals the one up.sh took before its
 * host prep. Then the tier is started again (the rest of the suite and the teardown expect it),
 * and a second cluster-up in a row reuses it.
 */
describe('tier node: cluster-down restores the host', () => {
  const version = inject('nodeVersion');

  it('leaves no process, mount, link, route, chain, sysctl, cgroup or path of the tier', async () => {
    expect(existsSync(BASELINE), `baseline snapshot ${BASELINE} (written by cluster-up)`).toBe(true);
    const baseline = sections(readFileSync(BASELINE, 'utf8'));

    const down = await runNodeScript('down', [], { allowFailure: true });
    console.log(`cluster-down: ${down.ms} ms`);
    const now = sections(snapshot());
    for (const [name, lines] of baseline) {
      expect(now.get(name) ?? [], `snapshot section "${name}" after cluster-down`).toEqual(lines);
    }
    expect(now.get('processes') ?? [], 'processes of the tier left').toEqual([]);
    expect(down.code, `down.sh output:\n${down.output}`).toBe(0);
  });

  it('starts again, and a second cluster-up in a row reuses the running node', async () => {
    const first = await runNodeScript('up', [version]);
    expect(first.output).toMatch(/node tier .* up in \d+s/);
    const second = await runNodeScript('up', [version]);
    expect(second.output).toMatch(/already up and healthy: reusing it/);
    expect(second.output).toMatch(/export KUBECONFIG=/);
    expect(second.ms).toBeLessThan(30_000);
  });
});
