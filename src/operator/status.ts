/**
 * status of the ControlPlane from one pass (pure). Written once per pass, and only when it
 * differs from what is stored: times are carried over unless something really changed, so a
 * pass over an unchanged world computes an identical status and writes nothing.
 */
import { computeTimestamp, ConditionType, REASON_INITIALIZING, Reasons, setCondition, type ConditionInput } from '../api/conditions.js';
import type {
  ComponentName,
  ComponentStatus,
  Condition,
  ControlPlaneStatus,
  Phase,
  Plan,
  PlanStep,
  StepState,
} from '../api/types.js';
import { formatVersion, compareVersions, parseVersion } from '../api/version.js';
import { kubernetesVersionOfImage, parseImageRef } from '../convert/images.js';
import { liveWorkload, type DesiredState } from './desired.js';
import type { ComponentProgress, PivotPlan } from './pivot-plan.js';
import type { RolloutPlan } from './rollout-plan.js';
import { computeLastUpgrade, computeRolloutMessage, computeRolloutPhase, computeRolloutPlanStatus } from './rollout-status.js';
import { num, rec, type PodView, type Snapshot } from './snapshot.js';


/** A pod's component version: vX.Y.Z for Kubernetes images, the image tag otherwise. */
export function computePodVersion(component: ComponentName, image: string | undefined): string | undefined {
  if (image === undefined) return undefined;
  if (component !== 'etcd' && component !== 'cni') {
    const v = kubernetesVersionOfImage(image);
    if (v !== undefined) return formatVersion(v);
  }
  const tag = parseImageRef(image).tag;
  return component === 'etcd' ? tag?.replace(/-[0-9]+$/, '') : tag;
}

export function lowestVersion(versions: readonly string[]): string | undefined {
  const parsed = versions.map((t) => ({ t, v: parseVersion(t.startsWith('v') ? t : `v${t}`) }));
  const sorted = [...parsed].sort((a, b) => (a.v && b.v ? compareVersions(a.v, b.v) : a.t < b.t ? -1 : 1));
  return sorted[0]?.t;
}

function instancesOf(snap: Snapshot, component: ComponentName): PodView[] {
  return snap.pods.filter((p) => p.component === component && !p.agent && !p.deleting);
}

export function computeComponentStatus(
  snap: Snapshot,
  desired: DesiredState,
  progress: ComponentProgress,
  message: string | undefined,
): ComponentStatus {
  const c = desired.components.find((d) => d.name === progress.name);
  const live = c === undefined ? undefined : liveWorkload(snap, c);
  const pods = instancesOf(snap, progress.name);
  const versions = pods.map((p) => computePodVersion(progress.name, p.image)).filter((v): v is string => v !== undefined);
  const version = lowestVersion(versions);
  const status = rec(live?.['status']);
  const counts =
    live === undefined || progress.mode === 'StaticPod'
      ? { desired: snap.nodes.length, updated: 0, ready: pods.filter((p) => p.mirror && p.ready).length }
      : live['kind'] === 'Deployment'
        ? {
            desired: num(rec(live['spec'])['replicas']),
            updated: num(status['updatedReplicas']),
            ready: num(status['readyReplicas']),
          }
        : {
            desired: num(status['desiredNumberScheduled']),
            updated: num(status['updatedNumberScheduled']),
            ready: num(status['numberReady']),
          };
  return {
    name: progress.name,
    mode: progress.mode,
    ...(version === undefined ? {} : { version }),
    ...(live === undefined || c === undefined ? {} : { workload: c.workloadName }),
    ...counts,
    ...(message === undefined ? {} : { message }),
  };
}

function actionComponent(plan: PivotPlan): ComponentName | undefined {
  const a = plan.action;
  return 'component' in a ? a.component : undefined;
}

function actionMessage(plan: PivotPlan): string | undefined {
  const a = plan.action;
  switch (a.type) {
    case 'Wait':
    case 'Blocked':
      return a.reason;
    case 'ApplyWorkload':
      return `applying the ${a.component} workload`;
    case 'SetManifest':
      return `asking the node agent on ${a.node} to set ${a.component}'s static manifest to ${a.state}`;
    case 'ApplyAgent':
      return 'applying the node agent DaemonSet';
    case 'Done':
      return undefined;
  }
}

