import { load } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import type { ControlPlaneSpec } from '../api/types.js';
import { makeControlPlane, NODE, runToCompletion, runUnpivotToCompletion, SimWorld } from './testdata/world.js';
import { parseAgentDesired } from '../api/agent.js';
import { computeDesiredState } from './desired.js';
import { computeWantedStates } from './pivot-plan.js';
import { IMAGE } from './testdata/world.js';
import { computeRestoreSet } from './unpivot-desired.js';
import { computeUnpivotPlan, type UnpivotAction } from './unpivot-plan.js';

function summary(a: UnpivotAction): string {
  switch (a.type) {
    case 'WriteAgentDesired':
      return `write: ${a.why}`;
    case 'DeletePod':
      return `delete pod ${a.component}`;
    case 'DeleteWorkload':
      return `delete ${a.kind}/${a.name}`;
    case 'UpdateKubeadmConfig':
      return `kubeadm-config: ${a.changes.join(', ')}`;
    case 'DeleteJobs':
      return `delete jobs ${a.names.join(', ')}`;
    case 'DeleteConfigMaps':
      return `delete configmaps ${a.names.join(', ')}`;
    case 'Wait':
    case 'Blocked':
      return `${a.type}: ${a.reason}`;
    case 'ReadKubeadmConfig':
    case 'Done':
      return a.type;
  }
}

/** A pivoted, proven world with checkpoints on the node, then spec.mode StaticPods. */
function pivotedThenUnpivot(spec: Partial<ControlPlaneSpec> = {}, sourceVersion = 'v1.37.2'): SimWorld {
  const w = new SimWorld(spec, sourceVersion);
  runToCompletion(w);
  w.proveAll();
  w.checkpoints = [{ component: 'etcd', sha256: 'a'.repeat(64), active: false, standby: true }];
  w.desiredText = JSON.stringify({ ...(JSON.parse(w.desiredText ?? '{}') as object), checkpoints: [{ component: 'etcd', content: 'x', standby: true }] });
  w.runAgent();
  w.checkpoints = [{ component: 'etcd', sha256: 'a'.repeat(64), active: false, standby: true }];
  w.cp = makeControlPlane({ ...spec, mode: 'StaticPods' });
  return w;
}

const EXPECTED = [
  `write: remove the checkpoints on ${NODE} before handing components back`,
  `write: hand etcd back on ${NODE}: write its static pod beside the self-hosted one`,
  'delete pod etcd',
  'delete DaemonSet/selfhost-etcd',
  `write: hand kube-apiserver back on ${NODE}: write its static pod beside the self-hosted one`,
  'delete DaemonSet/selfhost-kube-apiserver',
  `write: hand kube-controller-manager back on ${NODE}: write its static pod beside the self-hosted one`,
  'delete Deployment/selfhost-kube-controller-manager',
  `write: hand kube-scheduler back on ${NODE}: write its static pod beside the self-hosted one`,
  'delete Deployment/selfhost-kube-scheduler',
  `write: write the static pods of etcd, kube-apiserver, kube-controller-manager, kube-scheduler on ${NODE} in kubeadm's form (they restart together)`,
  `write: release ${NODE}: nothing there is self-hosted any more (the agent removes its backups)`,
  'delete DaemonSet/selfhost-agent',
  'delete configmaps selfhost-agent-cp1, selfhost-revisions',
  'Done',
];

