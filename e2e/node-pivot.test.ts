import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProber, summarize } from '../test/support/prober.js';
import { createWorld } from '../test/support/world.js';
import { askService, clients, nodeVersion, REPO, runNodeScript, startEchoService, type Clients } from './node.js';
import {
  applyDeploy,
  isReadyView,
  kubectl,
  logTail,
  make,
  readControlPlane,
  startAckWriter,
  superviseOperator,
  type SupervisedOperator,
} from './pivot.js';

/**
 * The thesis on a real kubeadm node: apply the README's ControlPlane and end with all six
 * components self-hosted, nothing lost and the API kept up; then three fresh pivots with the
 * operator SIGKILLed at random points, each converging.
 */
const MANIFESTS = '/etc/kubernetes/manifests';
const BACKUPS = '/etc/kubernetes/selfhost/backup';
const SAMPLE = path.join(REPO, 'deploy', 'samples', 'controlplane.yaml');
const CONTROL_PLANE_FILES = ['etcd.yaml', 'kube-apiserver.yaml', 'kube-controller-manager.yaml', 'kube-scheduler.yaml'];
const WORKLOADS = [
  'daemonset/selfhost-etcd',
  'daemonset/selfhost-kube-apiserver',
  'deployment/selfhost-kube-controller-manager',
  'deployment/selfhost-kube-scheduler',
  'daemonset/kube-proxy',
  'daemonset/selfhost-cni',
];

/** A fresh static-pod cluster: down, up, selfhost image imported, CRD and RBAC applied. */
async function freshCluster(): Promise<void> {
  await runNodeScript('down');
  await runNodeScript('up', [nodeVersion()]);
  make('load-selfhost-image');
  applyDeploy();
}

/**
 * Ready=True on controlplane/cluster (polled: the API is briefly down during the pivot, and
 * `kubectl wait` gives up on the first refused connection). Then `kubectl wait` confirms it the
 * way a user would.
 */
async function waitReady(c: Clients, timeoutMs = 15 * 60_000): Promise<{ code: number; out: string }> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (isReadyView(await readControlPlane(c.kc))) {
      return kubectl(['wait', '--for=condition=Ready', 'controlplane/cluster', '--timeout=60s']);
    }
    await new Promise((r) => setTimeout(r, 2000));
  }
  return { code: 1, out: `controlplane/cluster not Ready within ${timeoutMs / 1000} s: ${JSON.stringify(await readControlPlane(c.kc))}` };
}

function staticLeft(): string[] {
  return existsSync(MANIFESTS) ? readdirSync(MANIFESTS).filter((f) => CONTROL_PLANE_FILES.includes(f)) : [];
}

