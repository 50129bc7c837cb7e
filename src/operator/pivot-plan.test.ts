import { describe, expect, it } from 'vitest';
import { agentConfigMapName, LABEL_AGENT_NODE, parseAgentDesired } from '../api/agent.js';
import type { JsonObject } from '../kube/client.js';
import { computeDesiredState, computePivotVersion } from './desired.js';
import { IMAGE, NODE, runToCompletion, SimWorld } from './testdata/world.js';
import { computePivotPlan, computeWantedStates, type PivotAction } from './pivot-plan.js';
import { computeSnapshot, type RawWorld } from './snapshot.js';

function summary(a: PivotAction): string {
  switch (a.type) {
    case 'ApplyWorkload':
      return `apply ${a.component}`;
    case 'SetManifest':
      return `${a.state} ${a.component}`;
    case 'Wait':
    case 'Blocked':
      return `${a.type}: ${a.reason}`;
    default:
      return a.type;
  }
}

/** A fresh kubeadm world whose agent is deployed and has reported. */
function readyWorld(): SimWorld {
  const w = new SimWorld();
  w.apply({ type: 'ApplyAgent' });
  return w;
}

describe('computePivotPlan: the whole pivot against the simulator', () => {
  it('orders the steps cni → kube-proxy → scheduler → controller-manager → apiserver → etcd', () => {
    const actions = runToCompletion(new SimWorld()).map(summary);
    expect(actions).toEqual([
      'ApplyAgent',
      'apply cni',
      'apply kube-proxy',
      'Prepared kube-scheduler',
      'apply kube-scheduler',
      'Retired kube-scheduler',
      'Prepared kube-controller-manager',
      'apply kube-controller-manager',
      'Retired kube-controller-manager',
      'apply kube-apiserver',
      'Retired kube-apiserver',
      'apply etcd',
      'Retired etcd',
      'Done',
    ]);
  });

  it('leaves every static manifest retired, each backed up with its original', () => {
    const w = new SimWorld();
    const originals = new Map(w.manifests);
    runToCompletion(w);
    expect([...w.manifests.keys()]).toEqual([]);
    expect(w.backups).toEqual(originals);
    expect(w.mirrors.size).toBe(0);
  });

  it('is a no-op once done: the same world plans Done again', () => {
    const w = new SimWorld();
    runToCompletion(w);
    expect(w.plan().action).toEqual({ type: 'Done' });
  });

  it('plans the same action at every intermediate state when replayed (no hidden state)', () => {
    // Replay the pivot on a second world: at each step its plan equals the reference run's.
    const reference = new SimWorld();
    const steps = runToCompletion(reference);
    const w = new SimWorld();
    for (const step of steps) {
      expect(w.plan().action).toEqual(step);
      w.apply(step);
    }
  });
});

