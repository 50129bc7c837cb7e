import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { load } from 'js-yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { V1Pod } from '@kubernetes/client-node';
import { startProber, summarize } from '../test/support/prober.js';
import { createWorld } from '../test/support/world.js';
import { waitFor } from '../test/support/wait.js';
import { clients, k8sBin, nodeVersion, podIsReady, REPO, runCommand, runNodeScript, startEchoService, waitForBothEchoPods, type Clients } from './node.js';
import { freshNodeForSelfhost, kubectl, logTail, make, readControlPlane, startAckWriter, superviseOperator, type ControlPlaneView, type SupervisedOperator } from './pivot.js';
import { expectNothingOfSelfhostLeft, STATIC_COMPONENTS } from './unpivot.js';

/**
 * The unpivot on tier node (issue "Undo the pivot"): pivot → unpivot → pivot → unpivot of one
 * kubeadm node, each under the /readyz prober, with a client whose acknowledged writes must all
 * survive, a world snapshot and a Service that must keep answering; after each unpivot nothing of
 * selfhost is left but what docs/design.md lists. Before the second unpivot the ControlPlane object
 * is deleted and re-created: nothing stops meanwhile, and the operator re-adopts what runs. Then
 * kubeadm takes over for real: `kubeadm upgrade plan` is happy and `kubeadm upgrade apply` moves the
 * node to the test bed's other patch.
 */
const FROM = process.env.SELFHOST_UPGRADE_FROM ?? 'v1.37.1';
const TO = process.env.SELFHOST_UPGRADE_TO ?? 'v1.37.2';
const SAMPLE = path.join(REPO, 'deploy', 'samples', 'controlplane.yaml');

interface View extends ControlPlaneView {
  version?: string;
  plan?: { operation?: string; steps: { component: string; action?: string; state: string }[] };
  checkpoints?: { component: string; saved: boolean; active: boolean }[];
}

const isReady = (v: View): boolean => v.conditions.some((c) => c.type === 'Ready' && c.status === 'True');

async function waitPhase(c: Clients, phase: string, op: SupervisedOperator, timeoutMs = 15 * 60_000): Promise<View> {
  const deadline = Date.now() + timeoutMs;
  let last: View | undefined;
  while (Date.now() < deadline) {
    last = (await readControlPlane(c.kc).catch(() => undefined)) as View | undefined;
    if (last !== undefined && last.phase === phase && isReady(last)) return last;
    await new Promise((r) => setTimeout(r, 2000));
  }
  throw new Error(`phase ${phase} and Ready not reached; last: ${JSON.stringify(last)}\noperator log:\n${logTail(op.current().log, 80)}`);
}

/** What the pivot runs: kube-system's selfhost-* DaemonSets and Deployments (the agent and the CNI too), kube-proxy, and their pods. */
interface Running {
  workloads: { key: string; uid: string; generation: number }[];
  pods: { name: string; uid: string; owner: string }[];
}

const SYSTEM = 'kube-system';
const isOurs = (name: string | undefined): boolean => name !== undefined && (name.startsWith('selfhost-') || name === 'kube-proxy');

