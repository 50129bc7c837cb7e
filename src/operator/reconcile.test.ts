import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { parseAgentDesired } from '../api/agent.js';
import type { ControlPlaneStatus } from '../api/types.js';
import type { JsonObject, KubeClient } from '../kube/client.js';
import { computeCheckpointPlan } from './checkpoint-plan.js';
import { computeAgentDesiredText, computeStepEvents, reconcilePass, type EventInput } from './reconcile.js';
import { IMAGE, makeControlPlane, runToCompletion, SimWorld } from './testdata/world.js';

interface Call {
  verb: string;
  path: string;
  body?: JsonObject;
}

function fakeClient(calls: Call[]): KubeClient {
  return {
    get: async (path) => (calls.push({ verb: 'get', path }), undefined),
    list: async (path) => (calls.push({ verb: 'list', path }), []),
    apply: async (path: string, body: JsonObject) => (calls.push({ verb: 'apply', path, body }), body),
    create: async (path, body) => (calls.push({ verb: 'create', path, body }), body),
    replace: async (path, body) => (calls.push({ verb: 'replace', path, body }), body),
    delete: async (path) => (calls.push({ verb: 'delete', path }), true),
  };
}

function deps(w: SimWorld, calls: Call[], events: EventInput[]) {
  return {
    client: fakeClient(calls),
    readWorld: (name: string) => (name === 'cluster' ? w.raw() : undefined),
    image: IMAGE,
    events: { emit: (_r: JsonObject, e: EventInput) => events.push(e) },
    now: () => new Date('2026-11-25T10:00:00Z'),
  };
}

const logger = pino({ level: 'silent' });
const signal = new AbortController().signal;

