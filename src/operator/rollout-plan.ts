/**
 * The rollout planner (pure): after the pivot, from the snapshot, the desired objects at
 * spec.version and the last known good revisions to the one next action of an upgrade, any other
 * template change, or the rollback of a failed one.
 *
 * Every decision is re-derived from the world: which template each workload runs (live), which
 * one was proven (kube-system/selfhost-revisions) and whether the last rollout of this exact
 * target failed (status.lastUpgrade, keyed by the target's hash). An operator killed at any point
 * computes the same next action.
 *
 * Forward, component by component in skew order (etcd, apiservers, controller-manager,
 * scheduler, kube-proxy, CNI; the reverse for a downgrade):
 *   1. not applied        preflight (everything healthy, agents caught up), then apply the target;
 *   2. applied, unproven  the health gate (rollout-health.ts): passed → record it as the new
 *                         revision; failed → mark the rollout failed (status), nothing else;
 *   3. proven             next component.
 * Rollback (the target failed, spec.upgrade.autoRollback): in reverse order, re-apply every
 * component's last known good object that is not what runs, and wait until it is Ready again.
 * The failed target is not retried until the spec asks for something else (a new hash).
 */
import type { Revision } from '../api/revisions.js';
import { compareVersionTexts } from '../api/version.js';
import type { ComponentName, LastUpgrade, PlanStep, SnapshotStatus } from '../api/types.js';
import { labelsOf, nameOf, rec, str, workloadKey } from './snapshot.js';
import { computeDesiredSnapshotJob, parseSnapshotResult, snapshotJobName } from './etcd-snapshot-job.js';
import { parseGoDuration } from '../api/duration.js';
import { formatRefusal } from '../convert/index.js';
import { canonicalJson, sha256Hex } from '../convert/hash.js';
import { planVersionChange } from '../plan/plan.js';
import type { ObservedVersions, VersionedComponent } from '../plan/types.js';
import type { JsonObject } from '../kube/client.js';
import { liveWorkload, type DesiredComponent, type DesiredState } from './desired.js';
import { computePreflightFailure, isRolloutComplete } from './pivot-plan.js';
import { computeRolloutHealth } from './rollout-health.js';
import type { Snapshot } from './snapshot.js';
import { computePodVersion } from './status.js';
import { isAppliedSubset } from './subset.js';

export type RolloutAction =
  | { readonly type: 'Apply'; readonly component: ComponentName; readonly object: JsonObject; readonly why: 'Rollout' | 'Rollback' | 'Drift' }
  | { readonly type: 'RecordRevision'; readonly component: ComponentName; readonly revision: Revision }
  /** etcd (OnDelete): replace one node's outdated pod by deleting it; its checkpoint holds the member meanwhile. */
  | { readonly type: 'DeletePod'; readonly component: ComponentName; readonly pod: string; readonly node: string }
  | { readonly type: 'Fail'; readonly component: ComponentName; readonly message: string }
  | { readonly type: 'CreateSnapshotJob'; readonly job: JsonObject }
  | { readonly type: 'RecordSnapshot'; readonly snapshot: SnapshotStatus }
  | { readonly type: 'Wait'; readonly component?: ComponentName; readonly reason: string }
  | { readonly type: 'Blocked'; readonly component?: ComponentName; readonly reason: string; readonly refusal?: string }
  | { readonly type: 'Done' };

export type RolloutMode = 'Forward' | 'Rollback' | 'Stopped';

export interface RolloutStep {
  readonly component: ComponentName;
  readonly action: 'Upgrade' | 'Downgrade' | 'Rollout' | 'Snapshot';
  readonly fromVersion?: string;
  readonly toVersion?: string;
  readonly state: PlanStep['state'];
}

export interface RolloutPlan {
  readonly action: RolloutAction;
  readonly mode: RolloutMode;
  /** sha256 of every target object: what status.lastUpgrade.targetHash compares with. */
  readonly targetHash: string;
  /** Components whose template the target changes, in the order they roll (forward order). */
  readonly steps: readonly RolloutStep[];
  /** Lowest Kubernetes version the proven revisions run (what the rollout starts from). */
  readonly fromVersion?: string;
}