async function readRunning(c: Clients): Promise<{ running: Running; live: { workloads: Map<string, { uid: string; generation: number; deleting: boolean }>; pods: V1Pod[] } }> {
  const [ds, deploys, rs, pods] = await Promise.all([
    c.apps.listNamespacedDaemonSet({ namespace: SYSTEM }),
    c.apps.listNamespacedDeployment({ namespace: SYSTEM }),
    c.apps.listNamespacedReplicaSet({ namespace: SYSTEM }),
    c.core.listNamespacedPod({ namespace: SYSTEM }),
  ]);
  const workloads = new Map<string, { uid: string; generation: number; deleting: boolean }>();
  const byUid = new Map<string, string>();
  for (const [kind, list] of [['DaemonSet', ds.items], ['Deployment', deploys.items]] as const) {
    for (const w of list) {
      const name = w.metadata?.name;
      const uid = w.metadata?.uid;
      if (!isOurs(name) || uid === undefined) continue;
      const key = `${kind}/${name ?? ''}`;
      workloads.set(key, { uid, generation: w.metadata?.generation ?? 0, deleting: w.metadata?.deletionTimestamp !== undefined });
      byUid.set(uid, key);
    }
  }
  // A Deployment's pods belong to its ReplicaSets.
  const rsOwner = new Map<string, string>();
  for (const r of rs.items) {
    const owner = r.metadata?.ownerReferences?.find((o) => o.kind === 'Deployment' && byUid.has(o.uid));
    if (owner !== undefined && r.metadata?.uid !== undefined) rsOwner.set(r.metadata.uid, owner.uid);
  }
  const ownerOf = (p: V1Pod): string | undefined => {
    for (const o of p.metadata?.ownerReferences ?? []) {
      const uid = o.kind === 'ReplicaSet' ? rsOwner.get(o.uid) : o.uid;
      const key = uid === undefined ? undefined : byUid.get(uid);
      if (key !== undefined) return key;
    }
    return undefined;
  };
  const ours = pods.items.filter((p) => ownerOf(p) !== undefined);
  return {
    running: {
      workloads: [...workloads].map(([key, w]) => ({ key, uid: w.uid, generation: w.generation })).sort((a, b) => a.key.localeCompare(b.key)),
      pods: ours.map((p) => ({ name: p.metadata?.name ?? '', uid: p.metadata?.uid ?? '', owner: ownerOf(p) ?? '' })).sort((a, b) => a.name.localeCompare(b.name)),
    },
    live: { workloads, pods: ours },
  };
}

/** What differs from `before`: a workload or pod gone, replaced (other uid), being deleted, changed, not Ready, or one more pod. */
async function runningProblems(c: Clients, before: Running): Promise<string[]> {
  const { live } = await readRunning(c);
  const problems: string[] = [];
  for (const w of before.workloads) {
    const now = live.workloads.get(w.key);
    if (now === undefined) problems.push(`${w.key} is gone`);
    else if (now.uid !== w.uid) problems.push(`${w.key} was replaced (uid ${w.uid} → ${now.uid})`);
    else if (now.deleting) problems.push(`${w.key} is being deleted`);
    else if (now.generation !== w.generation) problems.push(`${w.key} changed (generation ${w.generation} → ${now.generation})`);
  }
  for (const p of before.pods) {
    const now = live.pods.find((x) => x.metadata?.name === p.name);
    if (now === undefined) problems.push(`pod ${p.name} is gone`);
    else if (now.metadata?.uid !== p.uid) problems.push(`pod ${p.name} was replaced`);
    else if (now.metadata.deletionTimestamp !== undefined) problems.push(`pod ${p.name} is being deleted`);
    else if (!podIsReady(now)) problems.push(`pod ${p.name} is not Ready`);
  }
  for (const p of live.pods) {
    if (!before.pods.some((x) => x.uid === p.metadata?.uid)) problems.push(`a new pod ${p.metadata?.name ?? '?'}`);
  }
  return problems;
}

const MANIFESTS = '/etc/kubernetes/manifests';
const CHECKPOINT_RUN = '/run/selfhost/checkpoints';

/** The node's checkpoint files (component → content). */
function readCheckpoints(): Map<string, string> {
  const out = new Map<string, string>();
  for (const f of readdirSync(MANIFESTS)) {
    const m = /^selfhost-checkpoint-(.+)\.yaml$/.exec(f);
    if (m?.[1] !== undefined) out.set(m[1], readFileSync(path.join(MANIFESTS, f), 'utf8'));
  }
  return out;
}

/** Each checkpoint still there, unchanged, standing by (its marker there, its supervisor's state file absent: it runs nothing). */
function checkpointProblems(before: Map<string, string>): string[] {
  const now = readCheckpoints();
  const problems: string[] = [];
  for (const [component, content] of before) {
    if (now.get(component) === undefined) problems.push(`the ${component} checkpoint is gone`);
    else if (now.get(component) !== content) problems.push(`the ${component} checkpoint changed`);
    if (!existsSync(path.join(CHECKPOINT_RUN, `${component}.standby`))) problems.push(`the ${component} checkpoint has no standby marker`);
    if (existsSync(path.join(CHECKPOINT_RUN, `${component}.active`))) problems.push(`the ${component} checkpoint is active`);
  }
  for (const component of now.keys()) if (!before.has(component)) problems.push(`a new ${component} checkpoint`);
  return problems;
}