describe('computeUnpivotPlan: the whole unpivot against the simulator', () => {
  it('goes etcd → apiserver → controller-manager → scheduler, each: hand-back, workload gone; then all into kubeadm form at once; then clean-up', () => {
    const w = pivotedThenUnpivot();
    // Checkpoints are cleared by the first write; the simulated agent then reports none.
    const actions = runUnpivotToCompletion(w).map(summary);
    expect(actions).toEqual(EXPECTED);
  });

  it("leaves kubeadm's manifests (the originals at an unchanged version), no backup, no workload, no ConfigMap of selfhost", () => {
    const originals = new SimWorld().manifests;
    const w = pivotedThenUnpivot();
    runUnpivotToCompletion(w);
    // Re-serialised (key order may differ), the same objects.
    const objects = (m: Map<string, string>) => new Map([...m].map(([p, c]) => [p, load(c)]));
    expect(objects(w.manifests)).toEqual(objects(originals));
    expect(w.backups.size).toBe(0);
    expect([...w.workloads.keys()].filter((k) => /selfhost-(agent|etcd|kube-)/.test(k))).toEqual([]);
    expect([...w.workloads.keys()]).toContain('DaemonSet/kube-proxy');
    expect(w.agentConfigMap).toBe(false);
    expect(w.revisionsData).toBeUndefined();
    expect([...w.mirrors.values()].every((m) => m.ready)).toBe(true);
  });

  // Whole simulated runs: about 1–5 s on an idle machine, more while a node tier shares the 2 cores.
  it('plans the same action at every intermediate state when replayed (no hidden state: a crash anywhere resumes)', { timeout: 20_000 }, () => {
    const reference = pivotedThenUnpivot();
    const steps = runUnpivotToCompletion(reference);
    const w = pivotedThenUnpivot();
    for (const step of steps) {
      expect(w.unpivot().action).toEqual(step);
      // Planning twice changes nothing either.
      expect(w.unpivot().action).toEqual(step);
      w.applyUnpivot(step);
    }
  });

  it("deletes the pre-upgrade snapshot Jobs with the rest (their files stay on the node)", () => {
    const w = pivotedThenUnpivot();
    w.snapshotPods = [{ metadata: { name: 'selfhost-etcd-snapshot-abc-x1', namespace: 'kube-system', labels: { 'selfhost.dev/component': 'etcd-snapshot', 'batch.kubernetes.io/job-name': 'selfhost-etcd-snapshot-abc' } }, spec: { nodeName: NODE }, status: { phase: 'Succeeded' } }];
    const actions = runUnpivotToCompletion(w).map(summary);
    expect(actions.slice(-3)).toEqual(['delete jobs selfhost-etcd-snapshot-abc', 'delete configmaps selfhost-agent-cp1, selfhost-revisions', 'Done']);
  });

  it('asks for kubeadm-config only once every component is handed back (no read on the passes before)', () => {
    const w = pivotedThenUnpivot();
    const snapAt = () => {
      const snap = w.snapshot();
      const desired = computeDesiredState(snap, { image: IMAGE, atVersion: snap.controlPlane.spec.version });
      return computeUnpivotPlan({ snap, desired, restore: computeRestoreSet(snap, desired, IMAGE), want: computeWantedStates(snap, parseAgentDesired) }).action;
    };
    const asked: string[] = [];
    for (let i = 0; i < 40; i++) {
      const unread = snapAt();
      asked.push(unread.type);
      const { action } = w.unpivot();
      if (action.type === 'Done') break;
      w.applyUnpivot(action);
    }
    // Every pass before step 4 plans without it; step 4 asks for it exactly there.
    expect(asked.indexOf('ReadKubeadmConfig')).toBe(EXPECTED.indexOf(`write: release ${NODE}: nothing there is self-hosted any more (the agent removes its backups)`));
    expect(asked.filter((t) => t === 'ReadKubeadmConfig')).toHaveLength(1);
  });

  it('is Done and finished once nothing of selfhost is left', () => {
    const w = pivotedThenUnpivot();
    runUnpivotToCompletion(w);
    const plan = w.unpivot();
    expect(plan.action).toEqual({ type: 'Done' });
    expect(plan.finished).toBe(true);
  });

  it('after an upgrade by selfhost, writes the upgraded version and tells kubeadm-config', () => {
    // Pivoted at v1.37.1, then upgraded to v1.37.2 (the workloads run it), then unpivoted.
    const w = new SimWorld({ version: 'v1.37.1' }, 'v1.37.1');
    runToCompletion(w);
    w.proveAll();
    w.cp = makeControlPlane({ version: 'v1.37.2', etcd: { ...w.cp.spec.etcd, snapshotBeforeUpgrade: false } });
    const t0 = Date.parse('2026-11-25T10:00:00Z');
    for (let i = 0; i < 80; i++) {
      const now = new Date(t0 + i * 11_000);
      const r = w.rollout(now, () => new Date(t0));
      if (r.action.type === 'Done' || r.action.type === 'Blocked') break;
      if (r.action.type !== 'Wait') w.applyRollout(r.action, { readySince: now.toISOString() });
    }
    expect(w.rollout(new Date(t0 + 81 * 11_000)).action.type).toBe('Done');
    w.cp = makeControlPlane({ version: 'v1.37.2', mode: 'StaticPods', etcd: { ...w.cp.spec.etcd, snapshotBeforeUpgrade: false } });
    const actions = runUnpivotToCompletion(w).map(summary);
    expect(actions, JSON.stringify(actions)).toContain('kubeadm-config: kubernetesVersion v1.37.1 → v1.37.2');
    expect(actions.at(-1)).toBe('Done');
    for (const [path, content] of w.manifests) {
      const image = (load(content) as { spec: { containers: { image: string }[] } }).spec.containers[0]?.image ?? '';
      if (!path.endsWith('etcd.yaml')) expect(image).toMatch(/:v1\.37\.2$/);
      expect(content).not.toContain('permit-port-sharing');
    }
  });

  it('hands back nothing of a cluster that was never pivoted: only the agent bits go', () => {
    const w = new SimWorld({ mode: 'StaticPods' });
    w.apply({ type: 'ApplyAgent' });
    const before = new Map(w.manifests);
    const actions = runUnpivotToCompletion(w).map(summary);
    expect(actions.filter((a) => a.includes('static pod') || a.startsWith('delete pod'))).toEqual([]);
    expect(w.manifests).toEqual(before);
    expect(actions.at(-1)).toBe('Done');
  });
});

