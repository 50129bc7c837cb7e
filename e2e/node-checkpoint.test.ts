import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { load } from 'js-yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorld, type World } from '../test/support/world.js';
import { waitFor as poll } from '../test/support/wait.js';
import { askService, clients, echoWorkload, nodeVersion, REPO, runNodeScript, STATE, type Clients } from './node.js';
import { freshNodeForSelfhost, kubectl, logTail, make, readControlPlane, startAckWriter, superviseOperator, type SupervisedOperator } from './pivot.js';
import { startProber, summarize } from '../test/support/prober.js';

/**
 * Checkpoints on a real pivoted node (make e2e; issue "survive cold reboots and lost pods"):
 * three cold reboots in a row, a kubelet-only restart, a self-hosted workload deleted by hand, and
 * an etcd template change rolled through etcd's checkpoint, and a bad-flag rollout that must not
 * become the checkpoint, followed by a reboot that comes back on the good one. After each: the API answers, the ControlPlane is Ready with every checkpoint saved
 * and standing by, the world snapshot is intact and a Service answers.
 */
const SAMPLE = path.join(REPO, 'deploy', 'samples', 'controlplane.yaml');

interface Checkpoint {
  node: string;
  component: string;
  version?: string;
  templateHash: string;
  saved: boolean;
  active: boolean;
}

interface Status {
  phase?: string;
  version?: string;
  conditions: { type: string; status: string; reason: string; message: string }[];
  lastUpgrade?: { result: string; failedComponent?: string };
  plan?: { steps: { component: string; state: string }[] };
  checkpoints?: Checkpoint[];
}

const ready = (s: Status): boolean => s.conditions.some((x) => x.type === 'Ready' && x.status === 'True');
/** Ready, and all four checkpoints written to the node and dormant. */
const settled = (s: Status): boolean => ready(s) && (s.checkpoints ?? []).length === 4 && (s.checkpoints ?? []).every((k) => k.saved && !k.active);

