import { createHash, randomBytes } from 'node:crypto';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { load } from 'js-yaml';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProber, summarize } from '../test/support/prober.js';
import { createWorld } from '../test/support/world.js';
import { waitFor } from '../test/support/wait.js';
import { askService, clients, REPO, runNodeScript, startEchoService, STATE, type Clients } from './node.js';
import {
  freshNodeForSelfhost,
  kubectl,
  logTail,
  startAckWriter,
  superviseOperator,
  waitControlPlane,
  type ControlPlaneView,
  type SupervisedOperator,
} from './pivot.js';
import { expectNothingOfSelfhostLeft } from './unpivot.js';

/**
 * The golden path `make test` runs, as a user would: a kubeadm cluster at the previous patch,
 * `kubectl apply` the sample ControlPlane (pivot), then one edit of spec.version (a patch upgrade),
 * then a cold reboot of the pivoted node (`make node-reboot`), then the unpivot (one edit of
 * spec.mode), `kubectl wait --for=condition=Ready` after each. Throughout: the /readyz prober, a client whose
 * acknowledged writes must all survive, a world snapshot, and a Service that must keep answering.
 */
const FROM = process.env.SELFHOST_UPGRADE_FROM ?? 'v1.37.1';
const TO = process.env.SELFHOST_UPGRADE_TO ?? 'v1.37.2';
const SAMPLE = path.join(REPO, 'deploy', 'samples', 'controlplane.yaml');

interface CpFull extends ControlPlaneView {
  version?: string;
  lastUpgrade?: {
    fromVersion?: string;
    toVersion: string;
    result: string;
    startedAt: string;
    finishedAt?: string;
    snapshot?: { node: string; path: string; size: number; sha256: string; revision: number; keys: number; time: string };
  };
  checkpoints?: CheckpointView[];
  plan?: { operation?: string; steps: { component: string; action?: string; fromVersion?: string; toVersion?: string; state: string; startedAt?: string; finishedAt?: string }[] };
}

function waitCondition(c: Clients, what: string, ok: (v: CpFull) => boolean, timeoutMs: number): Promise<CpFull> {
  return waitControlPlane(c.kc, what, ok, timeoutMs);
}

const isReady = (v: CpFull): boolean => v.conditions.some((c) => c.type === 'Ready' && c.status === 'True');
/** The four checkpoints are reported and each passes `ok`. */
const hasCheckpoints = (v: CpFull, ok: (k: CheckpointView) => boolean): boolean => (v.checkpoints ?? []).length === 4 && (v.checkpoints ?? []).every(ok);

interface CheckpointView {
  node: string;
  component: string;
  version?: string;
  saved: boolean;
  active: boolean;
}

