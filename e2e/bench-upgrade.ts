/**
 * `make bench-upgrade`: the same patch upgrade done two ways on the same node in one run, measured.
 * Prints figures; asserts nothing (the e2e suite does the asserting).
 *
 *  1. selfhost: fresh kubeadm node at FROM, pivot, then one edit of spec.version to TO; per step
 *     (Running → Succeeded, polled at 4 Hz) and in total: wall time, /readyz prober failures and
 *     longest gap, and a client doing real writes (acknowledged writes: failed and lost);
 *  2. kubeadm: fresh kubeadm node at FROM (static pods), `kubeadm upgrade apply TO`, the same figures;
 *  3. the ratios selfhost / kubeadm (goal for API gap and failures ≤ 0.1).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { load } from 'js-yaml';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { startProber, type ProbeReport } from '../test/support/prober.js';
import { gapIn } from './figures.js';
import { k8sBin, KUBECONFIG, REPO, runCommand, runNodeScript } from './node.js';
import { applyDeploy, kubectl, make, readControlPlane, startAckWriter, superviseOperator } from './pivot.js';

const FROM = process.env.SELFHOST_UPGRADE_FROM ?? 'v1.37.1';
const TO = process.env.SELFHOST_UPGRADE_TO ?? 'v1.37.2';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Figures {
  wallMs: number;
  report: ProbeReport;
  writes: { acked: number; failed: number };
  lost: number;
  windows: Map<string, { start?: number; end?: number }>;
}

async function freshNode(): Promise<KubeConfig> {
  await runNodeScript('down');
  await runNodeScript('up', [FROM]);
  make('load-images', { VERSION: TO });
  const kc = new KubeConfig();
  kc.loadFromFile(KUBECONFIG);
  return kc;
}

async function namespace(kc: KubeConfig, name: string): Promise<void> {
  await kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name } } });
}

async function viaSelfhost(): Promise<Figures> {
  const kc = await freshNode();
  make('load-selfhost-image');
  applyDeploy();
  const op = await superviseOperator('bench-upgrade');
  const sample = load(readFileSync(path.join(REPO, 'deploy', 'samples', 'controlplane.yaml'), 'utf8')) as { spec: Record<string, unknown> };
  sample.spec['version'] = FROM;
  const applied = kubectl(['apply', '-f', '-'], JSON.stringify(sample));
  if (applied.code !== 0) throw new Error(applied.out);
  const pivotDeadline = Date.now() + 20 * 60_000;
  for (;;) {
    const cp = await readControlPlane(kc);
    if (cp?.phase === 'SelfHosted' && cp.conditions.some((c) => c.type === 'Ready' && c.status === 'True')) break;
    if (Date.now() > pivotDeadline) throw new Error('the pivot did not finish within 20 minutes');
    await sleep(2000);
  }
  console.log(`selfhost: pivoted at ${FROM}`);
  await namespace(kc, 'bench-upgrade');
  const ack = await startAckWriter(kc, 'bench-upgrade');
  const prober = await startProber(kc, { hz: 10 });
  const t0 = Date.now();
  const patched = kubectl(['patch', 'controlplane', 'cluster', '--type=merge', '-p', JSON.stringify({ spec: { version: TO } })]);
  if (patched.code !== 0) throw new Error(patched.out);
  const windows = new Map<string, { start?: number; end?: number }>();
  let end: number | undefined;
  while (Date.now() - t0 < 20 * 60_000) {
    const cp = (await readControlPlane(kc).catch(() => undefined)) as
      | (Awaited<ReturnType<typeof readControlPlane>> & { version?: string; lastUpgrade?: { result: string; toVersion: string }; plan?: { operation?: string } })
      | undefined;
    const now = Date.now();
    // Only the upgrade's own steps (until its first pass the stored plan is the pivot's).
    const steps = cp?.plan?.operation === 'Upgrade' ? (cp.plan.steps as { component: string; state: string; action?: string }[]) : [];
    for (const s of steps) {
      const id = s.action === 'Snapshot' ? 'etcd snapshot' : s.component;
      const w = windows.get(id) ?? {};
      if (w.start === undefined && (s.state === 'Running' || s.state === 'Succeeded')) w.start = now;
      if (w.end === undefined && s.state === 'Succeeded') w.end = now;
      windows.set(id, w);
    }
    if (cp?.lastUpgrade?.toVersion === TO && cp.lastUpgrade.result === 'Succeeded' && cp.conditions.some((c) => c.type === 'Ready' && c.status === 'True')) {
      end = now;
      break;
    }
    await sleep(250);
  }
  if (end === undefined) throw new Error('the upgrade did not finish within 20 minutes');
  const report = await prober.stop();
  const writes = await ack.stop();
  const lost = (await ack.verify()).length;
  await op.stop();
  return { wallMs: end - t0, report, writes, lost, windows };
}

async function viaKubeadm(): Promise<Figures> {
  const kc = await freshNode();
  await namespace(kc, 'bench-upgrade');
  const ack = await startAckWriter(kc, 'bench-upgrade');
  const prober = await startProber(kc, { hz: 10 });
  const t0 = Date.now();
  // kubeadm's own procedure on a static-pod node: the new kubeadm applies the new version.
  // Asynchronous: the prober and the writer run in this process and must keep going meanwhile.
  const r = await runCommand(k8sBin(TO, 'kubeadm'), ['upgrade', 'apply', TO, '--yes', '--ignore-preflight-errors=all', '--kubeconfig=/etc/kubernetes/admin.conf']);
  const wallMs = Date.now() - t0;
  const report = await prober.stop();
  const writes = await ack.stop();
  const lost = (await ack.verify()).length;
  if (r.code !== 0) throw new Error(`kubeadm upgrade apply failed (${String(r.code)}): ${r.out.slice(-3000)}`);
  return { wallMs, report, writes, lost, windows: new Map() };
}

function line(name: string, f: Figures): string {
  return `${name.padEnd(9)} wall ${(f.wallMs / 1000).toFixed(1).padStart(6)} s   prober ${String(f.report.total).padStart(5)} requests, ${String(f.report.failures).padStart(3)} failed, longest gap ${(f.report.longestGap.ms / 1000).toFixed(2)} s   writes ${f.writes.acked} acknowledged, ${f.writes.failed} failed, ${f.lost} lost`;
}

const ratio = (a: number, b: number): string => (b === 0 ? (a === 0 ? '0 / 0' : `${a} / 0`) : (a / b).toFixed(2));

async function main(): Promise<void> {
  make('build');
  make('image');
  const s = await viaSelfhost();
  const k = await viaKubeadm();
  console.log(`\n== selfhost bench-upgrade: ${FROM} → ${TO}, single control-plane node, 2 cores ==`);
  console.log(line('selfhost', s));
  console.log(line('kubeadm', k));
  console.log('selfhost per step    window    prober failures  longest gap  failures by kind');
  for (const [component, w] of s.windows) {
    if (w.start === undefined || w.end === undefined) continue;
    const g = gapIn(s.report.samples, w.start, w.end);
    console.log(`  ${component.padEnd(24)} ${((w.end - w.start) / 1000).toFixed(1).padStart(5)} s  ${String(g.failures).padStart(15)}  ${(g.longestMs / 1000).toFixed(2).padStart(9)} s  ${g.errors}`);
  }
  console.log(`ratio selfhost / kubeadm: API longest gap ${ratio(s.report.longestGap.ms, k.report.longestGap.ms)}, prober failures ${ratio(s.report.failures, k.report.failures)}, failed writes ${ratio(s.writes.failed, k.writes.failed)}, wall time ${ratio(s.wallMs, k.wallMs)}`);
  await runNodeScript('down');
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