export interface RolloutInput {
  readonly snap: Snapshot;
  /** Desired objects at spec.version. */
  readonly target: DesiredState;
  readonly now: Date;
  /** When each step started (from the last status written), for the health timeout. */
  readonly stepStartedAt: (component: ComponentName) => Date | undefined;
  /** Ready must hold this long on every new pod before a step passes. */
  readonly settleMs: number;
  /**
   * gitVersion the API's /version answers with, read by the caller only once the apiserver's
   * new pods passed the rest of the gate: its step passes only when the API serves the target.
   */
  readonly servedVersion?: string;
  /** The selfhost image (the etcd snapshot Job runs it). */
  readonly image: string;
  /**
   * etcd at the published patch the upgrade steps through first (etcd-via.ts), while its proven
   * revision is below the floor of the target's etcd minor: the forward rollout runs this instead
   * of the target's etcd until it is proven. The target (and its hash) stays spec.version's.
   */
  readonly etcdVia?: DesiredComponent;
}

/** Skew order forward; the CNI keeps its own version and goes last. */
const FORWARD: readonly ComponentName[] = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kube-proxy', 'cni'];
const DOWNGRADE: readonly ComponentName[] = ['kube-proxy', 'kube-scheduler', 'kube-controller-manager', 'kube-apiserver', 'etcd', 'cni'];
const VERSIONED: ReadonlySet<ComponentName> = new Set<ComponentName>(['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kube-proxy']);

export function computeTargetHash(target: DesiredState): string {
  const objects = [...target.components].sort((a, b) => (a.name < b.name ? -1 : 1)).map((c) => ({ name: c.name, hash: c.templateHash, object: c.object }));
  return sha256Hex(canonicalJson(objects));
}

/** Versions the running pods report, in the skew planner's shape. */
export function computeObservedVersions(snap: Snapshot): ObservedVersions {
  const per = (c: VersionedComponent) =>
    snap.pods
      .filter((p) => p.component === c && !p.agent && !p.deleting && p.node !== undefined)
      .flatMap((p) => {
        const version = computePodVersion(c, p.image);
        return version === undefined || p.node === undefined ? [] : [{ node: p.node, version }];
      });
  const proxy = per('kube-proxy')[0]?.version ?? computeDaemonSetProxyVersion(snap);
  return {
    etcd: per('etcd'),
    'kube-apiserver': per('kube-apiserver'),
    'kube-controller-manager': per('kube-controller-manager'),
    'kube-scheduler': per('kube-scheduler'),
    ...(proxy === undefined ? {} : { 'kube-proxy': proxy }),
  };
}

/**
 * kube-proxy's version from kubeadm's DaemonSet, once its rollout is complete (every pod runs the
 * template). Why: the pivot adopts that DaemonSet without restarting its pods, so they keep
 * kubeadm's labels and no pod reads as kube-proxy; without this the skew check skipped kube-proxy
 * and `selfhost plan` said "no instance was observed" of a kube-proxy the rollout upgrades.
 */
function computeDaemonSetProxyVersion(snap: Snapshot): string | undefined {
  const ds = snap.workloads.get(workloadKey('DaemonSet', 'kube-proxy'));
  if (ds === undefined || !isRolloutComplete(ds)) return undefined;
  return versionOfTemplate('kube-proxy', ds);
}

function versionOfTemplate(c: ComponentName, object: Record<string, unknown>): string | undefined {
  const spec = object['spec'] as { template?: { spec?: { containers?: { image?: string }[] } } } | undefined;
  return computePodVersion(c, spec?.template?.spec?.containers?.[0]?.image);
}

export function computeRevisionOf(c: DesiredComponent, now: Date): Revision {
  const version = versionOfTemplate(c.name, c.object);
  return { templateHash: c.templateHash, ...(version === undefined ? {} : { version }), object: c.object, provenAt: now.toISOString() };
}

function isFailedTarget(last: LastUpgrade | undefined, targetHash: string): boolean {
  return last !== undefined && last.targetHash === targetHash && (last.result === 'Failed' || last.result === 'RollingBack' || last.result === 'RolledBack');
}

function kubeVersions(revisions: Snapshot['revisions']): string[] {
  return (['kube-apiserver', 'kube-controller-manager', 'kube-scheduler'] as const)
    .map((c) => revisions.get(c)?.version)
    .filter((v): v is string => v !== undefined)
    .sort(compareVersionTexts);
}
function lowestKubeVersion(revisions: Snapshot['revisions']): string | undefined {
  return kubeVersions(revisions)[0];
}
function highestKubeVersion(revisions: Snapshot['revisions']): string | undefined {
  return kubeVersions(revisions).at(-1);
}