describe('tier node: golden path (pivot, a patch upgrade by editing spec.version, a cold reboot, the unpivot)', () => {
  let c: Clients;
  let op: SupervisedOperator | undefined;

  beforeAll(async () => {
    await freshNodeForSelfhost(FROM, { imagesOf: TO });
    c = clients();
  });

  afterAll(async () => {
    await op?.stop();
    // No fresh node afterwards: this file always runs last (e2e/file-order.ts), and the global
    // teardown stops the node. The unpivot leaves the kubelet at FROM.
  });

  it(`pivots at ${FROM}, upgrades to ${TO} with one edit, survives a cold reboot, unpivots to kubeadm's static pods at ${TO}, loses nothing`, { timeout: 25 * 60_000 }, async () => {
    const namespace = `e2e-golden-${randomBytes(3).toString('hex')}`;
    const world = await createWorld(c.kc);
    const ip = await startEchoService(c, namespace);

    // 1. The pivot, at the version the cluster runs.
    op = await superviseOperator('golden');
    const sample = kubectl(['apply', '-f', '-'], readSample(FROM));
    expect(sample.code, sample.out).toBe(0);
    const pivotStart = Date.now();
    const pivoted = await waitCondition(c, `Ready at ${FROM}`, (v) => isReady(v) && v.phase === 'SelfHosted', 15 * 60_000).catch((err: unknown) => {
      throw new Error(`${String(err)}\noperator log:\n${logTail(op?.current().log ?? '')}`, { cause: err });
    });
    console.log(`golden: pivot ${((Date.now() - pivotStart) / 1000).toFixed(1)} s; operator restarts ${op.restarts()}`);
    expect(pivoted.version).toBe(FROM);
    expect((await askService(ip, 20)).size).toBe(2);

    // 2. The upgrade: one edit of spec.version, as a user makes it.
    const ack = await startAckWriter(c.kc, namespace);
    const prober = await startProber(c.kc, { hz: 10 });
    const upgradeStart = Date.now();
    const edit = kubectl(['patch', 'controlplane', 'cluster', '--type=merge', '-p', JSON.stringify({ spec: { version: TO } })]);
    expect(edit.code, edit.out).toBe(0);
    const seenUpgrading = await waitCondition(c, 'phase Upgrading', (v) => v.phase === 'Upgrading' || (isReady(v) && v.version === TO), 120_000);
    const done = await waitCondition(c, `Ready at ${TO}`, (v) => isReady(v) && v.version === TO && v.lastUpgrade?.result === 'Succeeded', 15 * 60_000).catch(
      (err: unknown) => {
        throw new Error(`${String(err)}\noperator log:\n${logTail(op?.current().log ?? '', 80)}`, { cause: err });
      },
    );
    const upgradeMs = Date.now() - upgradeStart;
    const report = await prober.stop();
    const writes = await ack.stop();
    console.log(`golden: upgrade ${FROM} → ${TO} ${(upgradeMs / 1000).toFixed(1)} s; ${summarize(report)}; acknowledged writes ${writes.acked}, failed ${writes.failed}`);
    for (const s of done.plan?.steps ?? []) console.log(`  ${s.component}: ${s.state} ${s.startedAt ?? ''} → ${s.finishedAt ?? ''}`);

    // What the user sees: the plan, the phase on the way, Ready, the server's version.
    expect(seenUpgrading.phase === 'Upgrading' || seenUpgrading.version === TO).toBe(true);
    expect(done.plan?.operation).toBe('Upgrade');
    expect(done.plan?.steps.map((s) => `${s.component} ${s.action ?? ''} ${s.fromVersion ?? ''}→${s.toVersion ?? ''} ${s.state}`)).toEqual(
      ['etcd Snapshot → Succeeded', ...['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kube-proxy'].map((c) => `${c} Upgrade ${FROM}→${TO} Succeeded`)],
    );
    expect(done.lastUpgrade).toMatchObject({ fromVersion: FROM, toVersion: TO, result: 'Succeeded' });
    // The verified etcd snapshot taken before the first step is on the node's disk (this host),
    // whole: its size and sha256 as recorded, and etcd's integrity trailer (sha256 of the db) holds.
    const snap = done.lastUpgrade?.snapshot;
    const snapStep = done.plan?.steps.find((s) => s.action === 'Snapshot');
    console.log(
      `golden: etcd snapshot ${snap?.size ?? '?'} bytes, revision ${snap?.revision ?? '?'}, ${snap?.keys ?? '?'} keys, ` +
        `step ${snapStep?.startedAt ?? '?'} → ${snapStep?.finishedAt ?? '?'}`,
    );
    expect(snap?.revision).toBeGreaterThan(0);
    expect(snap?.keys).toBeGreaterThan(0);
    const bytes = readFileSync(snap?.path ?? '/nonexistent');
    expect(bytes.length).toBe(snap?.size);
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(snap?.sha256);
    const db = bytes.subarray(0, bytes.length - 32);
    expect(createHash('sha256').update(db).digest('hex')).toBe(bytes.subarray(bytes.length - 32).toString('hex'));
    expect((statSync(snap?.path ?? '/nonexistent').mode & 0o777).toString(8)).toBe('600');
    // Disaster recovery works: restored into a scratch etcd (docs/etcd-snapshot.md), it holds this test's namespace.
    expect(await readFromRestoredSnapshot(snap?.path ?? '', `/registry/namespaces/${namespace}`)).toBe(true);
    const waited = kubectl(['wait', '--for=condition=Ready', 'controlplane/cluster', '--timeout=60s']);
    expect(waited.code, waited.out).toBe(0);
    const version = kubectl(['version', '-o', 'json']);
    expect(JSON.parse(version.out.slice(version.out.indexOf('{'))) as { serverVersion?: { gitVersion?: string } }).toMatchObject({
      serverVersion: { gitVersion: TO },
    });
    // (the checkpoints follow the proven revisions a moment later: checked before the reboot below)
    const images = kubectl(['-n', 'kube-system', 'get', 'pods', '-l', '!selfhost.dev/checkpoint-of', '-o', 'jsonpath={range .items[*]}{.spec.containers[0].image}{"\\n"}{end}']);
    for (const component of ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kube-proxy']) {
      const tags = images.out.split('\n').filter((l) => l.includes(`/${component}:`));
      expect({ component, tags: [...new Set(tags.map((t) => t.split(':').pop()))] }).toEqual({ component, tags: [TO] });
    }

    // Nothing lost, nothing broken.
    expect(await ack.verify()).toEqual([]);
    await world.expectIntact();
    expect((await askService(ip, 20)).size).toBe(2);

    // 3. A cold reboot of the pivoted node: nothing that needs the API runs after power-on, so the
    // node-local checkpoints of the last known good pods must bring the control plane back, then
    // hand over to the self-hosted pods (hack/node/reboot.sh waits for those, started after boot).
    const saved = await waitCondition(c, 'every checkpoint saved on the node', (v) => hasCheckpoints(v, (k) => k.saved && !k.active), 120_000);
    expect(saved.checkpoints?.map((k) => `${k.component} ${k.version ?? ''}`)).toEqual([
      expect.stringMatching(/^etcd 3\./),
      `kube-apiserver ${TO}`,
      `kube-controller-manager ${TO}`,
      `kube-scheduler ${TO}`,
    ]);
    await runNodeScript('reboot');
    const rebootReturned = Date.now();
    const apiSeconds = Number(readFileSync(path.join(STATE, 'reboot-api-seconds'), 'utf8'));
    const podsSeconds = Number(readFileSync(path.join(STATE, 'reboot-seconds'), 'utf8'));
    const afterBoot = await waitCondition(c, 'Ready after the reboot, every checkpoint standing by', (v) => isReady(v) && hasCheckpoints(v, (k) => k.saved && !k.active), 10 * 60_000).catch(
      (err: unknown) => {
        throw new Error(`${String(err)}\noperator log:\n${logTail(op?.current().log ?? '', 80)}`, { cause: err });
      },
    );
    // reboot.sh returns right after the pods are Ready (podsSeconds after power-on).
    const readySeconds = podsSeconds + (Date.now() - rebootReturned) / 1000;
    console.log(`golden: reboot of the pivoted node: API after ${apiSeconds} s, self-hosted pods Ready after ${podsSeconds} s, ControlPlane Ready after ~${readySeconds.toFixed(0)} s from power-on`);
    expect(afterBoot.version).toBe(TO);
    const rebooted = kubectl(['wait', '--for=condition=Ready', 'controlplane/cluster', '--timeout=60s']);
    expect(rebooted.code, rebooted.out).toBe(0);
    await world.expectIntact();
    await waitFor('the echo service answering from both pods after the reboot', async () => ((await askService(ip, 20)).size === 2 ? true : undefined), {
      timeoutMs: 180_000,
      intervalMs: 1000,
    });

    // 4. The unpivot: one edit of spec.mode hands the control plane back to kubeadm's static pods
    // at the version that runs now (the upgraded one), and selfhost leaves nothing behind.
    const ack2 = await startAckWriter(c.kc, namespace, 'acked-writes-unpivot');
    const prober2 = await startProber(c.kc, { hz: 10 });
    const unpivotStart = Date.now();
    const back = kubectl(['patch', 'controlplane', 'cluster', '--type=merge', '-p', JSON.stringify({ spec: { mode: 'StaticPods' } })]);
    expect(back.code, back.out).toBe(0);
    const unpivoted = await waitCondition(c, 'phase StaticPods and Ready', (v) => v.phase === 'StaticPods' && isReady(v), 15 * 60_000).catch((err: unknown) => {
      throw new Error(`${String(err)}\noperator log:\n${logTail(op?.current().log ?? '', 80)}`, { cause: err });
    });
    const unpivotMs = Date.now() - unpivotStart;
    const report2 = await prober2.stop();
    const writes2 = await ack2.stop();
    console.log(`golden: unpivot ${(unpivotMs / 1000).toFixed(1)} s; ${summarize(report2)}; acknowledged writes ${writes2.acked}, failed ${writes2.failed}`);
    for (const s of unpivoted.plan?.steps ?? []) console.log(`  ${s.component}: ${s.state} ${s.startedAt ?? ''} → ${s.finishedAt ?? ''}`);
    expect(unpivoted.plan?.steps.map((s) => `${s.action ?? ''} ${s.component} ${s.state}`)).toEqual(
      ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler'].map((x) => `Unpivot ${x} Succeeded`),
    );
    const waitedStatic = kubectl(['wait', '--for=condition=Ready', 'controlplane/cluster', '--timeout=60s']);
    expect(waitedStatic.code, waitedStatic.out).toBe(0);
    // kubeadm's static pods at the upgraded version run the control plane; nothing of selfhost is left.
    expectNothingOfSelfhostLeft(TO);
    const kubeadmConfig = kubectl(['-n', 'kube-system', 'get', 'configmap', 'kubeadm-config', '-o', 'jsonpath={.data.ClusterConfiguration}']);
    expect(kubeadmConfig.out).toMatch(new RegExp(`kubernetesVersion: ${TO.replaceAll('.', '\\.')}`));
    expect(await ack2.verify()).toEqual([]);
    await world.expectIntact();
    expect((await askService(ip, 20)).size).toBe(2);
    await world.cleanup();
    await c.core.deleteNamespace({ name: namespace });
  });
});

