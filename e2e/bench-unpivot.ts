/**
 * `make bench-unpivot`: the pivot and the unpivot of the same node, in one run, each under the
 * /readyz prober (10 Hz, fresh and reused connections). Prints figures; asserts nothing (the golden
 * path and e2e/node-unpivot.test.ts assert).
 *
 *  - wall time from the edit (apply / spec.mode StaticPods) until phase SelfHosted / StaticPods and Ready;
 *  - failed probes and the longest time without any successful probe;
 *  - per unpivot step, its duration from status.plan.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { load } from 'js-yaml';
import { KubeConfig } from '@kubernetes/client-node';
import { startProber, summarize, type ProbeReport } from '../test/support/prober.js';
import { KUBECONFIG, nodeVersion, REPO } from './node.js';
import { freshNodeForSelfhost, isReadyView, kubectl, readControlPlane, superviseOperator, spanMs, type ControlPlaneView } from './pivot.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface View {
  phase?: string;
  plan?: { steps: { component: string; startedAt?: string; finishedAt?: string }[] };
}

type Seen = View & ControlPlaneView;

async function until(kc: KubeConfig, what: string, ok: (v: Seen) => boolean, timeoutMs: number): Promise<View> {
  for (let deadline = Date.now() + timeoutMs; ; await sleep(1000)) {
    const v = (await readControlPlane(kc).catch(() => undefined)) as Seen | undefined;
    if (v !== undefined && ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`${what} not reached within ${timeoutMs / 1000} s; last: ${JSON.stringify(v)}`);
  }
}

function row(name: string, ms: number, r: ProbeReport): string {
  const fresh = r.modes.fresh;
  const reused = r.modes.reused;
  return `| ${name} | ${(ms / 1000).toFixed(1)} | ${fresh.failures}/${fresh.total} | ${reused.failures}/${reused.total} | ${(r.longestGap.ms / 1000).toFixed(1)} |`;
}

async function main(): Promise<void> {
  console.log('bench-unpivot: fresh node cluster (static pods)…');
  await freshNodeForSelfhost(nodeVersion());
  const kc = new KubeConfig();
  kc.loadFromFile(KUBECONFIG);
  const op = await superviseOperator('bench-unpivot');

  const sample = load(readFileSync(path.join(REPO, 'deploy', 'samples', 'controlplane.yaml'), 'utf8')) as { spec: Record<string, unknown> };
  sample.spec['version'] = nodeVersion();
  let prober = await startProber(kc, { hz: 10 });
  const pivotStart = Date.now();
  const applied = kubectl(['apply', '-f', '-'], JSON.stringify(sample));
  if (applied.code !== 0) throw new Error(applied.out);
  await until(kc, 'pivot', (v) => isReadyView(v) && v.phase === 'SelfHosted', 15 * 60_000);
  const pivotMs = Date.now() - pivotStart;
  const pivotReport = await prober.stop();
  console.log(`pivot: ${summarize(pivotReport)}`);

  // Let the checkpoints settle, as a user's cluster would have them before an unpivot.
  await sleep(15_000);
  prober = await startProber(kc, { hz: 10 });
  const unpivotStart = Date.now();
  const edit = kubectl(['patch', 'controlplane', 'cluster', '--type=merge', '-p', JSON.stringify({ spec: { mode: 'StaticPods' } })]);
  if (edit.code !== 0) throw new Error(edit.out);
  const done = await until(kc, 'unpivot', (v) => isReadyView(v) && v.phase === 'StaticPods', 15 * 60_000);
  const unpivotMs = Date.now() - unpivotStart;
  const unpivotReport = await prober.stop();
  console.log(`unpivot: ${summarize(unpivotReport)}`);
  const restarts = op.restarts();
  await op.stop();

  console.log('\nbench-unpivot figures (one run, the same node; probes of /readyz at 10 Hz):\n');
  console.log('| operation | wall s | failed probes, fresh connections | failed probes, reused connection | longest gap s |');
  console.log('| --- | --- | --- | --- | --- |');
  console.log(row('pivot', pivotMs, pivotReport));
  console.log(row('unpivot', unpivotMs, unpivotReport));
  console.log(`| ratio unpivot / pivot | ${(unpivotMs / pivotMs).toFixed(2)} | | | ${(unpivotReport.longestGap.ms / Math.max(1, pivotReport.longestGap.ms)).toFixed(2)} |`);
  console.log('\n| unpivot step | seconds |');
  console.log('| --- | --- |');
  for (const s of done.plan?.steps ?? []) console.log(`| ${s.component} | ${((spanMs(s.startedAt, s.finishedAt) ?? 0) / 1000).toFixed(0)} |`);
  console.log(`\noperator restarts (it exits when it loses its Lease while the API is down): ${restarts}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