describe('tier node: the pivot', () => {
  let c: Clients;
  let op: SupervisedOperator | undefined;
  /** Every supervisor started, so a failing test never leaves one restarting operators. */
  const supervisors: SupervisedOperator[] = [];
  const supervise = async (tag: string): Promise<SupervisedOperator> => {
    const s = await superviseOperator(tag);
    supervisors.push(s);
    return s;
  };

  beforeAll(async () => {
    make('build');
    make('image');
    await freshCluster();
    c = clients();
  });

  afterAll(async () => {
    for (const s of supervisors) await s.stop();
    // Later e2e files expect a static-pod cluster (reboot survival of a pivoted node is a later issue).
    await freshCluster();
  });

  it('self-hosts all six components with the API up and nothing lost', async () => {
    const namespace = `e2e-pivot-${randomBytes(3).toString('hex')}`;
    const world = await createWorld(c.kc);
    const ip = await startEchoService(c, namespace);

    const ack = await startAckWriter(c.kc, namespace);
    const prober = await startProber(c.kc, { hz: 10 });
    const started = Date.now();
    op = await supervise('pivot');
    const applied = kubectl(['apply', '-f', SAMPLE]);
    expect(applied.code, applied.out).toBe(0);
    const waited = await waitReady(c);
    const pivotMs = Date.now() - started;
    const report = await prober.stop();
    const writes = await ack.stop();
    expect(waited.code, `${waited.out}\noperator log:\n${logTail(op.current().log)}`).toBe(0);
    console.log(`pivot: ${(pivotMs / 1000).toFixed(1)} s; ${summarize(report)}; acknowledged writes ${writes.acked}, failed ${writes.failed}; operator restarts (lease lost while the API was down) ${op.restarts()}`);

    // Nothing static left, every original backed up.
    expect(staticLeft()).toEqual([]);
    expect(readdirSync(BACKUPS).sort()).toEqual(CONTROL_PLANE_FILES);

    // Every workload exists and is rolled out.
    // `kubectl rollout status` refuses OnDelete DaemonSets (etcd): compare the status counters.
    for (const w of WORKLOADS) {
      const r = kubectl(['-n', 'kube-system', 'get', w, '-o', 'jsonpath={.status.updatedNumberScheduled}{.status.updatedReplicas}/{.status.numberReady}{.status.readyReplicas}/{.status.desiredNumberScheduled}{.spec.replicas}']);
      expect(r.code, `${w}: ${r.out}`).toBe(0);
      const [updated, ready, desired] = r.out.trim().split('/');
      expect({ w, updated, ready }).toEqual({ w, updated: desired, ready: desired });
    }
    // No static control-plane pod is left; the only static pods are selfhost's dormant checkpoints.
    const mirrors = (await c.core.listNamespacedPod({ namespace: 'kube-system' })).items.filter(
      (p) => p.metadata?.annotations?.['kubernetes.io/config.mirror'] !== undefined && p.metadata.labels?.['selfhost.dev/checkpoint-of'] === undefined,
    );
    expect(mirrors.map((p) => p.metadata?.name)).toEqual([]);

    // kubectl get cp shows it.
    const table = kubectl(['get', 'controlplane', 'cluster', '--no-headers']);
    expect(table.out).toMatch(/SelfHosted/);
    expect(table.out).toMatch(/True/);

    // The cluster still works and nothing was lost.
    expect((await askService(ip, 20)).size).toBe(2);
    await world.expectIntact();
    expect(await ack.verify()).toEqual([]);
    const cp = await readControlPlane(c.kc);
    expect(cp?.phase).toBe('SelfHosted');
    for (const s of cp?.plan?.steps ?? []) console.log(`  ${s.component}: ${s.state} ${s.startedAt ?? ''} → ${s.finishedAt ?? ''}`);

    await world.cleanup();
    await c.core.deleteNamespace({ name: namespace });
  });

  it('writes nothing when there is nothing to do', async () => {
    if (op === undefined) throw new Error('no operator from the previous test');
    const writes = async (): Promise<number> => {
      const res = await fetch(`http://127.0.0.1:${op?.current().metricsPort ?? 0}/metrics`);
      const text = await res.text();
      return text
        .split('\n')
        .filter((l) => l.startsWith('selfhost_apiserver_requests_total{') && !/verb="get"/.test(l))
        .reduce((sum, l) => sum + Number(l.split(' ').pop() ?? '0'), 0);
    };
    // Let stragglers (event series, the last status) settle, then count over a quiet period that
    // includes a reconcile triggered by re-applying the same ControlPlane.
    await new Promise((r) => setTimeout(r, 15_000));
    const before = await writes();
    const reapplied = kubectl(['apply', '-f', SAMPLE]);
    expect(reapplied.code, reapplied.out).toBe(0);
    kubectl(['annotate', 'controlplane', 'cluster', `e2e/touch=${Date.now()}`, '--overwrite']);
    await new Promise((r) => setTimeout(r, 20_000));
    expect(await writes()).toBe(before);
  });

  it('converges in 3 fresh pivots with the operator SIGKILLed at random points', async () => {
    if (op !== undefined) await op.stop();
    op = undefined;
    for (let round = 1; round <= 3; round++) {
      await freshCluster();
      // A fresh cluster has a fresh CA and admin certificate: clients of the old one would fail
      // TLS forever (and a "not Ready" that is really "cannot connect" would hide it).
      const rc = clients();
      const sup = await supervise(`kill-${round}`);
      expect(kubectl(['apply', '-f', SAMPLE]).code).toBe(0);
      const kills: number[] = [];
      for (let k = 0; k < 4; k++) {
        const at = 3_000 + Math.floor(Math.random() * 40_000);
        await new Promise((r) => setTimeout(r, at));
        if (isReadyView(await readControlPlane(rc.kc))) break;
        await sup.kill();
        kills.push(at);
      }
      const waited = await waitReady(rc);
      expect(waited.code, `round ${round}: ${waited.out}\n${logTail(sup.current().log)}`).toBe(0);
      expect(staticLeft()).toEqual([]);
      console.log(`kill round ${round}: SIGKILL after ${kills.map((k) => `${(k / 1000).toFixed(1)} s`).join(', ') || '(converged first)'}; restarts ${sup.restarts()}`);
      await sup.stop();
    }
  }, 45 * 60_000);
});