function isHealthyRevision(input: RolloutInput, c: DesiredComponent, rev: Revision): boolean {
  const live = liveWorkload(input.snap, c);
  const health = computeRolloutHealth({
    snap: input.snap,
    component: c.name,
    kind: c.kind,
    workload: live,
    templateHash: rev.templateHash,
    now: input.now,
    startedAt: input.now,
    settleMs: 0,
    timeoutMs: Number.POSITIVE_INFINITY,
    adopted: c.static === undefined,
    // What ran before is judged by running Ready now: its pods' restarts (reboots, earlier
    // incidents) are history, and counting them left a rollback waiting for ever (seen on a node
    // rebooted before a failed rollout).
    maxRestarts: Number.POSITIVE_INFINITY,
  });
  return health.state === 'Passed';
}

export function computeRolloutPlan(input: RolloutInput): RolloutPlan {
  const { snap, target, now } = input;
  const spec = snap.controlPlane.spec;
  const last = snap.controlPlane.status?.lastUpgrade;
  const targetHash = computeTargetHash(target);
  const fromVersion = lowestKubeVersion(snap.revisions);
  const highestProven = highestKubeVersion(snap.revisions);
  // A downgrade (an abort back to where an upgrade started, or a patch down) goes in reverse
  // skew order, so nothing is ever newer than the apiservers.
  const isDowngrade = highestProven !== undefined && compareVersionTexts(spec.version, highestProven) < 0;
  const order = isDowngrade ? DOWNGRADE : FORWARD;
  const byName = new Map(target.components.map((c) => [c.name, c]));
  const ordered = order.flatMap((n) => {
    const c = byName.get(n);
    return c === undefined ? [] : [c];
  });
  const failed = isFailedTarget(last, targetHash);
  const started0 = (list: readonly RolloutStep[]): boolean => list.some((s) => s.state === 'Running' || s.state === 'Succeeded');
  const changing = ordered.filter((c) => snap.revisions.get(c.name)?.templateHash !== c.templateHash);
  const previousSteps = last?.targetHash === targetHash ? (snap.controlPlane.status?.plan?.steps ?? []) : [];
  const stepComponents = ordered.filter((c) => changing.includes(c) || previousSteps.some((s) => s.component === c.name && (s.action === 'Upgrade' || s.action === 'Downgrade' || s.action === 'Rollout')));
  const steps: RolloutStep[] = stepComponents.flatMap((c) => {
    if (c.name === 'etcd') return computeEtcdSteps(input, c, previousSteps, failed, isDowngrade);
    return [computeStep(input, c, previousSteps, failed, isDowngrade)];
  });
  // spec.etcd.snapshotBeforeUpgrade: a verified snapshot before the first step of an upgrade that
  // moves etcd or an apiserver up (src/plan's rule), taken once per target.
  const snapshotWanted =
    spec.etcd.snapshotBeforeUpgrade && !failed && steps.some((s) => s.action === 'Upgrade' && (s.component === 'etcd' || s.component === 'kube-apiserver'));
  const taken = last?.targetHash === targetHash ? last.snapshot : undefined;
  const snapshot = snapshotWanted ? computeSnapshotProgress(input, targetHash, taken, started0(steps)) : undefined;
  if (snapshot !== undefined) steps.unshift({ component: 'etcd', action: 'Snapshot', state: snapshot.state });
  const plan = (action: RolloutAction, mode: RolloutMode = 'Forward'): RolloutPlan => ({
    action,
    mode,
    targetHash,
    steps,
    ...(fromVersion === undefined ? {} : { fromVersion }),
  });

  if (target.waiting !== undefined) return plan({ type: 'Wait', reason: target.waiting });

  // The skew rules, before anything moves to another version (they name the rule; the
  // conversion's refusals below only say what it could not convert).
  const started = steps.some((s) => s.state === 'Running' || s.state === 'Succeeded');
  const highest = highestKubeVersion(snap.revisions);
  if (!failed && !started && (spec.version !== fromVersion || spec.version !== highest)) {
    const inProgress = last?.result === 'Running' && last.fromVersion !== undefined ? { operation: 'Upgrade' as const, fromVersion: last.fromVersion } : undefined;
    const skew = planVersionChange({
      observed: computeObservedVersions(snap),
      target: spec.version,
      components: spec.components,
      ...(spec.etcd.version === undefined ? {} : { etcdVersionOverride: spec.etcd.version }),
      ...(inProgress === undefined ? {} : { inProgress }),
    });
    if (!skew.ok) return plan({ type: 'Blocked', reason: skew.message, refusal: skew.reason });
  }
  if (target.refusals.length === 0 && snapshot?.action !== undefined) return plan(snapshot.action);
  if (target.refusals.length > 0) {
    return plan({ type: 'Blocked', reason: `cannot convert to ${spec.version}: ${target.refusals.map(formatRefusal).join('; ')}`, refusal: 'Unsupported' });
  }

  if (failed) {
    if (!spec.upgrade.autoRollback) {
      return plan(
        { type: 'Blocked', ...(last?.failedComponent === undefined ? {} : { component: last.failedComponent }), reason: `${last?.message ?? 'the rollout failed'}; spec.upgrade.autoRollback is false: nothing is restored (change the spec to go on)` },
        'Stopped',
      );
    }
    // Reverse of the forward order: the last component that moved goes back first.
    for (const c of [...ordered].reverse()) {
      const rev = snap.revisions.get(c.name);
      if (rev === undefined) continue;
      if (c.name === 'etcd') {
        const minorDown = computeEtcdMinorRollback(snap, rev, liveWorkload(snap, c));
        if (minorDown?.keep === true) continue;
        if (minorDown !== undefined) return plan({ type: 'Blocked', component: 'etcd', reason: minorDown.reason }, 'Stopped');
      }
      if (!isAppliedSubset(rev.object, liveWorkload(snap, c))) {
        return plan({ type: 'Apply', component: c.name, object: rev.object as JsonObject, why: 'Rollback' }, 'Rollback');
      }
      if (c.name === 'etcd') {
        const replace = computeEtcdReplacement(input, rev.templateHash);
        if (replace !== undefined) return plan(replace, 'Rollback');
      }
      if (!isHealthyRevision(input, c, rev)) {
        return plan({ type: 'Wait', component: c.name, reason: `waiting for the restored ${c.name} to become Ready` }, 'Rollback');
      }
    }
    return plan({ type: 'Done' }, 'Rollback');
  }

  const via = input.etcdVia;
  const forward = via === undefined ? ordered : ordered.map((c) => (c.name === 'etcd' ? via : c));
  for (const c of forward) {
    const rev = snap.revisions.get(c.name);
    const live = liveWorkload(snap, c);
    const applied = isAppliedSubset(c.object, live);
    if (rev?.templateHash === c.templateHash) {
      // Proven: only drift (a hand edit) makes it differ; put back what was proven.
      if (!applied) return plan({ type: 'Apply', component: c.name, object: c.object, why: 'Drift' });
      continue;
    }
    if (!applied) {
      const failure = computePreflightFailure(snap, target) ?? (c.name === 'etcd' ? computeEtcdCheckpointGap(snap) : undefined);
      if (failure !== undefined) return plan({ type: 'Wait', component: c.name, reason: `preflight: ${failure}` });
      return plan({ type: 'Apply', component: c.name, object: c.object, why: 'Rollout' });
    }
    if (c.name === 'etcd') {
      const replace = computeEtcdReplacement(input, c.templateHash);
      if (replace !== undefined) return plan(replace);
    }
    const health = computeRolloutHealth({
      snap,
      component: c.name,
      kind: c.kind,
      workload: live,
      templateHash: c.templateHash,
      now,
      startedAt: input.stepStartedAt(c.name) ?? now,
      settleMs: input.settleMs,
      timeoutMs: (parseGoDuration(spec.upgrade.healthTimeout) ?? 300e9) / 1e6,
      adopted: c.static === undefined,
    });
    if (health.state === 'Passed' && c.name === 'kube-apiserver' && input.servedVersion !== undefined) {
      const want = versionOfTemplate(c.name, c.object);
      if (want !== undefined && input.servedVersion !== want) {
        return plan({ type: 'Wait', component: c.name, reason: `the API serves ${input.servedVersion}, not yet ${want} (/version)` });
      }
    }
    if (health.state === 'Passed') return plan({ type: 'RecordRevision', component: c.name, revision: computeRevisionOf(c, now) });
    if (health.state === 'Failed') return plan({ type: 'Fail', component: c.name, message: `${c.name}: ${health.message}` });
    return plan({ type: 'Wait', component: c.name, reason: health.reason });
  }
  return plan({ type: 'Done' });
}