export function computePlanStatus(plan: PivotPlan, desired: DesiredState, previous: Plan | undefined, now: Date): Plan {
  const at = computeTimestamp(now);
  const running = actionComponent(plan);
  const blocked = plan.action.type === 'Blocked';
  const steps: PlanStep[] = desired.components.map((c) => {
    const progress = plan.components.find((p) => p.name === c.name);
    const before = previous?.steps.find((s) => s.component === c.name);
    const wasDone = before?.state === 'Succeeded' && progress?.mode === 'SelfHosted';
    const state: StepState =
      progress?.done === true || wasDone ? 'Succeeded' : c.name === running ? (blocked ? 'Failed' : 'Running') : 'Pending';
    const startedAt =
      state === 'Pending' ? undefined : before?.startedAt !== undefined && before.state !== 'Pending' ? before.startedAt : at;
    const finishedAt =
      state === 'Succeeded' || state === 'Failed'
        ? before?.state === state && before.finishedAt !== undefined
          ? before.finishedAt
          : at
        : undefined;
    const message = c.name === running ? actionMessage(plan) : undefined;
    return {
      component: c.name,
      action: c.static === undefined ? 'Adopt' : 'Pivot',
      ...(desired.version === undefined ? {} : { fromVersion: desired.version, toVersion: desired.version }),
      state,
      ...(startedAt === undefined ? {} : { startedAt }),
      ...(finishedAt === undefined ? {} : { finishedAt }),
      ...(message === undefined ? {} : { message }),
    };
  });
  const current = steps.findIndex((s) => s.state === 'Running' || s.state === 'Failed');
  return {
    operation: 'Pivot',
    ...(desired.version === undefined ? {} : { fromVersion: desired.version, toVersion: desired.version }),
    ...(current < 0 ? {} : { current }),
    steps,
  };
}

/** `2/4 kube-controller-manager` for the running step, `failed 1/4 kube-apiserver` for a failed one. */
export function computeStepSummary(plan: Plan | undefined): string | undefined {
  if (plan === undefined) return undefined;
  const running = plan.steps.findIndex((s) => s.state === 'Running');
  const failed = plan.steps.findIndex((s) => s.state === 'Failed');
  const at = running >= 0 ? running : failed;
  const s = plan.steps[at];
  if (s === undefined) return undefined;
  return `${running >= 0 ? '' : 'failed '}${String(at + 1)}/${String(plan.steps.length)} ${s.component}`;
}

export interface StatusInput {
  readonly snap: Snapshot;
  readonly desired: DesiredState;
  readonly plan: PivotPlan;
  readonly now: Date;
  /** spec.paused or mode StaticPods: why no step runs. */
  readonly halted?: { readonly reason: 'Paused' | 'Unsupported'; readonly message: string };
  /** The rollout planner's result, once the pivot is done and proven. */
  readonly rollout?: RolloutPlan;
}

function computePhase(input: StatusInput, allDone: boolean, anyStarted: boolean): Phase {
  const { plan, halted } = input;
  if (halted?.reason === 'Unsupported' || plan.action.type === 'Blocked') return 'Degraded';
  if (allDone && input.rollout !== undefined) return computeRolloutPhase(input.rollout, input.snap.controlPlane.spec.upgrade.autoRollback);
  if (allDone) return 'SelfHosted';
  if (input.desired.waiting !== undefined && !anyStarted) return 'Pending';
  if (halted?.reason === 'Paused') return anyStarted ? 'Pivoting' : 'StaticPods';
  return 'Pivoting';
}

/**
 * EtcdHealthy and ComponentsHealthy, judged from the pods (the operator holds no etcd
 * credentials); shared by every operation's status.
 */