describe('computePivotPlan: states of one step', () => {
  it.each<[string, (w: SimWorld) => void, string]>([
    ['no agent report yet', (w) => (w.agentActedOn = undefined), 'Wait: waiting for the node agent to report the static manifests'],
    [
      'the agent has not acted on the latest desired.json',
      (w) => {
        w.desiredText = '{"manifests":[]}';
      },
      'Wait: preflight: the node agent on cp1 has not caught up with its desired state',
    ],
    [
      'node NotReady blocks the first disruptive step',
      (w) => {
        w.nodeReady = false;
      },
      'Wait: preflight: node(s) cp1 not Ready',
    ],
    [
      'agent pod not Ready blocks disruptive steps',
      (w) => {
        w.agentPodReady = false;
      },
      'Wait: preflight: the node agent on cp1 is not Ready',
    ],
    [
      'an unready static component blocks disruptive steps',
      (w) => {
        const m = w.mirrors.get('etcd');
        if (m) w.mirrors.set('etcd', { ...m, ready: false });
      },
      'Wait: preflight: etcd has no Ready instance on cp1',
    ],
  ])('%s', (_name, mutate, expected) => {
    const w = readyWorld();
    mutate(w);
    expect(summary(w.plan().action)).toBe(expected);
  });

  it('waits for the static scheduler to restart with port sharing before applying its workload', () => {
    const w = readyWorld();
    runUntil(w, 'Prepared kube-scheduler');
    const m = w.mirrors.get('kube-scheduler');
    if (m === undefined) throw new Error('no mirror');
    w.mirrors.set('kube-scheduler', { ...m, command: m.command.filter((a) => !a.startsWith('--permit-port-sharing')) });
    expect(summary(w.plan().action)).toBe('Wait: waiting for the static kube-scheduler on cp1 to restart with port sharing');
  });

  it('after retiring the static apiserver, waits for the gated self-hosted one to be Ready', () => {
    const w = readyWorld();
    runUntil(w, 'Retired kube-apiserver');
    const p = w.selfPods.get('kube-apiserver');
    if (p === undefined) throw new Error('no pod');
    w.selfPods.set('kube-apiserver', { ...p, ready: false });
    expect(summary(w.plan().action)).toBe('Wait: waiting for the self-hosted kube-apiserver on cp1 to become Ready');
  });

  it.each(['etcd', 'kube-apiserver'] as const)('retires %s only once its self-hosted pod is bound and the gate runs', (c) => {
    const w = readyWorld();
    runUntil(w, `apply ${c}`);
    const p = w.selfPods.get(c);
    if (p === undefined) throw new Error('no pod');
    w.selfPods.set(c, { ...p, gate: false });
    expect(summary(w.plan().action)).toMatch(new RegExp(`^Wait: waiting for the handover gate of selfhost-${c}`));
    w.selfPods.delete(c);
    expect(summary(w.plan().action)).toBe(`Wait: waiting for the self-hosted ${c} pod to be placed on cp1`);
  });

  it('after a retire, waits for the mirror pod to go', () => {
    const w = readyWorld();
    runUntil(w, 'Retired kube-scheduler');
    w.mirrors.set('kube-scheduler', { ready: true, command: [], image: '' });
    expect(summary(w.plan().action)).toBe('Wait: the mirror pod kube-scheduler-cp1 is still there');
  });

  it('re-applies a workload deleted after its static manifest was retired', () => {
    const w = readyWorld();
    runUntil(w, 'Retired kube-scheduler');
    w.workloads.delete('Deployment/selfhost-kube-scheduler');
    expect(summary(w.plan().action)).toBe('apply kube-scheduler');
  });

  it('blocks when a manifest changed on disk under it', () => {
    const w = readyWorld();
    runUntil(w, 'apply cni');
    w.manifests.set('/etc/kubernetes/manifests/kube-scheduler.yaml', 'apiVersion: v1\nkind: Pod\n');
    expect(summary(w.plan().action)).toMatch(/^Blocked: /);
  });

  it('blocks on an agent conflict for the component', () => {
    const w = readyWorld();
    runUntil(w, 'apply kube-proxy');
    w.conflicts = [{ path: '/etc/kubernetes/manifests/kube-scheduler.yaml', message: 'backup differs' }];
    expect(summary(w.plan().action)).toBe('Blocked: backup differs');
  });

  it('names a manifest kubeadm wrote for a self-hosted component after the pivot, and what to do', () => {
    const w = new SimWorld();
    runToCompletion(w);
    w.proveAll();
    const path = '/etc/kubernetes/manifests/kube-scheduler.yaml';
    w.manifests.set(path, 'apiVersion: v1\nkind: Pod\nmetadata:\n  labels:\n    component: kube-scheduler\n    tier: control-plane\n');
    w.conflicts = [{ path, message: `${path} has sha256 x, which is neither the original nor a version selfhost wrote` }];
    const a = w.plan().action;
    expect(a.type).toBe('Blocked');
    expect(summary(a)).toContain(`a static manifest ${path} appeared on ${NODE} for the self-hosted kube-scheduler, written by kubeadm`);
    expect(summary(a)).toContain('move the file out of the manifest directory');
  });

  it('refuses to start when a component cannot be converted, touching nothing', () => {
    const w = readyWorld();
    w.manifests.set('/etc/kubernetes/manifests/kube-scheduler.yaml', 'apiVersion: v1\nkind: Deployment\n');
    w.backups.clear();
    const a = w.plan().action;
    expect(a.type).toBe('Blocked');
    expect(summary(a)).toContain('kube-scheduler.yaml');
  });
});