/** One component's step, from its proven revision, the target and what ran before. */
function computeStep(input: RolloutInput, c: DesiredComponent, previousSteps: readonly PlanStep[], failed: boolean, isDowngrade: boolean): RolloutStep {
  const { snap } = input;
  const rev = snap.revisions.get(c.name);
  const from = rev?.version;
  const to = versionOfTemplate(c.name, c.object);
  const live = liveWorkload(snap, c);
  const proven = rev?.templateHash === c.templateHash;
  const applied = isAppliedSubset(c.object, live);
  const action = !VERSIONED.has(c.name) || from === to || from === undefined || to === undefined ? 'Rollout' : isDowngrade ? 'Downgrade' : 'Upgrade';
  const state: PlanStep['state'] = proven ? 'Succeeded' : failed ? 'Failed' : applied ? 'Running' : 'Pending';
  // Once proven, the revision is the new version: the step keeps saying where it came from.
  const before = proven ? previousSteps.find((p) => p.component === c.name && p.action !== 'Snapshot' && (p.toVersion === undefined || p.toVersion === to)) : undefined;
  if (before !== undefined && (before.action === 'Upgrade' || before.action === 'Downgrade' || before.action === 'Rollout')) {
    return { component: c.name, action: before.action, ...(before.fromVersion === undefined ? {} : { fromVersion: before.fromVersion }), ...(before.toVersion === undefined ? {} : { toVersion: before.toVersion }), state };
  }
  return { component: c.name, action, ...(from === undefined ? {} : { fromVersion: from }), ...(to === undefined ? {} : { toVersion: to }), state };
}

