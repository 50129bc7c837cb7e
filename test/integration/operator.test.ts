/**
 * The operator end to end on tier sim: the real operator (runOperator, in-process) against the
 * real apiserver, with the real node agent and a fake kubelet per kwok control-plane node
 * (operator-world.ts). Everything is asserted through the API and the nodes' directories.
 *
 * The cases run in order on one ControlPlane (the operator acts only on `cluster`):
 *  1. bad input (an apiserver manifest whose IP is not its Node's) → Degraded, nothing changed;
 *     then the admin fixes the files;
 *  2. the pivot completes; 3. its events; 4. a no-op pass writes nothing;
 *  5. leader failover to a standby; 6. the new leader's informers recover from an apiserver
 *     "restart" (through a proxy only it uses) and repair a change made meanwhile.
 * The operator and the agents run as deploy/rbac's ServiceAccounts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { API_GROUP, API_VERSION } from '../../src/api/types.js';
import { kubeClient, type JsonObject } from '../../src/kube/client.js';
import { LEASE_NAME } from '../../src/operator/operator.js';
import { ensureControlPlaneCrd } from '../support/crd.js';
import { kubeConfigFrom } from '../support/kube.js';
import { formatLogTails } from '../support/logs.js';
import { waitFor } from '../support/wait.js';
import { ApiProxy } from './operator-proxy.js';
import {
  CP_NAME,
  CP_PATH,
  FIXTURE_NODE,
  FakeNode,
  LogFiles,
  annotationsOf,
  arr,
  cniObjects,
  conditionOf,
  deleteAndWait,
  describeStatus,
  fixtureManifests,
  getControlPlane,
  kubeProxyObjects,
  labelsOf,
  listControlPlaneEvents,
  listMirrorPods,
  listWorkloads,
  nameOf,
  objectPath,
  operatorWrites,
  phaseOf,
  rbacObjects,
  rec,
  sampleControlPlane,
  serviceAccountKubeConfig,
  sha256,
  startOperator,
  str,
  sumSamples,
  type RunningOperator,
} from './operator-world.js';

const kc = kubeConfigFrom(inject('kubeconfig'));
const admin = kubeClient(kc);
const cpNodes = inject('simNodes').controlPlane;
const logs = new LogFiles();
const root = mkdtempSync(join(tmpdir(), 'selfhost-operator-test-'));
const nodes: FakeNode[] = [];
const operators: RunningOperator[] = [];
let proxy: ApiProxy | undefined;
/** Objects this file created besides the operator's (deleted in afterAll). */
const created: JsonObject[] = [];
const NS = 'kube-system';
const TEST_FIELD_MANAGER = 'operator-test';

/** Pivot order and the step action of each component. */
const STEPS: readonly [string, 'Adopt' | 'Pivot'][] = [
  ['cni', 'Adopt'],
  ['kube-proxy', 'Adopt'],
  ['kube-scheduler', 'Pivot'],
  ['kube-controller-manager', 'Pivot'],
  ['kube-apiserver', 'Pivot'],
  ['etcd', 'Pivot'],
];
const WORKLOADS: Record<string, 'DaemonSet' | 'Deployment'> = {
  'selfhost-agent': 'DaemonSet',
  'selfhost-etcd': 'DaemonSet',
  'selfhost-kube-apiserver': 'DaemonSet',
  'selfhost-kube-controller-manager': 'Deployment',
  'selfhost-kube-scheduler': 'Deployment',
};

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function applyAsAdmin(obj: JsonObject): Promise<void> {
  await admin.apply(objectPath(obj), obj, { fieldManager: TEST_FIELD_MANAGER, force: true });
  created.push(obj);
}

/**
 * Waits for a phase, failing with the status last seen. A Blocked plan (phase Degraded) does not
 * unblock by itself: Degraded for `degradedMs` in a row ends the wait at once (unless awaited).
 */