/** Runs the planner/simulator until (and including) the action with this summary. */
function runUntil(w: SimWorld, target: string): void {
  for (let i = 0; i < 50; i++) {
    const { action } = w.plan();
    if (action.type === 'Wait' || action.type === 'Blocked' || action.type === 'Done') throw new Error(`stopped at ${summary(action)}`);
    w.apply(action);
    if (summary(action) === target) return;
  }
  throw new Error(`never reached ${target} on ${NODE}`);
}

describe('computePivotPlan: two control-plane nodes', () => {
  const rename = (o: JsonObject, from: string, to: string): JsonObject => JSON.parse(JSON.stringify(o).split(from).join(to)) as JsonObject;
  /** `now` plus a node cp2 as `before` had cp1: its Node, agent ConfigMap, mirror pods and agent pod. */
  function withSecondNode(now: RawWorld, before: RawWorld): RawWorld {
    const onCp1 = (p: JsonObject): boolean => (p['spec'] as { nodeName?: string } | undefined)?.nodeName === NODE;
    const meta = (p: JsonObject): { name?: string; annotations?: Record<string, string> } => (p['metadata'] ?? {}) as { name?: string; annotations?: Record<string, string> };
    const isMirror = (p: JsonObject): boolean => meta(p).annotations?.['kubernetes.io/config.mirror'] !== undefined;
    const isAgent = (p: JsonObject): boolean => meta(p).name?.startsWith('selfhost-agent') === true;
    const agentCm = before.configMaps.find((c) => (c['metadata'] as { labels?: Record<string, string> }).labels?.[LABEL_AGENT_NODE] === NODE);
    if (agentCm === undefined) throw new Error('no agent ConfigMap');
    const cp2Cm = { ...agentCm, metadata: { ...(agentCm['metadata'] as JsonObject), name: agentConfigMapName('cp2'), labels: { [LABEL_AGENT_NODE]: 'cp2' } } };
    return {
      ...now,
      nodes: [...now.nodes, rename(now.nodes[0] ?? {}, NODE, 'cp2')],
      configMaps: [...now.configMaps, cp2Cm],
      pods: [...now.pods, ...before.pods.filter((p) => onCp1(p) && (isMirror(p) || isAgent(p))).map((p) => rename(p, NODE, 'cp2'))],
    };
  }
  function planOf(raw: RawWorld): string {
    const snap = computeSnapshot(raw, agentConfigMapName);
    const atVersion = computePivotVersion(snap);
    const desired = computeDesiredState(snap, { image: IMAGE, ...(atVersion === undefined ? {} : { atVersion }) });
    const a = computePivotPlan(snap, desired, computeWantedStates(snap, parseAgentDesired)).action;
    return a.type === 'SetManifest' ? `${a.state} ${a.component} on ${a.node}` : summary(a);
  }

  it("prepares every node's static scheduler before the scheduler Deployment exists: its replicas start on all nodes at once", () => {
    const w = readyWorld();
    runUntil(w, 'apply kube-proxy');
    const before = w.raw();
    expect(planOf(withSecondNode(w.raw(), before))).toBe('Prepared kube-scheduler on cp1');
    runUntil(w, 'Prepared kube-scheduler');
    // cp1's static shares its port now; cp2's does not yet: the Deployment must wait for it.
    expect(planOf(withSecondNode(w.raw(), before))).toBe('Prepared kube-scheduler on cp2');
  });
});
