/**
 * `make bench-pivot`: one fresh pivot of a real kubeadm node, measured. Prints figures; asserts
 * nothing (the e2e suite does the asserting).
 *
 *  - pivot wall time (ControlPlane applied → Ready=True);
 *  - per component: handover time (step Running → Succeeded, polled at 4 Hz) and the API
 *    prober's failures and longest gap inside that window;
 *  - the floor: the sum of the self-hosted pods' own start-to-ready times, and pivot / floor;
 *  - operator RSS and API requests per minute once idle.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { CoreV1Api, KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { startProber, type ProbeSample } from '../test/support/prober.js';
import { KUBECONFIG, nodeVersion, REPO, runNodeScript } from './node.js';
import { applyDeploy, isReadyView, killOperator, kubectl, make, readControlPlane, startOperator } from './pivot.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Window {
  component: string;
  start?: number;
  end?: number;
}

function gapIn(samples: readonly ProbeSample[], from: number, to: number): { failures: number; longestMs: number; errors: string } {
  const inside = samples.filter((s) => s.at >= from && s.at <= to);
  let longest = 0;
  let lastOk = from;
  for (const s of [...inside].sort((a, b) => a.at - b.at)) {
    if (s.ok) {
      longest = Math.max(longest, s.at - lastOk);
      lastOk = s.at;
    }
  }
  const errors = new Map<string, number>();
  for (const s of inside) if (!s.ok) errors.set(s.error ?? '?', (errors.get(s.error ?? '?') ?? 0) + 1);
  const text = [...errors.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([e, n]) => `${e}×${n}`)
    .join(', ');
  return { failures: inside.filter((s) => !s.ok).length, longestMs: Math.max(longest, to - lastOk), errors: text };
}

function podStartToReadyMs(pod: V1Pod): number | undefined {
  const main = pod.status?.containerStatuses?.[0];
  const started = main?.state?.running?.startedAt;
  const ready = pod.status?.conditions?.find((c) => c.type === 'Ready' && c.status === 'True')?.lastTransitionTime;
  if (started === undefined || ready === undefined) return undefined;
  return Math.max(0, new Date(ready).getTime() - new Date(started).getTime());
}

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+([0-9]+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

async function requestsTotal(port: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith('selfhost_apiserver_requests_total{'))
    .reduce((sum, l) => sum + Number(l.split(' ').pop() ?? '0'), 0);
}

async function main(): Promise<void> {
  console.log('bench-pivot: fresh node cluster…');
  make('build');
  make('image');
  await runNodeScript('down');
  await runNodeScript('up', [nodeVersion()]);
  make('load-selfhost-image');
  applyDeploy();
  const kc = new KubeConfig();
  kc.loadFromFile(KUBECONFIG);

  const prober = await startProber(kc, { hz: 10 });
  const op = await startOperator('bench');
  const t0 = Date.now();
  const applied = kubectl(['apply', '-f', path.join(REPO, 'deploy', 'samples', 'controlplane.yaml')]);
  if (applied.code !== 0) throw new Error(applied.out);
  const windows = new Map<string, Window>();
  let readyAt: number | undefined;
  while (Date.now() - t0 < 20 * 60_000) {
    const cp = await readControlPlane(kc).catch(() => undefined);
    const now = Date.now();
    for (const s of cp?.plan?.steps ?? []) {
      const w = windows.get(s.component) ?? { component: s.component };
      if (w.start === undefined && (s.state === 'Running' || s.state === 'Succeeded')) w.start = now;
      if (w.end === undefined && s.state === 'Succeeded') w.end = now;
      windows.set(s.component, w);
    }
    if (isReadyView(cp)) {
      readyAt = now;
      break;
    }
    await sleep(250);
  }
  const report = await prober.stop();
  if (readyAt === undefined) throw new Error('the pivot did not finish within 20 minutes');
  const pivotMs = readyAt - t0;

  const pods = (await kc.makeApiClient(CoreV1Api).listNamespacedPod({ namespace: 'kube-system' })).items.filter(
    (p) => p.metadata?.labels?.['selfhost.dev/component'] !== undefined && p.metadata.labels['selfhost.dev/component'] !== 'agent',
  );
  const floor = new Map<string, number>();
  for (const p of pods) {
    const c = p.metadata?.labels?.['selfhost.dev/component'] ?? '?';
    const ms = podStartToReadyMs(p);
    if (ms !== undefined) floor.set(c, Math.max(floor.get(c) ?? 0, ms));
  }
  const floorMs = [...floor.values()].reduce((a, b) => a + b, 0);

  console.log('\n== selfhost bench-pivot (one fresh pivot, single control-plane node) ==');
  console.log(`pivot wall time: ${(pivotMs / 1000).toFixed(1)} s`);
  console.log(`API prober (10 Hz, fresh + reused connections): ${report.total} requests, ${report.failures} failed, longest gap ${(report.longestGap.ms / 1000).toFixed(2)} s`);
  console.log('component                 handover   prober failures  longest gap   own start→ready   failures by kind');
  for (const w of windows.values()) {
    const span = w.start !== undefined && w.end !== undefined ? w.end - w.start : undefined;
    const g = w.start !== undefined && w.end !== undefined ? gapIn(report.samples, w.start, w.end) : undefined;
    const own = floor.get(w.component);
    console.log(
      `${w.component.padEnd(25)} ${span === undefined ? '   n/a' : `${(span / 1000).toFixed(1).padStart(6)} s`}   ${String(g?.failures ?? 'n/a').padStart(15)}  ${g === undefined ? '   n/a' : `${(g.longestMs / 1000).toFixed(2).padStart(8)} s`}   ${(own === undefined ? 'n/a' : `${(own / 1000).toFixed(1)} s`).padEnd(17)} ${g?.errors ?? ''}`,
    );
  }
  const inWindow = (at: number): boolean => [...windows.values()].some((w) => w.start !== undefined && w.end !== undefined && at >= w.start && at <= w.end);
  const outside = report.samples.filter((s) => !s.ok && !inWindow(s.at)).length;
  console.log(`prober failures outside every handover window: ${outside}`);
  console.log(`floor (sum of the components' own start→ready): ${(floorMs / 1000).toFixed(1)} s; pivot / floor = ${floorMs > 0 ? (pivotMs / floorMs).toFixed(2) : 'n/a'}`);

  // Idle figures: let events and the last status settle, then one minute of nothing.
  await sleep(15_000);
  const r0 = await requestsTotal(op.metricsPort);
  await sleep(60_000);
  const r1 = await requestsTotal(op.metricsPort);
  console.log(`operator idle: RSS ${rssMiB(op.pid).toFixed(0)} MiB, ${r1 - r0} API requests in 60 s (its own client; informer watches excluded)`);
  console.log(`\n$ kubectl get controlplane\n${kubectl(['get', 'controlplane']).out.trimEnd()}`);
  console.log(`$ kubectl get pods -n kube-system (static mirror pods would be named <component>-<node>)\n${kubectl(['get', 'pods', '-n', 'kube-system']).out.trimEnd()}`);
  await killOperator(op, 'SIGTERM');
  await runNodeScript('down');
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