/**
 * etcd's steps: one, or two when the upgrade steps through a published patch (input.etcdVia):
 * `from → via` then `via → target`. Once the patch is proven the first step is carried over from
 * the stored plan as Succeeded (the revision no longer says where it started).
 */
function computeEtcdSteps(input: RolloutInput, c: DesiredComponent, previousSteps: readonly PlanStep[], failed: boolean, isDowngrade: boolean): RolloutStep[] {
  const via = input.etcdVia;
  const to = versionOfTemplate(c.name, c.object);
  if (via !== undefined) {
    const viaVersion = versionOfTemplate('etcd', via.object);
    const first = computeStep(input, via, previousSteps, failed, false);
    return [first, { component: 'etcd', action: 'Upgrade', ...(viaVersion === undefined ? {} : { fromVersion: viaVersion }), ...(to === undefined ? {} : { toVersion: to }), state: failed ? 'Failed' : 'Pending' }];
  }
  const last = computeStep(input, c, previousSteps, failed, isDowngrade);
  const done = previousSteps
    .filter((p) => p.component === 'etcd' && p.action === 'Upgrade' && p.toVersion !== undefined && p.toVersion !== to && p.toVersion === last.fromVersion)
    .map((p): RolloutStep => ({ component: 'etcd', action: 'Upgrade', ...(p.fromVersion === undefined ? {} : { fromVersion: p.fromVersion }), toVersion: p.toVersion ?? '', state: 'Succeeded' }));
  return [...done.slice(0, 1), last];
}

/**
 * A rollback that would take etcd back a minor (3.7.0 → 3.6.11): once a member ran the new minor
 * its data may carry the new cluster version, which the old binary refuses, and only etcd's
 * downgrade API moves a cluster back. selfhost does not drive it, so:
 *  - every etcd pod Ready on the new minor: keep it (kubeadm never downgrades etcd either,
 *    and the restored Kubernetes minor works with it);
 *  - not Ready: stop and say so (a message); nothing automatic can bring the old etcd back.
 * undefined when the rollback stays within a minor (a patch goes back by image).
 */