describe('reconcilePass', () => {
  it('acts once, writes status once, and then writes nothing on an unchanged world', async () => {
    const w = new SimWorld();
    runToCompletion(w);
    const calls: Call[] = [];
    const events: EventInput[] = [];
    const first = await reconcilePass(deps(w, calls, events), 'cluster', signal, logger);
    expect(first?.plan.action).toEqual({ type: 'Done' });
    // The finished pivot's workloads become the first last-known-good revisions.
    expect(calls.map((c) => `${c.verb} ${c.path}`)).toEqual([
      'apply /api/v1/namespaces/kube-system/configmaps/selfhost-revisions',
      'apply /apis/selfhost.dev/v1alpha1/controlplanes/cluster/status',
    ]);
    const revisions = calls[0]?.body?.['data'] as Record<string, string>;
    expect(Object.keys(revisions).sort()).toEqual(
      ['cni', 'etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-proxy', 'kube-scheduler'].map((c) => `${c}.json`),
    );
    w.revisionsData = revisions;
    const status = calls[1]?.body?.['status'] as ControlPlaneStatus;
    expect(status.phase).toBe('SelfHosted');
    expect(status.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    expect(status.components?.every((c) => c.mode === 'SelfHosted')).toBe(true);
    expect(events.filter((e) => e.reason === 'PivotSucceeded').length).toBe(4);
    expect(events.filter((e) => e.reason === 'AdoptSucceeded').length).toBe(2);

    // Then the node's checkpoints of the proven pods (one agent ConfigMap write), and the status
    // that lists them.
    w.cp = { ...w.cp, status };
    calls.length = 0;
    events.length = 0;
    const second = await reconcilePass(deps(w, calls, events), 'cluster', signal, logger);
    expect(calls.map((c) => `${c.verb} ${c.path}`)).toEqual([
      'apply /api/v1/namespaces/kube-system/configmaps/selfhost-agent-cp1',
      'apply /apis/selfhost.dev/v1alpha1/controlplanes/cluster/status',
    ]);
    w.desiredText = (calls[0]?.body?.['data'] as Record<string, string>)['desired.json'];
    expect(second?.status.checkpoints?.map((c) => `${c.component} saved=${String(c.saved)}`)).toEqual([
      'etcd saved=false',
      'kube-apiserver saved=false',
      'kube-controller-manager saved=false',
      'kube-scheduler saved=false',
    ]);
    w.cp = { ...w.cp, status: second?.status ?? status };
    calls.length = 0;
    events.length = 0;
    const third = await reconcilePass(deps(w, calls, events), 'cluster', signal, logger);
    expect(third?.wrote).toBe(false);
    expect(calls).toEqual([]);
    expect(events).toEqual([]);
  });

  it('an edit of spec.version on a pivoted cluster: one apply, phase Upgrading, the whole plan in status', async () => {
    const w = new SimWorld({ version: 'v1.37.1' }, 'v1.37.1');
    runToCompletion(w);
    w.proveAll();
    syncCheckpoints(w);
    w.cp = { ...w.cp, spec: { ...w.cp.spec, version: 'v1.37.2' } };
    const calls: Call[] = [];
    const events: EventInput[] = [];
    const result = await reconcilePass(deps(w, calls, events), 'cluster', signal, logger);
    // The first step: the verified etcd snapshot (spec.etcd.snapshotBeforeUpgrade), as a Job on the node.
    expect(calls.map((c) => `${c.verb} ${c.path.replace(/[0-9a-f]{12}$/, '<hash>')}`)).toEqual([
      'apply /apis/batch/v1/namespaces/kube-system/jobs/selfhost-etcd-snapshot-<hash>',
      'apply /apis/selfhost.dev/v1alpha1/controlplanes/cluster/status',
    ]);
    const status = result?.status;
    expect(status?.phase).toBe('Upgrading');
    expect(status?.plan?.operation).toBe('Upgrade');
    expect(status?.plan?.steps.map((s) => `${s.component} ${s.action} ${s.state}`)).toEqual([
      'etcd Snapshot Pending',
      'kube-apiserver Upgrade Pending',
      'kube-controller-manager Upgrade Pending',
      'kube-scheduler Upgrade Pending',
      'kube-proxy Upgrade Pending',
    ]);
    expect(status?.lastUpgrade).toMatchObject({ fromVersion: 'v1.37.1', toVersion: 'v1.37.2', result: 'Running' });
    expect(status?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'False', reason: 'VersionMismatch' });
    expect(status?.conditions?.find((c) => c.type === 'Progressing')).toMatchObject({ status: 'True', reason: 'Upgrading' });
    expect(events.map((e) => e.reason)).toContain('RolloutStarted');
  });

  it('refuses a minor skip on a pivoted cluster: Degraded names the rule, nothing is applied', async () => {
    const w = new SimWorld({ version: 'v1.37.2' });
    runToCompletion(w);
    w.proveAll();
    syncCheckpoints(w);
    w.cp = { ...w.cp, spec: { ...w.cp.spec, version: 'v1.39.1' } };
    const calls: Call[] = [];
    const result = await reconcilePass(deps(w, calls, []), 'cluster', signal, logger);
    expect(calls.map((c) => c.path)).toEqual(['/apis/selfhost.dev/v1alpha1/controlplanes/cluster/status']);
    expect(result?.status.phase).toBe('Degraded');
    const degraded = result?.status.conditions?.find((c) => c.type === 'Degraded');
    expect(degraded?.status).toBe('True');
    expect(degraded?.message).toMatch(/v1\.39\.1/);
  });

  it('on a fresh cluster applies the agent DaemonSet first and reports Pivoting', async () => {
    const w = new SimWorld();
    const calls: Call[] = [];
    const result = await reconcilePass(deps(w, calls, []), 'cluster', signal, logger);
    expect(calls.map((c) => `${c.verb} ${c.path}`)).toEqual([
      'apply /apis/apps/v1/namespaces/kube-system/daemonsets/selfhost-agent',
      'apply /apis/selfhost.dev/v1alpha1/controlplanes/cluster/status',
    ]);
    expect(result?.status.phase).toBe('Pivoting');
    expect(result?.status.conditions?.map((c) => c.type).sort()).toEqual(
      ['ComponentsHealthy', 'Degraded', 'EtcdHealthy', 'Progressing', 'Ready', 'SelfHosted'],
    );
  });

  it('changes nothing while paused, and says so', async () => {
    const w = new SimWorld({ paused: true });
    const calls: Call[] = [];
    const result = await reconcilePass(deps(w, calls, []), 'cluster', signal, logger);
    expect(calls.map((c) => c.path)).toEqual(['/apis/selfhost.dev/v1alpha1/controlplanes/cluster/status']);
    expect(result?.status.conditions?.find((c) => c.type === 'Progressing')?.reason).toBe('Paused');
  });

  it("spec.mode StaticPods on a pivoted cluster: the unpivot planner acts (one write: etcd's hand-back) and says Unpivoting", async () => {
    const w = new SimWorld();
    runToCompletion(w);
    w.proveAll();
    w.cp = makeControlPlane({ mode: 'StaticPods' });
    const calls: Call[] = [];
    const events: EventInput[] = [];
    const result = await reconcilePass(deps(w, calls, events), 'cluster', signal, logger);
    // kubeadm-config is read only once the components are handed back (step 4), not on this pass.
    expect(calls.map((c) => `${c.verb} ${c.path}`)).toEqual([
      'apply /api/v1/namespaces/kube-system/configmaps/selfhost-agent-cp1',
      'apply /apis/selfhost.dev/v1alpha1/controlplanes/cluster/status',
    ]);
    const desired = parseAgentDesired(String((calls[0]?.body?.['data'] as Record<string, string>)['desired.json']));
    expect(desired.manifests.find((m) => m.path.endsWith('/etcd.yaml'))?.state).toBe('Handback');
    expect(result?.status.phase).toBe('Unpivoting');
    expect(events.map((e) => e.reason)).toEqual(['UnpivotStarted']);
  });

  it('does nothing for a ControlPlane that does not exist', async () => {
    const w = new SimWorld();
    const calls: Call[] = [];
    expect(await reconcilePass(deps(w, calls, []), 'other', signal, logger)).toBeUndefined();
    expect(calls).toEqual([]);
  });
});