async function waitForPhase(phase: string, timeoutMs: number, degradedMs = 5000): Promise<JsonObject> {
  let last: JsonObject | undefined;
  let degradedSince: number | undefined;
  try {
    return await waitFor(`phase ${phase}`, async () => {
      last = await getControlPlane(admin);
      if (phaseOf(last) === phase) return last;
      degradedSince = phaseOf(last) === 'Degraded' ? (degradedSince ?? Date.now()) : undefined;
      if (degradedSince !== undefined && Date.now() - degradedSince > degradedMs) {
        throw Object.assign(new Error(`Degraded for ${degradedMs} ms`), { name: 'FatalWait' });
      }
      return undefined;
    }, { timeoutMs, intervalMs: 250 });
  } catch (err) {
    throw new Error(`ControlPlane never reached ${phase}; last: ${describeStatus(last)}`, { cause: err });
  }
}

/** Waits until the object at `path` exists again with another uid (re-created by the operator). */
async function waitForRecreated(path: string, uid: unknown, timeoutMs: number): Promise<void> {
  await waitFor(`${path} re-created`, async () => {
    const d = await admin.get(path);
    if (d !== undefined && rec(d['metadata'])['uid'] !== uid) return true;
    throw new Error(`not re-created yet; ControlPlane: ${describeStatus(await getControlPlane(admin))}`);
  }, { timeoutMs });
}

/** Set by the pivot case; the cases after it need a converged ControlPlane. */
let converged = false;
function needsConverged(skip: (note?: string) => never): void {
  if (!converged) skip('needs the converged ControlPlane of "the pivot completes", which failed');
}

async function leaseHolder(): Promise<string | undefined> {
  const lease = await admin.get(`/apis/coordination.k8s.io/v1/namespaces/${NS}/leases/${LEASE_NAME}`);
  return str(rec(lease?.['spec'])['holderIdentity']);
}

/** GET as kubectl does for `get`: the server-side Table rendering. */
function getTable(path: string): Promise<{ columnDefinitions: { name: string }[]; rows: { cells: unknown[] }[] }> {
  const cluster = kc.getCurrentCluster();
  const user = kc.getCurrentUser();
  if (!cluster || !user?.token || !cluster.caData) throw new Error('kubeconfig lacks server, token or CA');
  const ca = Buffer.from(cluster.caData, 'base64');
  return new Promise((resolve, reject) => {
    const req = request(
      `${cluster.server}${path}`,
      { ca, headers: { authorization: `Bearer ${user.token}`, accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' } },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => {
          if (res.statusCode !== 200) reject(new Error(`GET ${path}: ${res.statusCode} ${body}`));
          else resolve(JSON.parse(body) as { columnDefinitions: { name: string }[]; rows: { cells: unknown[] }[] });
        });
      },
    );
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  await ensureControlPlaneCrd(kc);
  for (const obj of rbacObjects()) await applyAsAdmin(obj);
  // kube-proxy and the CNI run before selfhost arrives (kubeadm's addon, the node tier's CNI).
  for (const obj of [...kubeProxyObjects(), ...cniObjects()]) {
    await applyAsAdmin({ ...obj, metadata: { ...rec(obj['metadata']), namespace: NS } });
  }
  const agentKc = await serviceAccountKubeConfig(admin, kc, NS, 'selfhost-agent');
  for (const name of cpNodes) {
    const node = await admin.get(`/api/v1/nodes/${name}`);
    const ip = str(arr(rec(node?.['status'])['addresses']).map(rec).find((a) => a['type'] === 'InternalIP')?.['address']);
    if (ip === undefined) throw new Error(`node ${name} has no InternalIP`);
    const fake = new FakeNode({ name, ip, agentKc, kubeletClient: admin, logs, root });
    for (const [file, text] of fixtureManifests({ name, ip })) fake.writeManifest(file, text);
    nodes.push(fake);
    fake.start();
  }
  // The static control plane runs: four Ready mirror pods per node.
  await waitFor('every static pod mirrored and Ready', async () => {
    const ready = (await listMirrorPods(admin)).filter((p) =>
      arr(rec(p['status'])['conditions']).map(rec).some((c) => c['type'] === 'Ready' && c['status'] === 'True'),
    );
    return ready.length === 4 * cpNodes.length ? true : undefined;
  }, { timeoutMs: 30_000 });
});

