import { describe, expect, it } from 'vitest';
import type { ComponentName, ControlPlaneSpec, LastUpgrade } from '../api/types.js';
import { computeCheckpointPlan } from './checkpoint-plan.js';
import { computeDesiredState } from './desired.js';
import { formatRefusal } from '../convert/index.js';
import { computeRolloutPlan, computeTargetHash, type RolloutAction } from './rollout-plan.js';
import { computeLastUpgrade, computeRolloutPlanStatus } from './rollout-status.js';
import { IMAGE, runToCompletion, SimWorld } from './testdata/world.js';

const T0 = new Date('2026-11-25T10:00:00Z');
const later = (s: number) => new Date(T0.getTime() + s * 1000);

/** A pivoted, proven cluster at `from`, with spec changed to `spec` (no pre-upgrade snapshot unless asked). */
function pivoted(from: string, spec: Partial<ControlPlaneSpec>, snapshot = false): SimWorld {
  const w = new SimWorld({ version: from }, from);
  runToCompletion(w);
  w.proveAll();
  w.cp = { ...w.cp, spec: { ...w.cp.spec, etcd: { ...w.cp.spec.etcd, snapshotBeforeUpgrade: snapshot }, ...spec } };
  return w;
}

/** The operator's checkpoint sync and the agent's report, as reconcile and the node would do them. */
function keepCheckpoints(w: SimWorld): void {
  const sync = computeCheckpointPlan(w.snapshot(), T0).sync;
  if (sync !== undefined) w.desiredText = sync.text;
  w.runAgent();
}

function describeAction(a: RolloutAction): string {
  switch (a.type) {
    case 'Apply':
      return `Apply ${a.component} (${a.why})`;
    case 'RecordRevision':
    case 'Fail':
      return `${a.type} ${a.component}`;
    case 'DeletePod':
      return `DeletePod ${a.component}`;
    case 'CreateSnapshotJob':
    case 'RecordSnapshot':
      return a.type;
    case 'Wait':
    case 'Blocked':
      return `${a.type} ${a.component ?? ''}`.trim();
    case 'Done':
      return 'Done';
  }
}

/**
 * Drives the planner like reconcile does: act, let time pass (settle), record status the way
 * status.ts would (lastUpgrade), until Done/Blocked. Returns the action trail.
 */
function drive(w: SimWorld, opts: { crash?: ComponentName; limit?: number } = {}): string[] {
  const trail: string[] = [];
  let t = 0;
  for (let i = 0; i < (opts.limit ?? 60); i++) {
    const now = later(t);
    const r = w.rollout(now, () => later(0));
    trail.push(describeAction(r.action));
    const last = computeLastUpgrade(r, w.cp.status?.lastUpgrade, w.cp.spec.version, w.cp.spec.upgrade.autoRollback, now);
    const plan = computeRolloutPlanStatus(r, w.cp.status?.plan, w.cp.spec.version, now);
    w.cp = { ...w.cp, status: { ...w.cp.status, ...(last === undefined ? {} : { lastUpgrade: last }), ...(plan === undefined ? {} : { plan }) } };
    if (r.action.type === 'Done' || r.action.type === 'Blocked') return trail;
    const crash = r.action.type === 'Apply' && r.action.why === 'Rollout' && r.action.component === opts.crash;
    w.applyRollout(r.action, {
      readySince: now.toISOString(),
      ...(crash ? { crash: { reason: 'CrashLoopBackOff', message: 'Error: unknown flag: --no-such-flag' } } : {}),
    });
    t += 11;
  }
  throw new Error(`no end: ${trail.slice(-5).join(', ')}`);
}