describe('computeAgentDesiredText', () => {
  it('sets one manifest and keeps the others, sorted and deterministic', () => {
    const w = new SimWorld();
    w.apply({ type: 'ApplyAgent' });
    const d = w.desired();
    const scheduler = d.components.find((c) => c.name === 'kube-scheduler');
    const etcd = d.components.find((c) => c.name === 'etcd');
    if (scheduler === undefined || etcd === undefined) throw new Error('missing');
    const one = computeAgentDesiredText(undefined, scheduler, 'Prepared');
    const two = computeAgentDesiredText(one, etcd, 'Retired');
    const three = computeAgentDesiredText(two, scheduler, 'Retired');
    const parsed = parseAgentDesired(three);
    expect(parsed.manifests.map((m) => [m.path, m.state])).toEqual([
      ['/etc/kubernetes/manifests/etcd.yaml', 'Retired'],
      ['/etc/kubernetes/manifests/kube-scheduler.yaml', 'Retired'],
    ]);
    expect(parsed.manifests.every((m) => m.content === undefined)).toBe(true);
    expect(parseAgentDesired(one).manifests[0]?.content).toContain('--permit-port-sharing=true');
    expect(computeAgentDesiredText(two, scheduler, 'Retired')).toBe(three);
  });
});

describe('computeStepEvents', () => {
  const step = (component: string, state: string, message?: string) => ({
    component, action: 'Pivot', state, ...(message === undefined ? {} : { message }),
  });
  const status = (...steps: ReturnType<typeof step>[]) => ({ plan: { operation: 'Pivot', steps } }) as unknown as ControlPlaneStatus;
  it.each<[string, ControlPlaneStatus | undefined, ControlPlaneStatus, string[]]>([
    ['first sight of a running step', undefined, status(step('etcd', 'Running', 'go')), ['Normal PivotStarted Pivot etcd started: go']],
    ['running → succeeded', status(step('etcd', 'Running')), status(step('etcd', 'Succeeded')), ['Normal PivotSucceeded Pivot etcd succeeded']],
    ['running → failed', status(step('etcd', 'Running')), status(step('etcd', 'Failed', 'x')), ['Warning PivotFailed Pivot etcd failed: x']],
    ['unchanged', status(step('etcd', 'Running')), status(step('etcd', 'Running', 'other message')), []],
    ['pending is silent', undefined, status(step('etcd', 'Pending')), []],
  ])('%s', (_n, before, after, expected) => {
    expect(computeStepEvents(before, after).map((e) => `${e.type} ${e.reason} ${e.note}`)).toEqual(expected);
  });
});

/** The node's checkpoints as the operator would have written them (so a test's pass has other work). */
function syncCheckpoints(w: SimWorld): void {
  const sync = computeCheckpointPlan(w.snapshot(), new Date()).sync;
  if (sync !== undefined) w.desiredText = sync.text;
  w.runAgent();
}