describe('tier node: checkpoints bring a pivoted node back', () => {
  let c: Clients;
  let op: SupervisedOperator | undefined;
  let world: World;
  let serviceIp = '';
  const namespace = `e2e-checkpoint-${randomBytes(3).toString('hex')}`;

  async function waitStatus(what: string, ok: (s: Status) => boolean, timeoutMs: number): Promise<Status> {
    const deadline = Date.now() + timeoutMs;
    let last: Status | undefined;
    while (Date.now() < deadline) {
      last = (await readControlPlane(c.kc).catch(() => undefined)) as Status | undefined;
      if (last !== undefined && ok(last)) return last;
      await new Promise((r) => setTimeout(r, 2000));
    }
    throw new Error(`${what} not reached within ${timeoutMs / 1000} s; last status: ${JSON.stringify(last)}\noperator log:\n${logTail(op?.current().log ?? '', 60)}`);
  }

  async function expectWorking(): Promise<void> {
    await world.expectIntact();
    await poll('the echo service answering from both pods', async () => ((await askService(serviceIp, 20)).size === 2 ? true : undefined), {
      timeoutMs: 180_000,
      intervalMs: 1000,
    });
  }

  async function reboot(label: string): Promise<void> {
    await runNodeScript('reboot');
    const returned = Date.now();
    const api = Number(readFileSync(path.join(STATE, 'reboot-api-seconds'), 'utf8'));
    const pods = Number(readFileSync(path.join(STATE, 'reboot-seconds'), 'utf8'));
    await waitStatus(`${label}: Ready with every checkpoint standing by`, settled, 10 * 60_000);
    console.log(`${label}: API ${api} s after power-on, self-hosted pods Ready ${pods} s, ControlPlane Ready ~${(pods + (Date.now() - returned) / 1000).toFixed(0)} s`);
    const waited = kubectl(['wait', '--for=condition=Ready', 'controlplane/cluster', '--timeout=60s']);
    expect(waited.code, waited.out).toBe(0);
  }

  beforeAll(async () => {
    await freshNodeForSelfhost(nodeVersion());
    c = clients();
    op = await superviseOperator('checkpoint');
    const sample = load(readFileSync(SAMPLE, 'utf8')) as { spec: Record<string, unknown> };
    sample.spec['version'] = nodeVersion();
    const r = kubectl(['apply', '-f', '-'], JSON.stringify(sample));
    if (r.code !== 0) throw new Error(r.out);
    await waitStatus('the pivot, with its checkpoints', settled, 15 * 60_000);
    await c.core.createNamespace({ body: { metadata: { name: namespace } } });
    world = await createWorld(c.kc);
    const { deployment, service } = echoWorkload(namespace, 2);
    await c.apps.createNamespacedDeployment({ namespace, body: deployment });
    serviceIp = (await c.core.createNamespacedService({ namespace, body: service })).spec?.clusterIP ?? '';
    await expectWorking();
  });

  afterAll(async () => {
    await op?.stop();
    await runNodeScript('down');
    await runNodeScript('up', [nodeVersion()]);
  });

  it('comes back from three cold reboots in a row, with nobody touching the node', async () => {
    for (const round of [1, 2, 3]) {
      await reboot(`reboot ${round}/3`);
      await expectWorking();
    }
  });

  it('a kubelet-only restart (containers keep running) changes nothing', async () => {
    const ids = (): string =>
      kubectl(['-n', 'kube-system', 'get', 'pods', '-l', 'selfhost.dev/component', '-o', 'jsonpath={range .items[*]}{.metadata.name}={.status.containerStatuses[0].containerID}{"\\n"}{end}']).out;
    const before = ids();
    const pid = readFileSync(path.join(STATE, 'kubelet.pid'), 'utf8').trim();
    process.kill(Number(pid), 'SIGKILL'); // the tier's kubelet supervisor starts it again
    await poll('a new kubelet', async () => (readFileSync(path.join(STATE, 'kubelet.pid'), 'utf8').trim() !== pid ? true : undefined), { timeoutMs: 60_000, intervalMs: 500 });
    await new Promise((r) => setTimeout(r, 20_000));
    const after = await waitStatus('Ready after the kubelet restart', settled, 5 * 60_000);
    expect(after.checkpoints?.some((k) => k.active)).toBe(false);
    expect(ids()).toBe(before);
    await expectWorking();
  });

  it('a self-hosted scheduler deleted by hand comes back: its checkpoint schedules the replacement', async () => {
    const del = kubectl(['-n', 'kube-system', 'delete', 'deployment', 'selfhost-kube-scheduler', '--wait=false']);
    expect(del.code, del.out).toBe(0);
    const activated = await waitStatus('the scheduler checkpoint active', (s) => (s.checkpoints ?? []).some((k) => k.component === 'kube-scheduler' && k.active), 3 * 60_000);
    expect(activated.checkpoints?.find((k) => k.component === 'kube-scheduler')?.active).toBe(true);
    await waitStatus('Ready again, the checkpoint standing by', settled, 5 * 60_000);
    const pods = kubectl(['-n', 'kube-system', 'get', 'pods', '-l', 'selfhost.dev/component=kube-scheduler', '-o', 'jsonpath={.items[*].status.phase}']);
    expect(pods.out.trim()).toBe('Running');
    await expectWorking();
  });

  it("rolls an etcd template change through etcd's checkpoint, losing no acknowledged write", async () => {
    const patch = (spec: Record<string, unknown>): void => {
      const r = kubectl(['patch', 'controlplane', 'cluster', '--type=merge', '-p', JSON.stringify({ spec })]);
      if (r.code !== 0) throw new Error(r.out);
    };
    const etcdCommand = (): string => kubectl(['-n', 'kube-system', 'get', 'pods', '-l', 'selfhost.dev/component=etcd', '-o', 'jsonpath={.items[*].spec.containers[0].command}']).out;
    const ack = await startAckWriter(c.kc, namespace);
    const prober = await startProber(c.kc, { hz: 10 });
    const started = Date.now();
    patch({ overrides: { etcd: { extraArgs: [{ name: 'snapshot-count', value: '10001' }] } } });
    const done = await waitStatus('the etcd rollout Succeeded', (s) => s.lastUpgrade?.result === 'Succeeded' && settled(s) && etcdCommand().includes('--snapshot-count=10001'), 10 * 60_000);
    const report = await prober.stop();
    const writes = await ack.stop();
    console.log(`etcd rollout through its checkpoint: ${((Date.now() - started) / 1000).toFixed(1)} s; ${summarize(report)}; acknowledged writes ${writes.acked}, failed ${writes.failed}`);
    expect(done.checkpoints?.find((k) => k.component === 'etcd')?.saved).toBe(true);
    expect(readFileSync('/etc/kubernetes/manifests/selfhost-checkpoint-etcd.yaml', 'utf8')).toContain('--snapshot-count=10001');
    expect(await ack.verify()).toEqual([]);
    patch({ overrides: { etcd: null } });
    await waitStatus('etcd back to its own flags', (s) => settled(s) && !etcdCommand().includes('--snapshot-count=10001'), 10 * 60_000);
    await expectWorking();
  });

  it('a reboot between two upgrade steps: the upgrade resumes and finishes', async () => {
    const to = process.env.SELFHOST_UPGRADE_FROM ?? 'v1.37.1'; // the other patch of the test bed (a patch down)
    make('load-images', { VERSION: to });
    const patch = kubectl(['patch', 'controlplane', 'cluster', '--type=merge', '-p', JSON.stringify({ spec: { version: to } })]);
    expect(patch.code, patch.out).toBe(0);
    // Down goes in reverse skew order: kube-proxy, scheduler, controller-manager, apiserver.
    const mid = await waitStatus('two steps done', (s) => (s.plan?.steps ?? []).filter((x) => x.state === 'Succeeded').length >= 2, 10 * 60_000);
    console.log(`reboot between steps: ${(mid.plan?.steps ?? []).map((x) => `${x.component} ${x.state}`).join(', ')}`);
    await runNodeScript('reboot');
    const done = await waitStatus(`Ready at ${to} after the reboot`, (s) => settled(s) && s.version === to && s.lastUpgrade?.result === 'Succeeded', 15 * 60_000);
    expect(done.plan?.steps.every((x) => x.state === 'Succeeded')).toBe(true);
    expect(done.checkpoints?.filter((k) => k.component !== 'etcd').every((k) => k.version === to)).toBe(true);
    await expectWorking();
  });

  it('a bad-flag apiserver rollout never becomes the checkpoint; a reboot comes back on the good one', async () => {
    const good = (await waitStatus('settled', settled, 60_000)).checkpoints?.find((k) => k.component === 'kube-apiserver');
    const patch = (spec: Record<string, unknown>): void => {
      const r = kubectl(['patch', 'controlplane', 'cluster', '--type=merge', '-p', JSON.stringify({ spec })]);
      if (r.code !== 0) throw new Error(r.out);
    };
    patch({ overrides: { 'kube-apiserver': { extraArgs: [{ name: 'audit-log-maxage', value: '30' }, { name: 'selfhost-e2e-no-such-flag', value: 'x' }] } } });
    const rolledBack = await waitStatus('RolledBack', (s) => s.lastUpgrade?.result === 'RolledBack', 10 * 60_000);
    expect(rolledBack.lastUpgrade?.failedComponent).toBe('kube-apiserver');
    const kept = rolledBack.checkpoints?.find((k) => k.component === 'kube-apiserver');
    expect(kept?.templateHash).toBe(good?.templateHash);
    const file = readFileSync('/etc/kubernetes/manifests/selfhost-checkpoint-kube-apiserver.yaml', 'utf8');
    expect(file).not.toContain('selfhost-e2e-no-such-flag');
    // The failed target stays in the spec (the operator does not retry it): reboot now.
    await runNodeScript('reboot');
    await waitStatus('back after the reboot, still rolled back', (s) => s.lastUpgrade?.result === 'RolledBack' && (s.checkpoints ?? []).every((k) => k.saved && !k.active), 10 * 60_000);
    const spec = kubectl(['-n', 'kube-system', 'get', 'daemonset', 'selfhost-kube-apiserver', '-o', 'jsonpath={.spec.template.spec.containers[0].command}']);
    expect(spec.out).not.toContain('selfhost-e2e-no-such-flag');
    patch({ overrides: { 'kube-apiserver': { extraArgs: [{ name: 'audit-log-maxage', value: '30' }] } } });
    await waitStatus('Ready after the edit is undone', settled, 5 * 60_000);
    await expectWorking();
  });
});