describe('computeRolloutPlan', () => {
  it('does nothing on a proven cluster at spec.version', () => {
    const w = pivoted('v1.37.2', {});
    const r = w.rollout(T0);
    expect(r.action).toEqual({ type: 'Done' });
    expect(r.steps).toEqual([]);
  });

  it('upgrades a patch: a verified etcd snapshot first, then one component at a time in skew order, each behind its gate', () => {
    const w = pivoted('v1.37.1', { version: 'v1.37.2' }, true);
    const first = w.rollout(T0);
    // etcd keeps 3.7.0 across v1.37 patches: no step for it.
    expect(first.steps.map((s) => `${s.component} ${s.action} ${s.fromVersion ?? ''}→${s.toVersion ?? ''} ${s.state}`)).toEqual([
      'etcd Snapshot → Pending',
      'kube-apiserver Upgrade v1.37.1→v1.37.2 Pending',
      'kube-controller-manager Upgrade v1.37.1→v1.37.2 Pending',
      'kube-scheduler Upgrade v1.37.1→v1.37.2 Pending',
      'kube-proxy Upgrade v1.37.1→v1.37.2 Pending',
    ]);
    expect(drive(w)).toEqual([
      'CreateSnapshotJob',
      'RecordSnapshot',
      'Apply kube-apiserver (Rollout)',
      'RecordRevision kube-apiserver',
      'Apply kube-controller-manager (Rollout)',
      'RecordRevision kube-controller-manager',
      'Apply kube-scheduler (Rollout)',
      'RecordRevision kube-scheduler',
      'Apply kube-proxy (Rollout)',
      'RecordRevision kube-proxy',
      'Done',
    ]);
    expect(w.cp.status?.lastUpgrade?.result).toBe('Succeeded');
    expect(w.cp.status?.lastUpgrade?.snapshot).toMatchObject({ node: 'cp1', path: '/var/lib/selfhost/etcd-snapshots/x.db', revision: 82, keys: 81 });
    expect(w.cp.status?.lastUpgrade?.fromVersion).toBe('v1.37.1');
    expect(w.cp.status?.plan?.operation).toBe('Upgrade');
    expect(w.cp.status?.plan?.steps.map((s) => `${s.component} ${s.action} ${s.fromVersion ?? ''}→${s.toVersion ?? ''} ${s.state}`)).toEqual([
      'etcd Snapshot → Succeeded',
      'kube-apiserver Upgrade v1.37.1→v1.37.2 Succeeded',
      'kube-controller-manager Upgrade v1.37.1→v1.37.2 Succeeded',
      'kube-scheduler Upgrade v1.37.1→v1.37.2 Succeeded',
      'kube-proxy Upgrade v1.37.1→v1.37.2 Succeeded',
    ]);
    // Each step ran for a while: Running, then Succeeded, with its own times.
    for (const s of w.cp.status?.plan?.steps ?? []) expect(Date.parse(s.finishedAt ?? '')).toBeGreaterThan(Date.parse(s.startedAt ?? ''));
    // Done stays Done: the next pass changes nothing.
    expect(w.rollout(later(9999)).action).toEqual({ type: 'Done' });
  });

  it('a failed snapshot stops the upgrade before anything moves, and says why', () => {
    const w = pivoted('v1.37.1', { version: 'v1.37.2' }, true);
    w.snapshotOutcome = { exitCode: 1, message: JSON.stringify({ ok: false, name: 'x', error: '/var/lib/selfhost/etcd-snapshots has 10 MiB free; one more snapshot needs 1.1 GiB' }) };
    const trail = drive(w);
    expect(trail).toEqual(['CreateSnapshotJob', 'Blocked etcd']);
    const r = w.rollout(later(100)).action;
    expect(r.type === 'Blocked' && r.reason).toMatch(/etcd snapshot before the upgrade failed: .*10 MiB free/);
    expect(w.workloads.get('DaemonSet/selfhost-kube-apiserver')?.['spec']).toEqual(w.snapshot().revisions.get('kube-apiserver')?.object['spec']);
  });

  // Whole simulated runs: about 1–5 s on an idle machine, more while a node tier shares the 2 cores.
  it('names each snapshot for its cluster, edit and target: a new cluster or a new edit never reuses an old file', { timeout: 20_000 }, () => {
    const jobName = (uid: string, generation: number): string => {
      const w = pivoted('v1.37.1', { version: 'v1.37.2' }, true);
      w.cp = { ...w.cp, metadata: { ...w.cp.metadata, uid, generation } };
      const a = w.rollout(T0).action;
      if (a.type !== 'CreateSnapshotJob') throw new Error(a.type);
      return String((a.job['metadata'] as { name: string }).name);
    };
    expect(jobName('uid-1', 2)).toBe(jobName('uid-1', 2));
    expect(jobName('uid-2', 2)).not.toBe(jobName('uid-1', 2));
    expect(jobName('uid-1', 3)).not.toBe(jobName('uid-1', 2));
  });

  it('takes no snapshot for a change that moves no version (an override)', () => {
    const w = pivoted('v1.37.2', { overrides: { 'kube-scheduler': { extraArgs: [{ name: 'v', value: '3' }] } } }, true);
    expect(drive(w)[0]).toBe('Apply kube-scheduler (Rollout)');
  });

  it('waits for the settle period: a pod Ready for 1 s does not pass', () => {
    const w = pivoted('v1.37.1', { version: 'v1.37.2' });
    const apply = w.rollout(T0).action;
    w.applyRollout(apply, { readySince: T0.toISOString() });
    const r = w.rollout(later(1), () => T0);
    expect(r.action.type).toBe('Wait');
    expect(r.action.type === 'Wait' && r.action.reason).toMatch(/not yet Ready for 10 s/);
    expect(w.rollout(later(10), () => T0).action.type).toBe('RecordRevision');
  });

  it('a crash-looping apiserver fails its gate, is rolled back to the exact object that ran, and is not retried', () => {
    const w = pivoted('v1.37.2', {});
    const proven = w.snapshot().revisions.get('kube-apiserver')?.object;
    w.cp = { ...w.cp, spec: { ...w.cp.spec, overrides: { 'kube-apiserver': { extraArgs: [{ name: 'no-such-flag', value: 'x' }] } } } };
    const trail = drive(w, { crash: 'kube-apiserver' });
    expect(trail).toEqual(['Apply kube-apiserver (Rollout)', 'Fail kube-apiserver', 'Apply kube-apiserver (Rollback)', 'Done']);
    const last = w.cp.status?.lastUpgrade;
    expect(last?.result).toBe('RolledBack');
    expect(last?.failedComponent).toBe('kube-apiserver');
    expect(last?.message).toMatch(/CrashLoopBackOff \(exit code 1\): Error: unknown flag: --no-such-flag/);
    expect(w.workloads.get('DaemonSet/selfhost-kube-apiserver')?.['spec']).toEqual(proven?.['spec']);
    // No loop: the same target stays rolled back.
    const again = w.rollout(later(600));
    expect(again.mode).toBe('Rollback');
    expect(again.action).toEqual({ type: 'Done' });
    // A new spec is a new target: tried again.
    w.cp = { ...w.cp, spec: { ...w.cp.spec, overrides: { 'kube-apiserver': { extraArgs: [{ name: 'audit-log-maxage', value: '30' }] } } } };
    expect(describeAction(w.rollout(later(700)).action)).toBe('Apply kube-apiserver (Rollout)');
  });

  it('restores every already-upgraded component in reverse order when a later step fails', () => {
    const w = pivoted('v1.37.1', { version: 'v1.37.2' });
    const trail = drive(w, { crash: 'kube-scheduler' });
    expect(trail).toEqual([
      'Apply kube-apiserver (Rollout)',
      'RecordRevision kube-apiserver',
      'Apply kube-controller-manager (Rollout)',
      'RecordRevision kube-controller-manager',
      'Apply kube-scheduler (Rollout)',
      'Fail kube-scheduler',
      'Apply kube-scheduler (Rollback)',
      'Done',
    ]);
  });

  it('rolls back on a node whose other pods restarted before (a reboot): their history does not hold the rollback', () => {
    const w = pivoted('v1.37.2', {});
    for (const c of ['kube-scheduler', 'kube-controller-manager', 'etcd'] as const) {
      const pod = w.selfPods.get(c);
      if (pod !== undefined) w.selfPods.set(c, { ...pod, restarts: 3 });
    }
    w.cp = { ...w.cp, spec: { ...w.cp.spec, overrides: { 'kube-apiserver': { extraArgs: [{ name: 'no-such-flag', value: 'x' }] } } } };
    expect(drive(w, { crash: 'kube-apiserver' })).toEqual(['Apply kube-apiserver (Rollout)', 'Fail kube-apiserver', 'Apply kube-apiserver (Rollback)', 'Done']);
    expect(w.cp.status?.lastUpgrade?.result).toBe('RolledBack');
  });

  it('with autoRollback false stops at the failed step and restores nothing', () => {
    const w = pivoted('v1.37.1', { version: 'v1.37.2', upgrade: { healthTimeout: '5m', autoRollback: false } });
    const trail = drive(w, { crash: 'kube-apiserver' });
    expect(trail).toEqual(['Apply kube-apiserver (Rollout)', 'Fail kube-apiserver', 'Blocked kube-apiserver']);
    expect(w.cp.status?.lastUpgrade?.result).toBe('Failed');
  });

  it('passes the apiserver step only when the API serves the new version (/version)', () => {
    const w = pivoted('v1.37.1', { version: 'v1.37.2' });
    w.applyRollout(w.rollout(T0).action, { readySince: T0.toISOString() });
    const input = { snap: w.snapshot(), target: w.target(), now: later(11), stepStartedAt: () => T0, settleMs: 10_000, image: IMAGE };
    const old = computeRolloutPlan({ ...input, servedVersion: 'v1.37.1' }).action;
    expect(old.type === 'Wait' && old.reason).toBe('the API serves v1.37.1, not yet v1.37.2 (/version)');
    expect(computeRolloutPlan({ ...input, servedVersion: 'v1.37.2' }).action.type).toBe('RecordRevision');
  });

  it('fails a step that is not healthy within spec.upgrade.healthTimeout', () => {
    const w = pivoted('v1.37.1', { version: 'v1.37.2', upgrade: { healthTimeout: '30s', autoRollback: true } });
    const apply = w.rollout(T0).action;
    w.applyRollout(apply, { readySince: T0.toISOString() });
    const pod = w.selfPods.get('kube-apiserver');
    if (pod === undefined) throw new Error('no apiserver pod');
    w.selfPods.set('kube-apiserver', { ...pod, ready: false });
    expect(w.rollout(later(20), () => T0).action.type).toBe('Wait');
    const r = w.rollout(later(31), () => T0).action;
    expect(r.type).toBe('Fail');
    expect(r.type === 'Fail' && r.message).toMatch(/not healthy within spec.upgrade.healthTimeout \(30 s\)/);
  });

  it.each<[string, Partial<ControlPlaneSpec>, string, RegExp]>([
    ['a minor skip', { version: 'v1.39.0' }, 'Blocked', /not supported|skips a minor/],
    ['a version outside the release table', { version: 'v1.38.0' }, 'Blocked', /v1\.38\.0 is not supported/],
  ])('refuses %s and changes nothing', (_n, spec, type, message) => {
    const w = pivoted('v1.37.2', spec);
    const r = w.rollout(T0);
    expect(r.action.type).toBe(type);
    expect(r.action.type === 'Blocked' && r.action.reason).toMatch(message);
  });

  it('rolls an etcd template change through its checkpoint: apply (OnDelete), lift the standby, replace the pod, gate', () => {
    const w = pivoted('v1.37.2', { overrides: { etcd: { extraArgs: [{ name: 'snapshot-count', value: '5000' }] } } });
    // Without a checkpoint on the node nothing moves: the checkpoint is what holds the member.
    const before = w.rollout(T0).action;
    expect(before.type === 'Wait' && before.reason).toMatch(/^preflight: etcd has no checkpoint on cp1/);
    keepCheckpoints(w);
    const trail: string[] = [];
    for (let i = 0, t = 0; i < 12; i++, t += 11) {
      const r = w.rollout(later(t), () => later(0)).action;
      trail.push(r.type === 'Wait' ? `Wait ${r.reason}` : describeAction(r));
      if (r.type === 'Done' || r.type === 'Blocked') break;
      w.applyRollout(r, { readySince: later(t).toISOString() });
      keepCheckpoints(w);
    }
    expect(trail).toEqual([
      'Apply etcd (Rollout)',
      'DeletePod etcd',
      'RecordRevision etcd',
      'Done',
    ]);
  });

  it('upgrades a minor in one edit: etcd through the published 3.6.11 (its own gated step), then 3.7.0, then Kubernetes', () => {
    const w = pivoted('v1.36.4', { version: 'v1.37.2' }, true);
    keepCheckpoints(w);
    const fmt = (s: { component: string; action?: string; fromVersion?: string; toVersion?: string; state: string }) => `${s.component} ${s.action ?? ''} ${s.fromVersion ?? ''}→${s.toVersion ?? ''} ${s.state}`;
    expect(w.rollout(T0).steps.map(fmt)).toEqual([
      'etcd Snapshot → Pending',
      'etcd Upgrade 3.6.8→3.6.11 Pending',
      'etcd Upgrade 3.6.11→3.7.0 Pending',
      'kube-apiserver Upgrade v1.36.4→v1.37.2 Pending',
      'kube-controller-manager Upgrade v1.36.4→v1.37.2 Pending',
      'kube-scheduler Upgrade v1.36.4→v1.37.2 Pending',
      'kube-proxy Upgrade v1.36.4→v1.37.2 Pending',
    ]);
    const trail: string[] = [];
    const images: string[] = [];
    for (let i = 0, t = 0; i < 40; i++, t += 11) {
      const now = later(t);
      const r = w.rollout(now, (c) => {
        const step = w.cp.status?.plan?.steps.find((s) => s.component === c && s.state === 'Running');
        return step?.startedAt === undefined ? undefined : new Date(step.startedAt);
      });
      trail.push(describeAction(r.action));
      const last = computeLastUpgrade(r, w.cp.status?.lastUpgrade, w.cp.spec.version, true, now);
      const plan = computeRolloutPlanStatus(r, w.cp.status?.plan, w.cp.spec.version, now);
      w.cp = { ...w.cp, status: { ...w.cp.status, ...(last === undefined ? {} : { lastUpgrade: last }), ...(plan === undefined ? {} : { plan }) } };
      if (r.action.type === 'Done' || r.action.type === 'Blocked') break;
      if (r.action.type === 'Apply' && r.action.component === 'etcd') {
        images.push(String((r.action.object['spec'] as { template: { spec: { containers: { image: string }[] } } }).template.spec.containers[0]?.image));
      }
      w.applyRollout(r.action, { readySince: now.toISOString() });
      keepCheckpoints(w);
    }
    expect(trail).toEqual([
      'CreateSnapshotJob',
      'RecordSnapshot',
      'Apply etcd (Rollout)',
      'DeletePod etcd',
      'RecordRevision etcd',
      'Apply etcd (Rollout)',
      'DeletePod etcd',
      'RecordRevision etcd',
      'Apply kube-apiserver (Rollout)',
      'RecordRevision kube-apiserver',
      'Apply kube-controller-manager (Rollout)',
      'RecordRevision kube-controller-manager',
      'Apply kube-scheduler (Rollout)',
      'RecordRevision kube-scheduler',
      'Apply kube-proxy (Rollout)',
      'RecordRevision kube-proxy',
      'Done',
    ]);
    expect(images.map((i) => i.split(':').at(-1))).toEqual(['3.6.11-0', '3.7.0-0']);
    expect(w.cp.status?.plan?.steps.map(fmt)).toEqual([
      'etcd Snapshot → Succeeded',
      'etcd Upgrade 3.6.8→3.6.11 Succeeded',
      'etcd Upgrade 3.6.11→3.7.0 Succeeded',
      'kube-apiserver Upgrade v1.36.4→v1.37.2 Succeeded',
      'kube-controller-manager Upgrade v1.36.4→v1.37.2 Succeeded',
      'kube-scheduler Upgrade v1.36.4→v1.37.2 Succeeded',
      'kube-proxy Upgrade v1.36.4→v1.37.2 Succeeded',
    ]);
    expect(w.cp.status?.lastUpgrade).toMatchObject({ fromVersion: 'v1.36.4', toVersion: 'v1.37.2', result: 'Succeeded' });
    expect(w.snapshot().revisions.get('etcd')?.version).toBe('3.7.0');
    // The pivot's planner stays Done: it converts at the proven apiserver's version, not at the
    // original manifests' v1.36.4 (there the upgraded kube-proxy would be "newer than its apiserver").
    expect(w.desired().refusals).toEqual([]);
    expect(w.plan().action).toEqual({ type: 'Done' });
    const atOriginals = computeDesiredState(w.snapshot(), { image: IMAGE });
    expect(atOriginals.refusals.map(formatRefusal).join()).toMatch(/kube-proxy runs v1\.37\.2, 1 minor newer than kube-apiserver v1\.36\.4/);
  });

  it("replaces etcd's pod only once the kubelet runs the checkpoint of the proven revision (not while it restarts a rewritten one)", () => {
    const w = pivoted('v1.36.4', { version: 'v1.37.2' });
    keepCheckpoints(w);
    const trail: string[] = [];
    let paused = false;
    for (let i = 0, t = 0; i < 40; i++, t += 11) {
      const now = later(t);
      const r = w.rollout(now, () => later(0)).action;
      trail.push(r.type === 'Wait' ? `Wait ${r.reason}` : describeAction(r));
      if (r.type === 'Done' || r.type === 'Blocked') break;
      if (r.type === 'Wait' && paused) {
        // The kubelet finishes restarting the rewritten checkpoint.
        w.checkpointKubeletPaused = false;
        w.runCheckpointKubelet();
        paused = false;
        continue;
      }
      w.applyRollout(r, { readySince: now.toISOString() });
      if (r.type === 'RecordRevision' && r.component === 'etcd' && !trail.includes('paused')) {
        // 3.6.11 is proven: its checkpoint is rewritten; the kubelet has not restarted it yet.
        w.checkpointKubeletPaused = true;
        paused = true;
        trail.push('paused');
      }
      keepCheckpoints(w);
    }
    const at = trail.indexOf('paused');
    expect(trail.slice(at, at + 4)).toEqual([
      'paused',
      'Apply etcd (Rollout)',
      expect.stringMatching(/^Wait waiting for the kubelet on cp1 to restart etcd's checkpoint with the proven revision \S+ \(it runs \S+\)$/),
      'DeletePod etcd',
    ]);
    expect(trail.at(-1)).toBe('Done');
    expect(w.snapshot().revisions.get('etcd')?.version).toBe('3.7.0');
  });

  it('waits for a checkpoint mirror pod before it replaces etcd, and for its supervisor to run', () => {
    const w = pivoted('v1.37.2', { overrides: { etcd: { extraArgs: [{ name: 'snapshot-count', value: '5000' }] } } });
    keepCheckpoints(w);
    const apply = w.rollout(T0).action;
    expect(apply.type).toBe('Apply');
    w.applyRollout(apply);
    w.checkpointMirrors.clear();
    w.checkpointKubeletPaused = true;
    keepCheckpoints(w);
    const none = w.rollout(later(11)).action;
    expect(none.type === 'Wait' && none.reason).toBe("waiting for the kubelet on cp1 to run etcd's checkpoint (no mirror pod yet)");
    w.runCheckpointKubelet();
    w.checkpointNotRunning.add('etcd');
    const starting = w.rollout(later(22)).action;
    expect(starting.type === 'Wait' && starting.reason).toBe("waiting for etcd's checkpoint on cp1 to run (its supervisor has not started)");
    w.checkpointNotRunning.clear();
    expect(w.rollout(later(33)).action.type).toBe('DeletePod');
  });

  it('a failed apiserver after etcd entered 3.7 rolls Kubernetes back and keeps the Ready etcd (no minor downgrade by image)', () => {
    const w = pivoted('v1.36.4', { version: 'v1.37.2' });
    keepCheckpoints(w);
    const trail: string[] = [];
    for (let i = 0, t = 0; i < 40; i++, t += 11) {
      const now = later(t);
      const r = w.rollout(now, () => later(0));
      trail.push(describeAction(r.action));
      const last = computeLastUpgrade(r, w.cp.status?.lastUpgrade, w.cp.spec.version, true, now);
      const plan = computeRolloutPlanStatus(r, w.cp.status?.plan, w.cp.spec.version, now);
      w.cp = { ...w.cp, status: { ...w.cp.status, ...(last === undefined ? {} : { lastUpgrade: last }), ...(plan === undefined ? {} : { plan }) } };
      if (r.action.type === 'Done' || r.action.type === 'Blocked') break;
      const crash = r.action.type === 'Apply' && r.action.why === 'Rollout' && r.action.component === 'kube-apiserver';
      w.applyRollout(r.action, { readySince: now.toISOString(), ...(crash ? { crash: { reason: 'CrashLoopBackOff', message: 'boom' } } : {}) });
      keepCheckpoints(w);
    }
    expect(trail.slice(-3)).toEqual(['Fail kube-apiserver', 'Apply kube-apiserver (Rollback)', 'Done']);
    expect(w.cp.status?.lastUpgrade?.result).toBe('RolledBack');
    const etcd = w.workloads.get('DaemonSet/selfhost-etcd')?.['spec'] as { template: { spec: { containers: { image: string }[] } } } | undefined;
    expect(etcd?.template.spec.containers[0]?.image).toMatch(/:3\.7\.0-0$/);
  });

  it('etcd failing on the new minor is never sent back a minor by image: stopped and said while it is down, kept once Ready', () => {
    const w = pivoted('v1.36.4', { version: 'v1.37.2' });
    keepCheckpoints(w);
    const trail: string[] = [];
    let deletes = 0;
    let t = 0;
    const pass = (): RolloutAction => {
      const now = later(t);
      t += 11;
      const r = w.rollout(now, () => later(0));
      trail.push(describeAction(r.action));
      const last = computeLastUpgrade(r, w.cp.status?.lastUpgrade, w.cp.spec.version, true, now);
      const plan = computeRolloutPlanStatus(r, w.cp.status?.plan, w.cp.spec.version, now);
      w.cp = { ...w.cp, status: { ...w.cp.status, ...(last === undefined ? {} : { lastUpgrade: last }), ...(plan === undefined ? {} : { plan }) } };
      return r.action;
    };
    for (let i = 0; i < 20 && deletes < 2; i++) {
      const a = pass();
      if (a.type === 'DeletePod') deletes++;
      w.applyRollout(a, { readySince: later(t).toISOString() });
      keepCheckpoints(w);
    }
    // The 3.7.0 member crash-loops.
    const pod = w.selfPods.get('etcd');
    if (pod === undefined) throw new Error('no etcd pod');
    w.selfPods.set('etcd', { ...pod, ready: false, restarts: 3, crash: { reason: 'CrashLoopBackOff', message: 'etcd: boom' } });
    expect(pass().type).toBe('Fail');
    const blocked = pass();
    expect(blocked.type === 'Blocked' && blocked.reason).toMatch(/etcd runs 3\.7\.0 and is not Ready; going back to 3\.6\.11 crosses an etcd minor, which only etcd's downgrade API can do/);
    expect(w.cp.status?.lastUpgrade?.result).toBe('Failed');
    const etcdImage = () => (w.workloads.get('DaemonSet/selfhost-etcd')?.['spec'] as { template: { spec: { containers: { image: string }[] } } } | undefined)?.template.spec.containers[0]?.image;
    expect(etcdImage()).toMatch(/:3\.7\.0-0$/);
    // Recovered by hand: Ready on 3.7.0, it is kept and the rollback ends; etcd is not touched.
    w.selfPods.set('etcd', { ...pod, ready: true, restarts: 0 });
    delete w.selfPods.get('etcd')?.crash;
    expect(pass().type).toBe('Done');
    expect(w.cp.status?.lastUpgrade?.result).toBe('RolledBack');
    expect(etcdImage()).toMatch(/:3\.7\.0-0$/);
  });

  it('replaces an outdated etcd pod only once its checkpoint stopped standing by', () => {
    const w = pivoted('v1.37.2', { overrides: { etcd: { extraArgs: [{ name: 'snapshot-count', value: '5000' }] } } });
    keepCheckpoints(w);
    const applied = w.rollout(T0).action;
    w.applyRollout(applied);
    // The agent has not acted on the lifted standby yet.
    const r = w.rollout(T0).action;
    expect(r.type === 'Wait' && r.reason).toBe("waiting for etcd's checkpoint on cp1 to stop standing by");
  });

  it('waits for the preflight: nothing is applied while a node is not Ready', () => {
    const w = pivoted('v1.37.1', { version: 'v1.37.2' });
    w.nodeReady = false;
    const r = w.rollout(T0).action;
    expect(r.type === 'Wait' && r.reason).toMatch(/^preflight: node\(s\) cp1 not Ready/);
  });

  it('puts back a proven workload edited by hand (drift), without waiting for the preflight', () => {
    const w = pivoted('v1.37.2', {});
    const key = 'Deployment/selfhost-kube-scheduler';
    const live = w.workloads.get(key);
    if (live === undefined) throw new Error('no scheduler');
    w.workloads.set(key, { ...live, spec: { ...(live['spec'] as object), replicas: 3 } });
    w.nodeReady = false;
    expect(describeAction(w.rollout(T0).action)).toBe('Apply kube-scheduler (Drift)');
  });

  it('resumes after an operator restart at any point: the next action comes from the world alone', () => {
    const w = pivoted('v1.37.1', { version: 'v1.37.2' });
    const a = w.rollout(T0).action;
    w.applyRollout(a, { readySince: T0.toISOString() });
    // A fresh process: no status written yet (lastUpgrade lost), same world.
    w.cp = { ...w.cp, status: {} };
    expect(describeAction(w.rollout(later(11)).action)).toBe('RecordRevision kube-apiserver');
  });

  it('aborts: spec.version set back to where the upgrade started moves the upgraded components back, apiserver last', () => {
    const w = pivoted('v1.37.1', { version: 'v1.37.2' });
    // apiserver and controller-manager upgraded and proven, then the user aborts.
    for (let i = 0; i < 4; i++) {
      const r = w.rollout(later(i * 11), () => later(0));
      w.applyRollout(r.action, { readySince: later(i * 11).toISOString() });
      const last = computeLastUpgrade(r, w.cp.status?.lastUpgrade, w.cp.spec.version, true, later(i * 11));
      w.cp = { ...w.cp, status: { ...w.cp.status, ...(last === undefined ? {} : { lastUpgrade: last }) } };
    }
    expect(w.snapshot().revisions.get('kube-controller-manager')?.version).toBe('v1.37.2');
    w.cp = { ...w.cp, spec: { ...w.cp.spec, version: 'v1.37.1' } };
    const r = w.rollout(later(100));
    expect(r.steps.map((s) => `${s.component} ${s.action}`)).toEqual(['kube-controller-manager Downgrade', 'kube-apiserver Downgrade']);
    expect(drive(w).filter((a) => a.startsWith('Apply'))).toEqual(['Apply kube-controller-manager (Rollout)', 'Apply kube-apiserver (Rollout)']);
  });

  it('keys the failed target by the hash of every target object', () => {
    const w = pivoted('v1.37.1', { version: 'v1.37.2' });
    const h1 = computeTargetHash(w.target());
    w.cp = { ...w.cp, spec: { ...w.cp.spec, overrides: { 'kube-scheduler': { extraArgs: [{ name: 'v', value: '2' }] } } } };
    expect(computeTargetHash(w.target())).not.toBe(h1);
  });
});

describe('computeLastUpgrade', () => {
  it('keeps startedAt and finishedAt over repeated passes (an unchanged world writes nothing)', () => {
    const w = pivoted('v1.37.1', { version: 'v1.37.2' });
    const r = w.rollout(T0);
    const a = computeLastUpgrade(r, undefined, 'v1.37.2', true, T0);
    const b = computeLastUpgrade(r, a, 'v1.37.2', true, later(5));
    expect(a?.result).toBe('Running');
    expect(b).toEqual(a);
    const none: LastUpgrade | undefined = computeLastUpgrade(pivoted('v1.37.2', {}).rollout(T0), undefined, 'v1.37.2', true, T0);
    expect(none).toBeUndefined();
  });
});
