/**
 * `make bench-pivot`: one fresh pivot of a real kubeadm node, measured. Prints figures; asserts
 * nothing (the e2e suite does the asserting).
 *
 *  - pivot wall time (ControlPlane applied → Ready=True);
 *  - per component: handover time (step Running → Succeeded, polled at 4 Hz) and the API
 *    prober's failures and longest gap inside that window;
 *  - the floor: each component started once (a gated handover's API gap; else the new pod's
 *    creation → first Ready), summed, and pivot / floor;
 *  - operator RSS and API requests per minute once idle.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { CoordinationV1Api, CoreV1Api, KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { startProber } from '../test/support/prober.js';
import { gapIn } from './figures.js';
import { KUBECONFIG, nodeVersion, REPO, runNodeScript } from './node.js';
import { freshNodeForSelfhost, isReadyView, kubectl, readControlPlane, superviseOperator } from './pivot.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Window {
  component: string;
  start?: number;
  end?: number;
}

/** Pod Ready=True now. */
function isPodReady(pod: V1Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

/** Components whose handover is a gap by design (the new instance starts once the old one is gone). */
const GATED = new Set(['kube-apiserver', 'etcd']);

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
  await freshNodeForSelfhost(nodeVersion());
  const kc = new KubeConfig();
  kc.loadFromFile(KUBECONFIG);

  const prober = await startProber(kc, { hz: 10 });
  // Supervised, as its Deployment would be: the operator exits when it loses its Lease while the
  // API is down during the apiserver and etcd handovers.
  const op = await superviseOperator('bench');
  const t0 = Date.now();
  const applied = kubectl(['apply', '-f', path.join(REPO, 'deploy', 'samples', 'controlplane.yaml')]);
  if (applied.code !== 0) throw new Error(applied.out);
  const windows = new Map<string, Window>();
  // Per component: creation → first seen Ready of its first self-hosted pod created during the pivot.
  const firstReady = new Map<string, number>();
  const core = kc.makeApiClient(CoreV1Api);
  let readyAt: number | undefined;
  while (Date.now() - t0 < 20 * 60_000) {
    const cp = await readControlPlane(kc).catch(() => undefined);
    const now = Date.now();
    const listed = await core.listNamespacedPod({ namespace: 'kube-system', labelSelector: 'selfhost.dev/component' }).catch(() => undefined);
    for (const p of listed?.items ?? []) {
      const c = p.metadata?.labels?.['selfhost.dev/component'] ?? 'agent';
      const created = p.metadata?.creationTimestamp === undefined ? NaN : new Date(p.metadata.creationTimestamp).getTime();
      if (c === 'agent' || firstReady.has(c) || !(created >= t0 - 1000) || !isPodReady(p)) continue;
      firstReady.set(c, now - created);
    }
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

  // The floor: each component started once. Gated handovers are one start with nothing serving,
  // so their floor is the API gap of their window; the others start beside the old instance, so
  // theirs is their pod's creation → first Ready (polled at 4 Hz); adopted DaemonSets whose pods
  // were not replaced need no start at all.
  const floor = new Map<string, number>();
  for (const w of windows.values()) {
    if (GATED.has(w.component)) {
      if (w.start !== undefined && w.end !== undefined) floor.set(w.component, gapIn(report.samples, w.start, w.end).longestMs);
    } else {
      floor.set(w.component, firstReady.get(w.component) ?? 0);
    }
  }
  const floorMs = [...floor.values()].reduce((a, b) => a + b, 0);

  console.log('\n== selfhost bench-pivot (one fresh pivot, single control-plane node) ==');
  console.log(`pivot wall time: ${(pivotMs / 1000).toFixed(1)} s`);
  console.log(`API prober (10 Hz, fresh + reused connections): ${report.total} requests, ${report.failures} failed, longest gap ${(report.longestGap.ms / 1000).toFixed(2)} s`);
  console.log('component                 handover   prober failures  longest gap   own start (floor)  failures by kind');
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
  console.log(`floor (each component started once: the API gap of a gated handover, else creation → first Ready): ${(floorMs / 1000).toFixed(1)} s; pivot / floor = ${floorMs > 0 ? (pivotMs / floorMs).toFixed(2) : 'n/a'}`);

  // Idle figures: let events and the last status settle, then one minute of nothing.
  await sleep(15_000);
  const idle = op.current();
  const r0 = await requestsTotal(idle.metricsPort);
  // The Lease renewals go through their own client: count them as the Lease's versions (4 Hz).
  const leases = kc.makeApiClient(CoordinationV1Api);
  const versions = new Set<string>();
  const idleEnd = Date.now() + 60_000;
  while (Date.now() < idleEnd) {
    const lease = await leases.readNamespacedLease({ name: 'selfhost', namespace: 'kube-system' }).catch(() => undefined);
    if (lease?.metadata?.resourceVersion !== undefined) versions.add(lease.metadata.resourceVersion);
    await sleep(250);
  }
  const r1 = await requestsTotal(idle.metricsPort);
  console.log(`operator Lease renewals in the same 60 s: ${Math.max(0, versions.size - 1)} (each one GET and one UPDATE of kube-system/selfhost)`);
  console.log(`operator restarts during the pivot (Lease lost while the API was down): ${op.restarts()}`);
  console.log(`operator idle: RSS ${rssMiB(idle.pid).toFixed(0)} MiB, ${r1 - r0} API requests in 60 s (its own client; informer watches excluded)`);
  console.log(`\n$ kubectl get controlplane\n${kubectl(['get', 'controlplane']).out.trimEnd()}`);
  console.log(`$ kubectl get pods -n kube-system (static mirror pods would be named <component>-<node>)\n${kubectl(['get', 'pods', '-n', 'kube-system']).out.trimEnd()}`);
  await op.stop();
  await runNodeScript('down');
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