/** Error-level lines the operator wrote since `from` (its log file and offset). */
function operatorErrors(from: { log: string; offset: number }, op: SupervisedOperator): string[] {
  const logs = op.current().log === from.log ? [from] : [from, { log: op.current().log, offset: 0 }];
  return logs.flatMap(({ log, offset }) =>
    readFileSync(log).subarray(offset).toString('utf8').split('\n').filter((line) => /"level":"(error|fatal)"/.test(line)),
  );
}

/**
 * docs/design.md: deleting the ControlPlane never takes the control plane down (no owner reference
 * to it, no finalizer). Deleted on a pivoted node: for 60 s every workload and pod of the pivot stays
 * (same uid, not deleted, Ready), the checkpoints stay standing by, the API answers and the operator
 * logs no error; re-created with the same spec, it is Ready again over what runs (nothing replaced).
 */
async function deleteAndRecreateControlPlane(c: Clients, op: SupervisedOperator): Promise<void> {
  const got = kubectl(['get', 'controlplane', 'cluster', '-o', 'json']);
  expect(got.code, got.out).toBe(0);
  const old = JSON.parse(got.out) as { apiVersion: string; kind: string; metadata: { uid: string }; spec: Record<string, unknown> };
  // The checkpoints settled first (the scheduler's went when it was handed back): what the status lists is on disk, saved and dormant.
  await waitFor('the checkpoints settled', async () => {
    const v = (await readControlPlane(c.kc)) as View | undefined;
    const listed = (v?.checkpoints ?? []).filter((k) => k.saved && !k.active).map((k) => k.component).sort();
    return listed.length > 0 && listed.length === (v?.checkpoints ?? []).length && listed.join() === [...readCheckpoints().keys()].sort().join() ? true : undefined;
  }, { timeoutMs: 5 * 60_000, intervalMs: 2000 });
  const { running: before } = await readRunning(c);
  expect(before.workloads.map((w) => w.key)).toEqual(
    expect.arrayContaining(['DaemonSet/kube-proxy', 'DaemonSet/selfhost-agent', 'DaemonSet/selfhost-cni', 'DaemonSet/selfhost-etcd', 'DaemonSet/selfhost-kube-apiserver', 'Deployment/selfhost-kube-controller-manager']),
  );
  expect(await runningProblems(c, before)).toEqual([]);
  const checkpoints = readCheckpoints();
  expect([...checkpoints.keys()]).toEqual(expect.arrayContaining(['etcd', 'kube-apiserver']));
  expect(checkpointProblems(checkpoints)).toEqual([]);
  const restarts = op.restarts();
  const from = { log: op.current().log, offset: statSync(op.current().log).size };

  const prober = await startProber(c.kc, { hz: 10 });
  const del = kubectl(['delete', 'controlplane', 'cluster', '--wait=true', '--timeout=120s']);
  expect(del.code, del.out).toBe(0);
  expect(kubectl(['get', 'controlplane', 'cluster', '-o', 'name']).out).toMatch(/NotFound/);
  const watched = Date.now();
  let checks = 0;
  while (Date.now() - watched < 60_000) {
    expect({ check: checks, problems: [...(await runningProblems(c, before)), ...checkpointProblems(checkpoints)] }).toEqual({ check: checks, problems: [] });
    expect(await readControlPlane(c.kc)).toBeUndefined();
    checks++;
    await new Promise((r) => setTimeout(r, 3000));
  }
  const watchedMs = Date.now() - watched;
  expect(operatorErrors(from, op)).toEqual([]);
  expect(op.restarts()).toBe(restarts);

  // The same spec again: a new object (new uid) that the operator finds already pivoted.
  const created = Date.now();
  const create = kubectl(['create', '-f', '-'], JSON.stringify({ apiVersion: old.apiVersion, kind: old.kind, metadata: { name: 'cluster' }, spec: old.spec }));
  expect(create.code, create.out).toBe(0);
  const readopted = await waitPhase(c, 'SelfHosted', op);
  const readyMs = Date.now() - created;
  const report = await prober.stop();
  const uid = kubectl(['get', 'controlplane', 'cluster', '-o', 'jsonpath={.metadata.uid}']).out.trim();
  expect(uid).not.toBe(old.metadata.uid);
  expect(readopted.plan?.steps.filter((x) => x.state !== 'Succeeded')).toEqual([]);
  expect(await runningProblems(c, before)).toEqual([]);
  expect(checkpointProblems(checkpoints)).toEqual([]);
  expect(operatorErrors(from, op)).toEqual([]);
  expect(op.restarts()).toBe(restarts);
  expect(report.longestGap.ms).toBeLessThan(10_000);
  console.log(
    `unpivot e2e: ControlPlane deleted on a pivoted node: ${before.workloads.length} workloads, ${before.pods.length} pods unchanged over ${(watchedMs / 1000).toFixed(0)} s (${checks} checks; checkpoints ${[...checkpoints.keys()].join(', ')} standing by); re-created → Ready in ${(readyMs / 1000).toFixed(1)} s; ${summarize(report)}`,
  );
}