function computeEtcdMinorRollback(snap: Snapshot, rev: Revision, live: JsonObject | undefined): { readonly keep: true } | { readonly keep: false; readonly reason: string } | undefined {
  const runs = live === undefined ? undefined : versionOfTemplate('etcd', live);
  const back = rev.version;
  const minor = (v: string | undefined): number | undefined => {
    const m = v === undefined ? null : /^v?(\d+)\.(\d+)\./.exec(v);
    return m === null ? undefined : Number(m[1]) * 1000 + Number(m[2]);
  };
  const from = minor(runs);
  const to = minor(back);
  if (from === undefined || to === undefined || to >= from) return undefined;
  const pods = snap.pods.filter((p) => p.component === 'etcd' && !p.mirror && !p.agent && !p.deleting && p.node !== undefined);
  if (pods.length > 0 && pods.every((p) => p.ready)) return { keep: true };
  const reason =
    `etcd runs ${runs ?? '?'} and is not Ready; going back to ${back ?? '?'} crosses an etcd minor, which only etcd's downgrade API can do ` +
    '(selfhost does not drive it): the other components are restored, etcd is left as it is. Recover etcd by hand (docs/etcd-snapshot.md) and edit the spec again';
  return { keep: false, reason };
}

/** Why etcd's template cannot change yet: a node without a saved etcd checkpoint to hold the member. */
function computeEtcdCheckpointGap(snap: Snapshot): string | undefined {
  const missing = snap.nodes.filter((n) => snap.agents.get(n.name)?.observed?.checkpoints?.some((k) => k.component === 'etcd') !== true).map((n) => n.name);
  return missing.length === 0 ? undefined : `etcd has no checkpoint on ${missing.join(', ')} yet (its pods are replaced only while a checkpoint can hold the member)`;
}

/**
 * etcd's pods are OnDelete: never two etcds on one data directory, so a new template reaches a
 * node only when its pod is deleted. Steps, one node at a time (in name order):
 *  1. the checkpoint plan lifts the node's etcd standby as soon as the pod is outdated
 *     (checkpoint-plan.ts); wait until the agent reports the marker gone and the kubelet runs the
 *     checkpoint of the proven revision (its mirror pod);
 *  2. delete the outdated pod: the real etcd stops, its ports free, and the node's checkpoint
 *     starts etcd from disk on the same data directory and member (the API comes back on it);
 *  3. the DaemonSet creates the new pod; its gate waits for the checkpoint's ports; the operator
 *     sees it run, the checkpoint stands by and stops, the new etcd starts;
 *  4. the health gate (rollout-health.ts) as for every other component.
 * Not yet: moving leadership off a member first (several members), and etcd's downgrade API for a
 * minor rollback.
 */
function computeEtcdReplacement(input: RolloutInput, templateHash: string): RolloutAction | undefined {
  const { snap } = input;
  const outdated = snap.pods
    .filter((p) => p.component === 'etcd' && !p.mirror && !p.agent && p.node !== undefined && p.templateHash !== templateHash)
    .sort((a, b) => ((a.node ?? '') < (b.node ?? '') ? -1 : 1));
  const terminating = outdated.find((p) => p.deleting);
  if (terminating !== undefined) {
    return { type: 'Wait', component: 'etcd', reason: `the old etcd pod ${terminating.name} is stopping; the checkpoint on ${terminating.node ?? '?'} holds the member` };
  }
  const pod = outdated[0];
  if (pod?.node === undefined) return undefined;
  const checkpoint = snap.agents.get(pod.node)?.observed?.checkpoints?.find((k) => k.component === 'etcd');
  if (checkpoint === undefined) {
    return { type: 'Wait', component: 'etcd', reason: `etcd has no checkpoint on ${pod.node}: its pod is replaced only while a checkpoint can hold the member` };
  }
  if (checkpoint.standby) return { type: 'Wait', component: 'etcd', reason: `waiting for etcd's checkpoint on ${pod.node} to stop standing by` };
  const running = computeCheckpointRunGap(snap, pod.node);
  if (running !== undefined) return { type: 'Wait', component: 'etcd', reason: running };
  const others = snap.pods.filter((p) => p.component === 'etcd' && !p.mirror && p.node !== pod.node && !p.ready);
  if (others.length > 0) return { type: 'Wait', component: 'etcd', reason: `etcd on ${others.map((p) => p.node ?? '?').join(', ')} is not Ready: one member at a time` };
  return { type: 'DeletePod', component: 'etcd', pod: pod.name, node: pod.node };
}

/**
 * Why the kubelet does not run the node's etcd checkpoint of the proven revision yet, if it does
 * not. The file on disk is not enough: a new proven revision (the step before, e.g. etcd's
 * intermediate patch) rewrites the checkpoint, and the kubelet restarts that static pod. Deleting
 * the real etcd then leaves nothing to hold the member, and the kubelet cannot start the new
 * checkpoint soon either: it blocks on the old mirror pod's deletion through an apiserver without
 * etcd (34 s per attempt). Seen on tier node as a 72 s API gap; the mirror pod running with the
 * proven template hash is what says the checkpoint can take over.
 */