export function computeHealthConditions(
  snap: Snapshot,
  progress: readonly Pick<ComponentProgress, 'name' | 'readyNodes'>[],
  message: string | undefined,
): Omit<ConditionInput, 'observedGeneration'>[] {
  const out: Omit<ConditionInput, 'observedGeneration'>[] = [];
  const etcdPods = instancesOf(snap, 'etcd');
  const etcdReadyNodes = new Set(etcdPods.filter((p) => p.ready).map((p) => p.node)).size;
  const members = snap.nodes.length;
  if (members === 0 || etcdPods.length === 0) {
    out.push({ type: ConditionType.EtcdHealthy, status: 'Unknown', reason: Reasons.EtcdHealthy.Unreachable, message: 'no etcd pod seen' });
  } else if (etcdReadyNodes >= members) {
    out.push({ type: ConditionType.EtcdHealthy, status: 'True', reason: Reasons.EtcdHealthy.QuorumHealthy, message: `${etcdReadyNodes} of ${members} members ready` });
  } else if (etcdReadyNodes > members / 2) {
    out.push({ type: ConditionType.EtcdHealthy, status: 'False', reason: Reasons.EtcdHealthy.MemberUnhealthy, message: `${etcdReadyNodes} of ${members} members ready` });
  } else {
    out.push({ type: ConditionType.EtcdHealthy, status: 'False', reason: Reasons.EtcdHealthy.QuorumLost, message: `${etcdReadyNodes} of ${members} members ready` });
  }
  const missing = progress.filter((p) => p.readyNodes === 0).map((p) => p.name);
  const unhealthy = progress.filter((p) => p.readyNodes < snap.nodes.length).map((p) => p.name);
  if (progress.length === 0) {
    out.push({ type: ConditionType.ComponentsHealthy, status: 'Unknown', reason: REASON_INITIALIZING, message: message ?? 'not observed yet' });
  } else if (missing.length > 0) {
    out.push({ type: ConditionType.ComponentsHealthy, status: 'False', reason: Reasons.ComponentsHealthy.ComponentMissing, message: `no Ready instance: ${missing.join(', ')}` });
  } else if (unhealthy.length > 0) {
    out.push({ type: ConditionType.ComponentsHealthy, status: 'False', reason: Reasons.ComponentsHealthy.ComponentUnhealthy, message: `not Ready on every node: ${unhealthy.join(', ')}` });
  } else {
    out.push({ type: ConditionType.ComponentsHealthy, status: 'True', reason: Reasons.ComponentsHealthy.AllHealthy, message: 'every instance is Ready' });
  }
  return out;
}