let failed = false;
afterEach(({ task }) => {
  if (task.result?.state !== 'fail') return;
  failed = true;
  console.error(`\n"${task.name}" failed; in-process actors' logs (kept in ${logs.dir}):\n${formatLogTails(logs.paths(), 40)}\n`);
  for (const n of nodes) if (n.kubeletErrors.length > 0) console.error(`kubelet ${n.name} errors: ${n.kubeletErrors.slice(-5).join(' | ')}`);
});

afterAll(async () => {
  for (const op of operators) await op.stop();
  await proxy?.close();
  for (const n of nodes) await n.shutdown();
  const ignore = (): undefined => undefined;
  await admin.delete(`${CP_PATH}/${CP_NAME}`).catch(ignore);
  const workloads = (await listWorkloads(admin)).filter((w) => nameOf(w).startsWith('selfhost-') || nameOf(w) === 'kube-proxy');
  for (const w of workloads) await deleteAndWait(admin, objectPath(w)).catch(ignore);
  await admin.delete(`/api/v1/namespaces/${NS}/configmaps/selfhost-revisions`).catch(ignore);
  for (const cm of await admin.list(`/api/v1/namespaces/${NS}/configmaps`, { labelSelector: 'selfhost.dev/node' })) {
    await admin.delete(`/api/v1/namespaces/${NS}/configmaps/${nameOf(cm)}`).catch(ignore);
  }
  for (const p of await listMirrorPods(admin)) {
    await admin.delete(`/api/v1/namespaces/${NS}/pods/${nameOf(p)}`, { apiVersion: 'v1', kind: 'DeleteOptions', gracePeriodSeconds: 0 }).catch(ignore);
  }
  await admin.delete(`/apis/coordination.k8s.io/v1/namespaces/${NS}/leases/${LEASE_NAME}`).catch(ignore);
  for (const e of await listControlPlaneEvents(admin).catch(() => [])) {
    await admin.delete(`/apis/events.k8s.io/v1/namespaces/default/events/${nameOf(e)}`).catch(ignore);
  }
  for (const obj of [...created].reverse()) await admin.delete(objectPath(obj)).catch(ignore);
  // Pods of the deleted workloads go with the garbage collector; wait so later files see a clean kube-system.
  await waitFor('the test pods gone', async () => {
    const left = (await admin.list(`/api/v1/namespaces/${NS}/pods`)).filter(
      (p) =>
        labelsOf(p)['selfhost.dev/component'] !== undefined ||
        ['kube-proxy', 'selfhost-cni'].includes(labelsOf(p)['k8s-app'] ?? '') ||
        annotationsOf(p)['kubernetes.io/config.mirror'] !== undefined,
    );
    return left.length === 0 ? true : undefined;
  }, { timeoutMs: 60_000 }).catch((err: unknown) => console.error(err));
  rmSync(root, { recursive: true, force: true });
  if (!failed) logs.remove();
});