describe('computeUnpivotPlan: refusals and waits', () => {
  it('refuses while the workloads do not run spec.version, naming it, and changes nothing', () => {
    const w = new SimWorld({ version: 'v1.37.1' }, 'v1.37.1');
    runToCompletion(w);
    w.proveAll();
    w.cp = makeControlPlane({ version: 'v1.37.2', mode: 'StaticPods' });
    const { action } = w.unpivot();
    expect(action.type).toBe('Blocked');
    expect(summary(action)).toMatch(/does not run what spec asks for \(spec\.version v1\.37\.2\)/);
  });

  it('stops at a manifest someone else wrote during the unpivot, naming the file', () => {
    const w = pivotedThenUnpivot();
    const steps = runUnpivotToCompletion(w).slice(0, 3);
    const fresh = pivotedThenUnpivot();
    for (const s of steps) fresh.applyUnpivot(s);
    fresh.manifests.set('/etc/kubernetes/manifests/etcd.yaml', 'written: by kubeadm upgrade\n');
    const { action } = fresh.unpivot();
    expect(action.type).toBe('Blocked');
    expect(summary(action)).toContain('/etc/kubernetes/manifests/etcd.yaml on cp1 was written by someone else');
  });

  it('waits for the preflight before a disruptive step (node not Ready)', () => {
    const w = pivotedThenUnpivot();
    w.applyUnpivot(w.unpivot().action); // checkpoints cleared
    w.nodeReady = false;
    const { action } = w.unpivot();
    expect(action).toMatchObject({ type: 'Wait', component: 'etcd' });
    expect(summary(action)).toContain('preflight: node(s) cp1 not Ready');
  });

  it('waits while the static etcd has not started its gate, and never deletes the member before', () => {
    const w = pivotedThenUnpivot();
    w.applyUnpivot(w.unpivot().action); // checkpoints
    w.applyUnpivot(w.unpivot().action); // etcd hand-back written
    w.mirrors.delete('etcd'); // the kubelet has not started it yet
    const { action } = w.unpivot();
    expect(action.type).toBe('Wait');
    expect(summary(action)).toContain('static etcd on cp1 to start its gate');
  });
});