export function computeStatus(input: StatusInput): ControlPlaneStatus {
  const { snap, desired, plan, now } = input;
  const cp = snap.controlPlane;
  const previous = cp.status;
  const generation = cp.metadata.generation;
  const rollout = input.rollout;
  const running = rollout === undefined ? actionComponent(plan) : 'component' in rollout.action ? rollout.action.component : undefined;
  const message = rollout === undefined ? actionMessage(plan) : computeRolloutMessage(rollout);
  const components = plan.components.map((p) =>
    computeComponentStatus(snap, desired, p, p.name === running ? message : undefined),
  );
  const allDone = plan.components.length > 0 && plan.components.every((p) => p.done) && plan.action.type === 'Done';
  const rolloutDone = rollout === undefined || (rollout.mode === 'Forward' && rollout.action.type === 'Done');
  const anyStarted = plan.components.some((p) => p.started);
  const phase = computePhase(input, allDone, anyStarted);

  const kubeVersions = components
    .filter((c) => c.name === 'kube-apiserver' || c.name === 'kube-controller-manager' || c.name === 'kube-scheduler')
    .map((c) => c.version)
    .filter((v): v is string => v !== undefined);
  const version = lowestVersion(kubeVersions);

  const withGen = (c: Omit<ConditionInput, 'observedGeneration'>): ConditionInput =>
    generation === undefined ? c : { ...c, observedGeneration: generation };
  const allReady = plan.components.every((p) => p.readyNodes === snap.nodes.length && snap.nodes.length > 0);
  const specVersion = cp.spec.version;
  const conditionsIn: ConditionInput[] = [];
  const lastUpgrade = rollout !== undefined && allDone ? computeLastUpgrade(rollout, previous?.lastUpgrade, specVersion, cp.spec.upgrade.autoRollback, now) : previous?.lastUpgrade;

  // Ready: the summary users wait on.
  if (allDone && rolloutDone && allReady && version === specVersion) {
    conditionsIn.push(withGen({ type: ConditionType.Ready, status: 'True', reason: Reasons.Ready.AsExpected, message: 'every managed component is self-hosted and ready' }));
  } else if (version !== undefined && version !== specVersion) {
    conditionsIn.push(withGen({ type: ConditionType.Ready, status: 'False', reason: Reasons.Ready.VersionMismatch, message: `the control plane runs ${version}; spec.version is ${specVersion}` }));
  } else {
    conditionsIn.push(withGen({ type: ConditionType.Ready, status: 'False', reason: Reasons.Ready.ComponentsNotReady, message: message ?? 'the pivot has not finished' }));
  }

  // Progressing.
  if (input.halted?.reason === 'Paused') {
    conditionsIn.push(withGen({ type: ConditionType.Progressing, status: 'False', reason: Reasons.Progressing.Paused, message: input.halted.message }));
  } else if (phase === 'Upgrading' || phase === 'RollingBack') {
    const reason = phase === 'Upgrading' ? Reasons.Progressing.Upgrading : Reasons.Progressing.RollingBack;
    conditionsIn.push(withGen({ type: ConditionType.Progressing, status: 'True', reason, message: message ?? phase }));
  } else if (phase === 'Pivoting') {
    conditionsIn.push(withGen({ type: ConditionType.Progressing, status: 'True', reason: Reasons.Progressing.Pivoting, message: message ?? 'pivoting' }));
  } else {
    conditionsIn.push(withGen({ type: ConditionType.Progressing, status: 'False', reason: Reasons.Progressing.Idle, message: phase === 'Degraded' ? 'stopped: see Degraded' : 'nothing to do' }));
  }

  // Degraded.
  if (input.halted?.reason === 'Unsupported') {
    conditionsIn.push(withGen({ type: ConditionType.Degraded, status: 'True', reason: Reasons.Degraded.Unsupported, message: input.halted.message }));
  } else if (plan.action.type === 'Blocked') {
    const reason = desired.refusals.length > 0 ? Reasons.Degraded.Unsupported : Reasons.Degraded.StaticManifestCollision;
    conditionsIn.push(withGen({ type: ConditionType.Degraded, status: 'True', reason, message: plan.action.reason }));
  } else if (rollout !== undefined && allDone && (rollout.action.type === 'Blocked' || rollout.mode !== 'Forward' || rollout.action.type === 'Fail')) {
    const reason =
      rollout.action.type === 'Blocked' && rollout.mode === 'Forward'
        ? (rollout.action.refusal ?? Reasons.Degraded.Unsupported)
        : rollout.mode === 'Rollback' && rollout.action.type === 'Done'
          ? Reasons.Degraded.RolledBack
          : Reasons.Degraded.UpgradeFailed;
    conditionsIn.push(withGen({ type: ConditionType.Degraded, status: 'True', reason, message: rollout.action.type === 'Blocked' && rollout.mode === 'Forward' ? rollout.action.reason : (lastUpgrade?.message ?? message ?? 'the rollout failed') }));
  } else {
    conditionsIn.push(withGen({ type: ConditionType.Degraded, status: 'False', reason: Reasons.Degraded.AsExpected, message: 'nothing needs attention' }));
  }

  // SelfHosted.
  const selfHosted = components.filter((c) => c.mode === 'SelfHosted').length;
  if (allDone) {
    conditionsIn.push(withGen({ type: ConditionType.SelfHosted, status: 'True', reason: Reasons.SelfHosted.AllSelfHosted, message: `${components.length} of ${components.length} components self-hosted` }));
  } else {
    conditionsIn.push(withGen({ type: ConditionType.SelfHosted, status: 'False', reason: selfHosted > 0 ? Reasons.SelfHosted.PartiallySelfHosted : Reasons.SelfHosted.StaticPods, message: `${selfHosted} of ${components.length} components self-hosted` }));
  }

  conditionsIn.push(...computeHealthConditions(snap, plan.components, message).map(withGen));

  let conditions: Condition[] = previous?.conditions ?? [];
  for (const c of conditionsIn) conditions = setCondition(conditions, c, now);

  const rolloutPlan = rollout === undefined || !allDone ? undefined : computeRolloutPlanStatus(rollout, previous?.plan, specVersion, now);
  const keepLast = rollout !== undefined && allDone && rolloutPlan === undefined && previous?.plan !== undefined && previous.plan.operation !== 'Pivot';
  const planStatus =
    rolloutPlan ?? (keepLast ? previous?.plan : desired.components.length > 0 ? computePlanStatus(plan, desired, previous?.plan, now) : previous?.plan);
  const step = computeStepSummary(planStatus);
  return {
    ...(generation === undefined ? {} : { observedGeneration: generation }),
    ...(version === undefined ? {} : { version }),
    phase,
    ...(step === undefined ? {} : { step }),
    conditions,
    components,
    ...(planStatus === undefined ? {} : { plan: planStatus }),
    ...(lastUpgrade === undefined ? {} : { lastUpgrade }),
  };
}