describe('the operator on tier sim', () => {
  it('a ControlPlane whose manifests cannot be converted: Degraded with a Warning event, nothing changed', async () => {
    // kube-apiserver.yaml as kubeadm wrote it for another machine: its advertise address is not
    // the Node's InternalIP, which the conversion refuses.
    const bad = new Map<string, string>();
    for (const n of nodes) {
      const text = fixtureManifests({ name: n.name, ip: FIXTURE_NODE.ip }).get('kube-apiserver.yaml') ?? '';
      bad.set(n.name, text);
      n.writeManifest('kube-apiserver.yaml', text);
    }
    // The agents report what is on disk now (the operator converts what they report).
    await waitFor('the agents to report the bad manifests', async () => {
      for (const n of nodes) {
        const cm = await admin.get(`/api/v1/namespaces/${NS}/configmaps/selfhost-agent-${n.name}`);
        const observed = rec(JSON.parse(str(rec(cm?.['data'])['observed.json']) ?? '{}'));
        const file = arr(observed['manifests']).map(rec).find((f) => f['path'] === '/etc/kubernetes/manifests/kube-apiserver.yaml');
        if (file?.['sha256'] !== sha256(bad.get(n.name) ?? '')) return undefined;
      }
      return true;
    });
    await admin.create(CP_PATH, sampleControlPlane());
    operators.push(startOperator({ kc: await serviceAccountKubeConfig(admin, kc, NS, 'selfhost'), identity: 'op-a', leaderElect: true, logger: logs.logger('op-a') }));

    const cp = await waitForPhase('Degraded', 30_000);
    const degraded = conditionOf(cp, 'Degraded');
    expect(degraded?.['status']).toBe('True');
    expect(String(degraded?.['message'])).toContain(FIXTURE_NODE.ip);
    expect(conditionOf(cp, 'Ready')?.['status']).toBe('False');
    await waitFor('the Blocked Warning event', async () => {
      const events = await listControlPlaneEvents(admin);
      return events.some((e) => e['type'] === 'Warning' && e['reason'] === 'Blocked') ? true : undefined;
    });
    // Give a wrongly acting operator the time to act.
    await sleep(3000);
    const workloads = await listWorkloads(admin);
    // Only the node agent's DaemonSet: applying it is the first step, before anything is converted.
    expect(workloads.filter((w) => nameOf(w).startsWith('selfhost-') && nameOf(w) !== 'selfhost-cni').map(nameOf)).toEqual(['selfhost-agent']);
    for (const w of workloads.filter((x) => ['kube-proxy', 'selfhost-cni'].includes(nameOf(x)))) {
      expect(labelsOf(w)['selfhost.dev/component'], nameOf(w)).toBeUndefined();
    }
    for (const n of nodes) {
      expect(n.manifests()).toEqual(['etcd.yaml', 'kube-apiserver.yaml', 'kube-controller-manager.yaml', 'kube-scheduler.yaml']);
      expect(n.backups().size).toBe(0);
      const cm = await admin.get(`/api/v1/namespaces/${NS}/configmaps/selfhost-agent-${n.name}`);
      expect(Object.keys(rec(cm?.['data']))).toEqual(['observed.json']);
    }

    // The admin fixes the files; the operator goes on by itself.
    for (const n of nodes) n.writeManifest('kube-apiserver.yaml', fixtureManifests(n).get('kube-apiserver.yaml') ?? '');
    await waitFor('the Degraded phase to clear', async () => (phaseOf(await getControlPlane(admin)) !== 'Degraded' ? true : undefined));
  });

  it('the pivot completes: every component self-hosted, nothing static left', { timeout: 180_000 }, async () => {
    const cp = await waitForPhase('SelfHosted', 150_000);
    const status = rec(cp['status']);
    expect(status['version']).toBe('v1.37.2');
    expect(conditionOf(cp, 'Ready')?.['status']).toBe('True');
    expect(conditionOf(cp, 'SelfHosted')?.['status']).toBe('True');
    expect(conditionOf(cp, 'Degraded')?.['status']).toBe('False');
    expect(arr(rec(status['plan'])['steps']).map(rec).map((s) => [s['component'], s['state']])).toEqual(
      STEPS.map(([c]) => [c, 'Succeeded']),
    );

    const workloads = await listWorkloads(admin);
    const kinds = Object.fromEntries(workloads.filter((w) => nameOf(w) in WORKLOADS).map((w) => [nameOf(w), w['kind']]));
    expect(kinds).toEqual(WORKLOADS);
    const label = (name: string): string | undefined => labelsOf(workloads.find((w) => nameOf(w) === name))['selfhost.dev/component'];
    expect(label('kube-proxy')).toBe('kube-proxy');
    expect(label('selfhost-cni')).toBe('cni');

    for (const n of nodes) {
      expect(n.manifests(), `${n.name}: manifests left`).toEqual([]);
      const originals = fixtureManifests(n);
      expect(n.backups(), `${n.name}: backups`).toEqual(originals);
    }
    const mirrors = (await listMirrorPods(admin)).filter((p) => cpNodes.includes(str(rec(p['spec'])['nodeName']) ?? ''));
    expect(mirrors.map(nameOf)).toEqual([]);

    const table = await getTable(`${CP_PATH}/${CP_NAME}`);
    const col = (name: string): unknown => table.rows[0]?.cells[table.columnDefinitions.findIndex((c) => c.name === name)];
    expect(col('Phase')).toBe('SelfHosted');
    expect(col('Ready')).toBe('True');
    expect(col('Version')).toBe('v1.37.2');
    converged = true;
  });

  it('events: one Started and one Succeeded per step, Warnings only for the bad input', async ({ skip }) => {
    needsConverged(skip);
    const events = await listControlPlaneEvents(admin);
    const cp = await getControlPlane(admin);
    for (const e of events) {
      expect(e['reportingController']).toBe('selfhost.dev/operator');
      expect(rec(e['regarding'])['uid']).toBe(rec(cp?.['metadata'])['uid']);
    }
    const summary = events
      .map((e) => {
        const count = rec(e['series'])['count'];
        return `${String(e['type'])} ${String(e['reason'])}${count === undefined ? '' : ` (series count ${String(count)})`}: ${String(e['note'])}`;
      })
      .sort();
    for (const [component, action] of STEPS) {
      const of = (reason: string, words: string): JsonObject[] =>
        events.filter((e) => e['reason'] === reason && String(e['note']).startsWith(`${action} ${component} ${words}`));
      expect(of(`${action}Started`, 'started'), `${component} started\n${summary.join('\n')}`).toHaveLength(1);
      expect(of(`${action}Succeeded`, 'succeeded'), `${component} succeeded\n${summary.join('\n')}`).toHaveLength(1);
    }
    expect(events.filter((e) => e['type'] === 'Warning').map((e) => e['reason'])).toEqual(['Blocked']);
    // The same (type, reason, action, note) is one Event object; repeats are its series.
    const keys = events.map((e) => JSON.stringify([e['type'], e['reason'], e['action'], e['note']]));
    expect(keys.length, summary.join('\n')).toBe(new Set(keys).size);
  });

  it('a converged ControlPlane: passes write nothing, also after a metadata-only change', async ({ skip }) => {
    needsConverged(skip);
    const op = operators[0];
    if (op === undefined) throw new Error('no operator');
    const reconciles = async (): Promise<number> =>
      sumSamples(await op.metrics(), 'controller_runtime_reconcile_total', (l) => l['controller'] === 'controlplane');
    const requests = async (): Promise<string> =>
      (await op.metrics()).split('\n').filter((l) => l.startsWith('selfhost_apiserver_requests_total{')).join('\n');
    const before = await operatorWrites(op);
    const requestsBefore = await requests();
    const rv = rec((await getControlPlane(admin))?.['metadata'])['resourceVersion'];
    const eventCount = (await listControlPlaneEvents(admin)).length;
    await sleep(10_000);
    expect(await operatorWrites(op), `requests before:\n${requestsBefore}\nafter:\n${await requests()}`).toBe(before);
    expect(rec((await getControlPlane(admin))?.['metadata'])['resourceVersion']).toBe(rv);

    // A label the operator does not care about: the informer enqueues the key, a pass runs.
    const passes = await reconciles();
    await admin.apply(
      `${CP_PATH}/${CP_NAME}`,
      { apiVersion: 'selfhost.dev/v1alpha1', kind: 'ControlPlane', metadata: { name: CP_NAME, labels: { 'test.selfhost.dev/touched': 'yes' } } },
      { fieldManager: TEST_FIELD_MANAGER, force: true },
    );
    const touchedRv = rec((await getControlPlane(admin))?.['metadata'])['resourceVersion'];
    await waitFor('a reconcile pass after the label change', async () => ((await reconciles()) > passes ? true : undefined));
    await sleep(2000);
    expect(await operatorWrites(op)).toBe(before);
    expect(rec((await getControlPlane(admin))?.['metadata'])['resourceVersion']).toBe(touchedRv);
    expect((await listControlPlaneEvents(admin)).length).toBe(eventCount);
  });

  it('leader election: the standby writes nothing, then takes over and keeps converging', async ({ skip }) => {
    needsConverged(skip);
    const a = operators[0];
    if (a === undefined) throw new Error('no operator');
    expect(await leaseHolder()).toBe('op-a');
    // The standby reaches the apiserver through a proxy (the next case cuts it).
    proxy = await ApiProxy.start(kc.getCurrentCluster()?.server ?? '');
    const b = startOperator({
      kc: await serviceAccountKubeConfig(admin, kc, NS, 'selfhost', proxy.url),
      identity: 'op-b',
      leaderElect: true,
      logger: logs.logger('op-b'),
    });
    operators.push(b);
    await b.port;
    await sleep(5000);
    expect(await leaseHolder()).toBe('op-a');
    expect(await operatorWrites(b)).toBe(0);
    expect(sumSamples(await b.metrics(), 'leader_election_master_status')).toBe(0);
    expect(b.exitCode).toBeUndefined();

    // The leader shuts down (releasing the lease); the standby takes over.
    expect(await a.stop()).toBe(0);
    await waitFor('op-b holds the lease', async () => ((await leaseHolder()) === 'op-b' ? true : undefined), { timeoutMs: 20_000 });
    // The Lease can be seen before op-b has read its update's response (and set its gauge).
    await waitFor('op-b reports itself leader', async () => (sumSamples(await b.metrics(), 'leader_election_master_status') === 1 ? true : undefined), { timeoutMs: 10_000 });

    // It converges: a deleted workload comes back.
    const path = `/apis/apps/v1/namespaces/${NS}/deployments/selfhost-kube-scheduler`;
    const uid = rec((await admin.get(path))?.['metadata'])['uid'];
    await deleteAndWait(admin, path);
    await waitForRecreated(path, uid, 30_000);
    await waitForPhase('SelfHosted', 30_000);
    // The object can be seen before op-b has read the apply's response (and counted it).
    await waitFor('op-b counted its write', async () => ((await operatorWrites(b)) > 0 ? true : undefined), { timeoutMs: 10_000 });
    expect(b.exitCode).toBeUndefined();
  });

  it('after an apiserver outage the informers recover and a change made meanwhile is repaired', async ({ skip }) => {
    needsConverged(skip);
    const b = operators[1];
    if (b === undefined || proxy === undefined) throw new Error('no standby operator');
    await waitForPhase('SelfHosted', 10_000);
    const path = `/apis/apps/v1/namespaces/${NS}/deployments/selfhost-kube-controller-manager`;
    const uid = rec((await admin.get(path))?.['metadata'])['uid'];
    const acceptedBefore = proxy.accepted;

    // The apiserver "restarts" for op-b: every connection (watches too) reset, new ones refused.
    await proxy.outage();
    await deleteAndWait(admin, path);
    await sleep(4000);
    await proxy.restore();

    await waitForRecreated(path, uid, 45_000);
    await waitForPhase('SelfHosted', 30_000);
    expect(proxy.accepted).toBeGreaterThan(acceptedBefore);
    expect(b.exitCode).toBeUndefined();
    expect(await leaseHolder()).toBe('op-b');
  });
  it('a rollout after the pivot: an override is applied, gated and recorded; an operator restart mid-step changes nothing', { timeout: 120_000 }, async ({ skip }) => {
    needsConverged(skip);
    const path = `/apis/apps/v1/namespaces/${NS}/deployments/selfhost-kube-scheduler`;
    const revisionOf = async (): Promise<string | undefined> => {
      const cm = await admin.get(`/api/v1/namespaces/${NS}/configmaps/selfhost-revisions`);
      const text = str(rec(cm?.['data'])['kube-scheduler.json']);
      return text === undefined ? undefined : str(rec(JSON.parse(text))['templateHash']);
    };
    const before = await revisionOf();
    expect(before).toBeDefined();
    await admin.apply(
      `${CP_PATH}/${CP_NAME}`,
      { apiVersion: `${API_GROUP}/${API_VERSION}`, kind: 'ControlPlane', metadata: { name: CP_NAME }, spec: { version: 'v1.37.2', overrides: { 'kube-scheduler': { extraArgs: [{ name: 'v', value: '3' }] } } } },
      { fieldManager: TEST_FIELD_MANAGER, force: true },
    );
    // The step starts: the Deployment gets the flag, the phase says so.
    await waitFor('the scheduler Deployment with --v=3', async () => {
      const d = await admin.get(path);
      const args = arr(rec(arr(rec(rec(rec(d?.['spec'])['template'])['spec'])['containers'])[0])['command']);
      return args.includes('--v=3') ? true : undefined;
    }, { timeoutMs: 30_000 });
    // The pass that applies writes the step as Pending (its snapshot predates the apply); the next
    // one shows it Running.
    await waitForPhase('Upgrading', 15_000);
    const upgrading = await waitFor('the step 1/1 kube-scheduler', async () => {
      const cp = await getControlPlane(admin);
      return phaseOf(cp) === 'Upgrading' && str(rec(cp?.['status'])['step']) === '1/1 kube-scheduler' ? cp : undefined;
    }, { timeoutMs: 15_000, intervalMs: 250 });
    expect(str(rec(upgrading?.['status'])['step'])).toBe('1/1 kube-scheduler');
    // An operator restart in the middle of the step (its settle period).
    const current = operators[operators.length - 1];
    if (current === undefined) throw new Error('no operator');
    await current.stop();
    operators.push(startOperator({ kc: await serviceAccountKubeConfig(admin, kc, NS, 'selfhost'), identity: 'op-c', leaderElect: true, logger: logs.logger('op-c') }));
    const done = await waitForPhase('SelfHosted', 90_000);
    const status = rec(done['status']);
    expect(rec(status['lastUpgrade'])['result']).toBe('Succeeded');
    const steps = arr(rec(status['plan'])['steps']).map(rec);
    expect(steps.map((x) => `${String(x['component'])} ${String(x['action'])} ${String(x['state'])}`)).toEqual(['kube-scheduler Rollout Succeeded']);
    expect(conditionOf(done, 'Ready')?.['status']).toBe('True');
    // The new template is the proven revision now: what the Deployment's pods run.
    const after = await revisionOf();
    const d = await admin.get(path);
    expect(after).not.toBe(before);
    expect(after).toBe(annotationsOf(rec(rec(d?.['spec'])['template']))['selfhost.dev/template-hash']);
  });
  it('deleting the ControlPlane takes nothing down: every workload and pod stays as it is, the operator keeps running', async ({ skip }) => {
    needsConverged(skip);
    await waitForPhase('SelfHosted', 60_000);
    const uids = new Map<string, unknown>();
    for (const [name, kind] of Object.entries(WORKLOADS)) {
      const obj = await admin.get(`/apis/apps/v1/namespaces/${NS}/${kind === 'DaemonSet' ? 'daemonsets' : 'deployments'}/${name}`);
      uids.set(name, rec(obj?.['metadata'])['uid']);
    }
    const podsBefore = (await admin.list(`/api/v1/namespaces/${NS}/pods`, { labelSelector: 'selfhost.dev/component' })).map((p) => rec(p['metadata'])['uid']).sort();
    expect(podsBefore.length).toBeGreaterThan(0);
    await admin.delete(`${CP_PATH}/${CP_NAME}`);
    await waitFor('the ControlPlane gone', async () => ((await getControlPlane(admin)) === undefined ? true : undefined), { timeoutMs: 10_000 });
    // Long enough for the garbage collector and the operator to act, if either were going to.
    await sleep(8000);
    for (const [name, kind] of Object.entries(WORKLOADS)) {
      const obj = await admin.get(`/apis/apps/v1/namespaces/${NS}/${kind === 'DaemonSet' ? 'daemonsets' : 'deployments'}/${name}`);
      expect({ name, uid: rec(obj?.['metadata'])['uid'], deleting: rec(obj?.['metadata'])['deletionTimestamp'] }).toEqual({ name, uid: uids.get(name), deleting: undefined });
    }
    const podsAfter = (await admin.list(`/api/v1/namespaces/${NS}/pods`, { labelSelector: 'selfhost.dev/component' })).map((p) => rec(p['metadata'])['uid']).sort();
    expect(podsAfter).toEqual(podsBefore);
    const current = operators[operators.length - 1];
    expect(current?.exitCode).toBeUndefined();
  });
});