describe('tier node: the unpivot (pivot → unpivot → pivot → unpivot, then kubeadm upgrades)', () => {
  let c: Clients;
  let op: SupervisedOperator | undefined;

  beforeAll(async () => {
    await freshNodeForSelfhost(FROM);
    // What a registry pull would give the node for kubeadm's upgrade at the end.
    make('load-images', { VERSION: TO });
    c = clients();
  });

  afterAll(async () => {
    await op?.stop();
    await runNodeScript('down');
    await runNodeScript('up', [nodeVersion()]);
  });

  it(`hands the control plane back twice at ${FROM}, then kubeadm upgrades it to ${TO}`, { timeout: 55 * 60_000 }, async () => {
    const namespace = `e2e-unpivot-${randomBytes(3).toString('hex')}`;
    const world = await createWorld(c.kc);
    const ip = await startEchoService(c, namespace);
    const supervised = await superviseOperator('unpivot');
    op = supervised;

    for (const round of [1, 2]) {
      // The pivot (round 1: kubectl apply the sample; round 2: spec.mode back to SelfHosted).
      const pivotProber = await startProber(c.kc, { hz: 10 });
      const pivotStart = Date.now();
      if (round === 1) {
        const obj = load(readFileSync(SAMPLE, 'utf8')) as { spec: Record<string, unknown> };
        obj.spec['version'] = FROM;
        const applied = kubectl(['apply', '-f', '-'], JSON.stringify(obj));
        expect(applied.code, applied.out).toBe(0);
      } else {
        const edit = kubectl(['patch', 'controlplane', 'cluster', '--type=merge', '-p', JSON.stringify({ spec: { mode: 'SelfHosted' } })]);
        expect(edit.code, edit.out).toBe(0);
      }
      const pivoted = await waitPhase(c, 'SelfHosted', supervised);
      const pivotReport = await pivotProber.stop();
      console.log(`unpivot e2e round ${round}: pivot ${((Date.now() - pivotStart) / 1000).toFixed(1)} s; ${summarize(pivotReport)}`);
      expect(pivoted.version).toBe(FROM);

      if (round === 2) {
        // One component alone: dropped from spec.components, the scheduler goes back to its static
        // pod while the others stay self-hosted.
        const others = ['cni', 'kube-proxy', 'etcd', 'kube-apiserver', 'kube-controller-manager'];
        const drop = kubectl(['patch', 'controlplane', 'cluster', '--type=merge', '-p', JSON.stringify({ spec: { components: others } })]);
        expect(drop.code, drop.out).toBe(0);
        await waitFor('the scheduler handed back alone', async () => {
          const gone = kubectl(['-n', 'kube-system', 'get', 'deployment', 'selfhost-kube-scheduler', '-o', 'name']).code !== 0;
          const mirror = kubectl(['-n', 'kube-system', 'get', 'pod', '-l', 'component=kube-scheduler', '-o', 'jsonpath={.items[*].status.conditions[?(@.type=="Ready")].status}']);
          const manifest = existsSync('/etc/kubernetes/manifests/kube-scheduler.yaml') ? readFileSync('/etc/kubernetes/manifests/kube-scheduler.yaml', 'utf8') : '';
          return gone && mirror.out.trim() === 'True' && manifest !== '' && !manifest.includes('permit-port-sharing') ? true : undefined;
        }, { timeoutMs: 5 * 60_000, intervalMs: 2000 });
        expect(kubectl(['-n', 'kube-system', 'get', 'daemonset', 'selfhost-kube-apiserver', '-o', 'name']).code).toBe(0);
        await waitPhase(c, 'SelfHosted', supervised);
        await deleteAndRecreateControlPlane(c, supervised);
      }

      // The unpivot (round 2: the scheduler listed again, already static).
      const ack = await startAckWriter(c.kc, namespace, `acked-writes-${round}`);
      const prober = await startProber(c.kc, { hz: 10 });
      const start = Date.now();
      const edit = kubectl(['patch', 'controlplane', 'cluster', '--type=merge', '-p', JSON.stringify({ spec: { mode: 'StaticPods', components: ['cni', 'kube-proxy', 'kube-scheduler', 'kube-controller-manager', 'kube-apiserver', 'etcd'] } })]);
      expect(edit.code, edit.out).toBe(0);
      const back = await waitPhase(c, 'StaticPods', supervised);
      const report = await prober.stop();
      const writes = await ack.stop();
      console.log(`unpivot e2e round ${round}: unpivot ${((Date.now() - start) / 1000).toFixed(1)} s; ${summarize(report)}; acknowledged writes ${writes.acked}, failed ${writes.failed}`);
      expect(back.plan?.steps.map((s) => `${s.action ?? ''} ${s.component} ${s.state}`)).toEqual(STATIC_COMPONENTS.map((x) => `Unpivot ${x} Succeeded`));
      const waited = kubectl(['wait', '--for=condition=Ready', 'controlplane/cluster', '--timeout=60s']);
      expect(waited.code, waited.out).toBe(0);
      expectNothingOfSelfhostLeft(FROM);
      expect(await ack.verify()).toEqual([]);
      await world.expectIntact();
      await waitForBothEchoPods(ip, 120_000);
    }
    await supervised.stop();

    // kubeadm takes over: its plan reads kubeadm-config and the static pods; its apply upgrades them.
    const kubeadm = k8sBin(TO, 'kubeadm');
    const plan = await runCommand(kubeadm, ['upgrade', 'plan', TO, '--ignore-preflight-errors=CoreDNSUnsupportedPlugins,CoreDNSMigration', '--kubeconfig=/etc/kubernetes/admin.conf']);
    expect(plan.code, plan.out).toBe(0);
    expect(plan.out).toContain(`Cluster version: ${FROM.slice(1)}`);
    const apply = await runCommand(kubeadm, ['upgrade', 'apply', TO, '--yes', '--ignore-preflight-errors=all', '--kubeconfig=/etc/kubernetes/admin.conf']);
    expect(apply.code, apply.out.slice(-3000)).toBe(0);
    const version = kubectl(['version', '-o', 'json']);
    expect(JSON.parse(version.out.slice(version.out.indexOf('{'))) as { serverVersion?: { gitVersion?: string } }).toMatchObject({ serverVersion: { gitVersion: TO } });
    for (const component of STATIC_COMPONENTS.filter((x) => x !== 'etcd')) {
      expect(readFileSync(`/etc/kubernetes/manifests/${component}.yaml`, 'utf8')).toContain(`/${component}:${TO}`);
    }
    await world.expectIntact();
    await world.cleanup();
    await c.core.deleteNamespace({ name: namespace });
  });
});