/** The README's sample ControlPlane, at the version the cluster runs. */
function readSample(version: string): string {
  const obj = load(readFileSync(SAMPLE, 'utf8')) as { spec: Record<string, unknown> };
  obj.spec['version'] = version;
  return JSON.stringify(obj);
}

/**
 * Restores a snapshot file with etcdutl into a temp dir, starts a scratch etcd on loopback ports of
 * its own (never 2379/2380: the node's etcd has them), and says whether `key` is there. The scratch
 * etcd is stopped by its PID.
 */
async function readFromRestoredSnapshot(file: string, key: string): Promise<boolean> {
  const bin = path.join(process.env.SELFHOST_CACHE ?? path.join(process.env.HOME ?? '/root', '.cache', 'selfhost'), 'etcd', '3.7.0', 'bin');
  const dir = mkdtempSync(path.join(tmpdir(), 'selfhost-restore-'));
  try {
    const restored = spawnSync(path.join(bin, 'etcdutl'), ['snapshot', 'restore', file, `--data-dir=${path.join(dir, 'data')}`], { encoding: 'utf8' });
    if (restored.status !== 0) throw new Error(`etcdutl snapshot restore: ${restored.stdout}${restored.stderr}`);
    const client = `http://127.0.0.1:${String(23_000 + Math.floor(Math.random() * 500) * 2)}`;
    const peer = client.replace(/:(\d+)$/, (_m, p: string) => `:${String(Number(p) + 1)}`);
    const etcd = spawn(path.join(bin, 'etcd'), [`--data-dir=${path.join(dir, 'data')}`, `--listen-client-urls=${client}`, `--advertise-client-urls=${client}`, `--listen-peer-urls=${peer}`], { stdio: 'ignore' });
    try {
      const deadline = Date.now() + 30_000;
      while (Date.now() < deadline) {
        const got = spawnSync(path.join(bin, 'etcdctl'), [`--endpoints=${client}`, 'get', key, '--keys-only'], { encoding: 'utf8', timeout: 5000 });
        if (got.status === 0) return got.stdout.trim() === key;
        await new Promise((r) => setTimeout(r, 500));
      }
      throw new Error('the scratch etcd did not answer within 30 s');
    } finally {
      etcd.kill('SIGTERM');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
