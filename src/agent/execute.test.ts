import type { Logger } from 'pino';
import { describe, expect, it } from 'vitest';
import type { AgentDesired } from '../api/agent.js';
import { captureLogs } from '../testing/log-lines.js';
import { executeAgentPlan } from './execute.js';
import { MemoryDisk } from './memory-disk.js';
import { computeAgentPlan } from './plan.js';
import { computeSha256, scanDisk } from './snapshot.js';

const M = '/etc/kubernetes/manifests';
const B = '/etc/kubernetes/selfhost/backup';


const original = (name: string): string => `kind: Pod\nmetadata: {name: ${name}}\n`;
const prepared = (name: string): string => `${original(name)}# prepared\n`;

/** etcd prepared, apiserver retired, scheduler back to its original (it was prepared before). */
const DESIRED: AgentDesired = {
  manifests: [
    { path: `${M}/etcd.yaml`, state: 'Prepared', originalSha256: computeSha256(original('etcd')), content: prepared('etcd') },
    { path: `${M}/kube-apiserver.yaml`, state: 'Retired', originalSha256: computeSha256(original('kube-apiserver')) },
    {
      path: `${M}/kube-scheduler.yaml`,
      state: 'Original',
      originalSha256: computeSha256(original('kube-scheduler')),
      writtenSha256: [computeSha256(prepared('kube-scheduler'))],
    },
  ],
};

function startingDisk(): MemoryDisk {
  return new MemoryDisk({
    [`${M}/etcd.yaml`]: original('etcd'),
    [`${M}/kube-apiserver.yaml`]: original('kube-apiserver'),
    [`${M}/kube-scheduler.yaml`]: prepared('kube-scheduler'),
    [`${M}/kube-controller-manager.yaml`]: original('kube-controller-manager'),
    [`${M}/.selfhost-etcd.yaml.dead.tmp`]: 'half a file',
    [`${B}/kube-scheduler.yaml`]: original('kube-scheduler'),
  });
}

async function pass(disk: MemoryDisk, logger: Logger): Promise<number> {
  const plan = computeAgentPlan(DESIRED, await scanDisk(disk, M, B));
  return (await executeAgentPlan(plan, disk, logger)).done;
}

const FINAL = {
  [`${M}/etcd.yaml`]: prepared('etcd'),
  [`${M}/kube-scheduler.yaml`]: original('kube-scheduler'),
  [`${M}/kube-controller-manager.yaml`]: original('kube-controller-manager'),
  [`${B}/etcd.yaml`]: original('etcd'),
  [`${B}/kube-apiserver.yaml`]: original('kube-apiserver'),
  [`${B}/kube-scheduler.yaml`]: original('kube-scheduler'),
};

function contents(disk: MemoryDisk): Record<string, string> {
  return Object.fromEntries([...disk.files.keys()].sort().map((p) => [p, disk.text(p) ?? '']));
}

/** Whenever a managed file is not its original, its backup must hold the original. */
function assertOriginalsSafe(disk: MemoryDisk): void {
  for (const name of ['etcd', 'kube-apiserver']) {
    if (disk.text(`${M}/${name}.yaml`) !== original(name)) expect(disk.text(`${B}/${name}.yaml`)).toBe(original(name));
  }
}

describe('executeAgentPlan', () => {
  it('converges in one pass, then has nothing to do; logs each change once at info', async () => {
    const disk = startingDisk();
    const { logger, lines } = captureLogs();
    expect(await pass(disk, logger)).toBe(6);
    expect(contents(disk)).toEqual(FINAL);
    expect(await pass(disk, logger)).toBe(0);
    const info = lines.filter((l) => l['level'] === 30).map((l) => [l['action'], l['path'] ?? l['to']]);
    expect(info).toEqual([
      ['removeTemp', `${M}/.selfhost-etcd.yaml.dead.tmp`],
      ['backup', `${B}/etcd.yaml`],
      ['write', `${M}/etcd.yaml`],
      ['backup', `${B}/kube-apiserver.yaml`],
      ['remove', `${M}/kube-apiserver.yaml`],
      ['restore', `${M}/kube-scheduler.yaml`],
    ]);
  });

  it('converges to the same state after a crash at any point, never losing an original', async () => {
    const { logger } = captureLogs();
    for (let crashAt = 0; crashAt <= 6; crashAt++) {
      const disk = startingDisk();
      let mutations = 0;
      let crashed = false;
      disk.failWith = (op) => {
        assertOriginalsSafe(disk);
        if (op !== 'writeAtomic' && op !== 'remove') return undefined;
        if (crashed || mutations++ === crashAt) crashed = true;
        return crashed ? new Error('SIGKILL') : undefined;
      };
      await pass(disk, logger);
      disk.failWith = () => {
        assertOriginalsSafe(disk);
        return undefined;
      };
      await pass(disk, logger);
      expect(contents(disk), `crash before mutation ${crashAt}`).toEqual(FINAL);
      expect(await pass(disk, logger)).toBe(0);
    }
  });

  it('stops a manifest at its first failure (no change without a backup) and goes on with the others', async () => {
    const disk = startingDisk();
    const { logger } = captureLogs();
    disk.failWith = (op, path) => (op === 'writeAtomic' && path === `${B}/etcd.yaml` ? new Error('ENOSPC') : undefined);
    const plan = computeAgentPlan(DESIRED, await scanDisk(disk, M, B));
    const result = await executeAgentPlan(plan, disk, logger);
    expect(result.failures).toEqual([{ path: `${M}/etcd.yaml`, message: 'backup failed: ENOSPC' }]);
    expect(disk.text(`${M}/etcd.yaml`)).toBe(original('etcd'));
    expect(disk.text(`${M}/kube-apiserver.yaml`)).toBeUndefined();
  });

  it('refuses to copy a file that changed after the scan', async () => {
    const disk = startingDisk();
    const { logger } = captureLogs();
    const plan = computeAgentPlan(DESIRED, await scanDisk(disk, M, B));
    disk.files.set(`${M}/etcd.yaml`, Buffer.from('changed meanwhile'));
    const result = await executeAgentPlan(plan, disk, logger);
    expect(result.failures).toEqual([
      { path: `${M}/etcd.yaml`, message: expect.stringMatching(/etcd\.yaml now has sha256 [0-9a-f]{64}, expected [0-9a-f]{64}; not copied/) as unknown as string },
    ]);
    expect(disk.text(`${B}/etcd.yaml`)).toBeUndefined();
    expect(disk.text(`${M}/etcd.yaml`)).toBe('changed meanwhile');
  });
});