function computeCheckpointRunGap(snap: Snapshot, node: string): string | undefined {
  const proven = snap.revisions.get('etcd')?.templateHash;
  const mirror = snap.checkpointPods.find((p) => p.checkpointOf === 'etcd' && p.node === node && !p.deleting);
  if (mirror === undefined) return `waiting for the kubelet on ${node} to run etcd's checkpoint (no mirror pod yet)`;
  if (proven !== undefined && mirror.templateHash !== proven) {
    return `waiting for the kubelet on ${node} to restart etcd's checkpoint with the proven revision ${proven} (it runs ${mirror.templateHash ?? 'an unknown one'})`;
  }
  if (!mirror.mainRunning) return `waiting for etcd's checkpoint on ${node} to run (its supervisor has not started)`;
  return undefined;
}

/**
 * What one snapshot is for: this ControlPlane object (uid), this edit of its spec (generation)
 * and this target. The command reuses a verified snapshot of the same name, so the name must
 * never repeat across clusters or across two upgrades to the same target.
 */
function snapshotKey(snap: Snapshot, targetHash: string): string {
  const m = snap.controlPlane.metadata;
  return `${m.uid ?? ''}/${String(m.generation ?? 0)}/${targetHash}`;
}

interface SnapshotProgress {
  readonly state: PlanStep['state'];
  /** What to do about it now; undefined once it is taken (the rollout goes on). */
  readonly action?: RolloutAction;
}

/**
 * The snapshot step, from the world: recorded in status.lastUpgrade → done; its Job's pod
 * finished → record it (verified by the command) or stop on its failure; no pod yet → create the
 * Job behind the preflight. Once a component step has started there is nothing to take.
 */
function computeSnapshotProgress(input: RolloutInput, targetHash: string, taken: SnapshotStatus | undefined, started: boolean): SnapshotProgress | undefined {
  if (taken !== undefined) return { state: 'Succeeded' };
  if (started) return undefined;
  const { snap } = input;
  const jobName = snapshotJobName(snapshotKey(snap, targetHash));
  const pod = snap.snapshotPods.find((p) => {
    const labels = labelsOf(p);
    return (labels['batch.kubernetes.io/job-name'] ?? labels['job-name']) === jobName;
  });
  const etcdNode = snap.pods.find((p) => p.component === 'etcd' && !p.mirror && p.ready && p.node !== undefined)?.node ?? snap.nodes[0]?.name;
  if (pod === undefined) {
    if (etcdNode === undefined) return { state: 'Pending', action: { type: 'Wait', component: 'etcd', reason: 'no Ready etcd member to snapshot' } };
    const failure = computePreflightFailure(snap, input.target);
    if (failure !== undefined) return { state: 'Pending', action: { type: 'Wait', component: 'etcd', reason: `preflight: ${failure}` } };
    const job = computeDesiredSnapshotJob({ key: snapshotKey(snap, targetHash), node: etcdNode, image: input.image, retention: snap.controlPlane.spec.etcd.snapshotRetention });
    return { state: 'Pending', action: { type: 'CreateSnapshotJob', job } };
  }
  const outcome = parseSnapshotResult(pod);
  switch (outcome.state) {
    case 'running':
      return { state: 'Running', action: { type: 'Wait', component: 'etcd', reason: `taking the etcd snapshot (${nameOf(pod)})` } };
    case 'failed':
      return {
        state: 'Failed',
        action: {
          type: 'Blocked',
          component: 'etcd',
          reason: `the etcd snapshot before the upgrade failed: ${outcome.message}; nothing was changed. Fix it and edit the spec again, or set spec.etcd.snapshotBeforeUpgrade to false`,
          refusal: 'SnapshotFailed',
        },
      };
    case 'succeeded': {
      const r = outcome.snapshot;
      const node = str(rec(pod['spec'])['nodeName']) ?? etcdNode ?? '';
      return { state: 'Running', action: { type: 'RecordSnapshot', snapshot: { node, path: r.path, size: r.size, sha256: r.sha256, revision: r.revision, keys: r.keys, time: r.time } } };
    }
  }
}
