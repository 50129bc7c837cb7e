/**
 * status of the ControlPlane while spec.mode is StaticPods (pure): phase Unpivoting, then
 * StaticPods; one Unpivot step per handed-back component; the same conditions as the other
 * operations (Ready when every component runs as a Ready static pod at spec.version).
 */
import { computeTimestamp, ConditionType, Reasons, setCondition, type ConditionInput } from '../api/conditions.js';
import type { ComponentName, ComponentStatus, Condition, ControlPlaneStatus, Phase, Plan, PlanStep, StepState } from '../api/types.js';
import type { DesiredState } from './desired.js';
import { mirrorOf } from './pivot-plan.js';
import type { Snapshot } from './snapshot.js';
import { computeComponentStatus, computeHealthConditions, computeStepSummary, lowestVersion } from './status.js';
import { UNPIVOT_ORDER, type DroppedHandback, type UnpivotAction, type UnpivotPlan } from './unpivot-plan.js';

/** The pivot/rollout status with a running hand-back of dropped components shown over it. */
export function computeHandbackStatus(status: ControlPlaneStatus, handback: DroppedHandback, now: Date): ControlPlaneStatus {
  const a = handback.plan.action;
  if (a.type === 'Done') return status;
  const component = 'component' in a && a.component !== undefined ? a.component : handback.components[0];
  const message = `handing ${handback.components.join(', ')} back to static pods (dropped from spec.components): ${describeUnpivotAction(a) ?? ''}`;
  const conditionsIn: ConditionInput[] =
    a.type === 'Blocked'
      ? [{ type: ConditionType.Degraded, status: 'True', reason: Reasons.Degraded.StaticManifestCollision, message }]
      : [{ type: ConditionType.Progressing, status: 'True', reason: Reasons.Progressing.Unpivoting, message }];
  let conditions: Condition[] = status.conditions ?? [];
  for (const c of conditionsIn) conditions = setCondition(conditions, status.observedGeneration === undefined ? c : { ...c, observedGeneration: status.observedGeneration }, now);
  return { ...status, phase: a.type === 'Blocked' ? 'Degraded' : 'Unpivoting', ...(component === undefined ? {} : { step: `${a.type === 'Blocked' ? 'failed ' : ''}1/1 ${component}` }), conditions };
}

export interface UnpivotStatusInput {
  readonly snap: Snapshot;
  readonly desired: DesiredState;
  readonly unpivot: UnpivotPlan;
  readonly now: Date;
  readonly paused: boolean;
}

/** What the user reads for an action (the step message and Progressing). */
export function describeUnpivotAction(a: UnpivotAction): string | undefined {
  switch (a.type) {
    case 'WriteAgentDesired':
      return a.why;
    case 'DeletePod':
      return `stopping the self-hosted ${a.component} pod ${a.pod} on ${a.node}: the static one takes over`;
    case 'DeleteWorkload':
      return `deleting ${a.kind} ${a.name}`;
    case 'UpdateKubeadmConfig':
      return `updating kube-system/kubeadm-config: ${a.changes.join(', ')}`;
    case 'DeleteJobs':
      return `deleting the etcd snapshot Jobs ${a.names.join(', ')} (the snapshot files stay on the node)`;
    case 'DeleteConfigMaps':
      return `deleting selfhost's ConfigMaps ${a.names.join(', ')}`;
    case 'Wait':
    case 'Blocked':
      return a.reason;
    case 'ReadKubeadmConfig':
      return 'reading kube-system/kubeadm-config';
    case 'Done':
      return undefined;
  }
}

function handedBackComponents(snap: Snapshot): ComponentName[] {
  return UNPIVOT_ORDER.filter((c) => snap.controlPlane.spec.components.includes(c));
}

function computeSteps(input: UnpivotStatusInput, previous: Plan | undefined, message: string | undefined): PlanStep[] {
  const { unpivot, now } = input;
  const at = computeTimestamp(now);
  const a = unpivot.action;
  const running = 'component' in a ? a.component : undefined;
  const version = input.desired.version ?? input.snap.controlPlane.spec.version;
  const carried = previous?.operation === 'Unpivot' ? previous.steps : [];
  return handedBackComponents(input.snap).map((component) => {
    const before = carried.find((s) => s.component === component);
    const state: StepState =
      unpivot.finished || unpivot.done.has(component) ? 'Succeeded' : component === running ? (a.type === 'Blocked' ? 'Failed' : 'Running') : 'Pending';
    const startedAt = state === 'Pending' ? undefined : before?.startedAt !== undefined && before.state !== 'Pending' ? before.startedAt : at;
    const finishedAt = state === 'Succeeded' || state === 'Failed' ? (before?.state === state && before.finishedAt !== undefined ? before.finishedAt : at) : undefined;
    const msg = component === running ? message : undefined;
    return {
      component,
      action: 'Unpivot',
      fromVersion: version,
      toVersion: version,
      state,
      ...(startedAt === undefined ? {} : { startedAt }),
      ...(finishedAt === undefined ? {} : { finishedAt }),
      ...(msg === undefined ? {} : { message: msg }),
    };
  });
}

function computeComponents(input: UnpivotStatusInput, message: string | undefined, running: ComponentName | undefined): ComponentStatus[] {
  const { snap, desired, unpivot } = input;
  return handedBackComponents(snap).map((name) => {
    const c = desired.components.find((d) => d.name === name);
    const live = c === undefined ? undefined : snap.workloads.get(`${c.kind}/${c.workloadName}`);
    const readyNodes = snap.nodes.filter((n) => mirrorOf(snap, name, n.name)?.ready === true || (live !== undefined && snap.pods.some((p) => !p.mirror && !p.agent && p.component === name && p.node === n.name && p.ready))).length;
    const mode = live !== undefined && !unpivot.done.has(name) ? 'SelfHosted' : 'StaticPod';
    return computeComponentStatus(snap, unpivot.finished ? { ...desired, components: [] } : desired, { name, mode, done: unpivot.done.has(name), started: unpivot.started.has(name), readyNodes }, name === running ? message : undefined);
  });
}

export function computeUnpivotStatus(input: UnpivotStatusInput): ControlPlaneStatus {
  const { snap, unpivot, now } = input;
  const cp = snap.controlPlane;
  const previous = cp.status;
  const generation = cp.metadata.generation;
  const a = unpivot.action;
  const message = describeUnpivotAction(a);
  const running = 'component' in a ? a.component : undefined;
  const blocked = a.type === 'Blocked';
  const phase: Phase = blocked ? 'Degraded' : unpivot.finished ? 'StaticPods' : 'Unpivoting';
  const components = computeComponents(input, message, running);
  const version = lowestVersion(components.filter((c) => c.name !== 'etcd').map((c) => c.version).filter((v): v is string => v !== undefined));
  const allReady = components.every((c) => c.ready >= snap.nodes.length && snap.nodes.length > 0);

  const withGen = (c: Omit<ConditionInput, 'observedGeneration'>): ConditionInput => (generation === undefined ? c : { ...c, observedGeneration: generation });
  const conditionsIn: ConditionInput[] = [];
  if (unpivot.finished && allReady && version === cp.spec.version) {
    conditionsIn.push(withGen({ type: ConditionType.Ready, status: 'True', reason: Reasons.Ready.AsExpected, message: 'every control-plane component runs as a Ready static pod (spec.mode StaticPods)' }));
  } else if (version !== undefined && version !== cp.spec.version) {
    conditionsIn.push(withGen({ type: ConditionType.Ready, status: 'False', reason: Reasons.Ready.VersionMismatch, message: `the control plane runs ${version}; spec.version is ${cp.spec.version}` }));
  } else {
    conditionsIn.push(withGen({ type: ConditionType.Ready, status: 'False', reason: Reasons.Ready.ComponentsNotReady, message: message ?? 'the unpivot has not finished' }));
  }
  if (input.paused && !unpivot.finished) {
    conditionsIn.push(withGen({ type: ConditionType.Progressing, status: 'False', reason: Reasons.Progressing.Paused, message: 'spec.paused is true: no step starts' }));
  } else if (phase === 'Unpivoting') {
    conditionsIn.push(withGen({ type: ConditionType.Progressing, status: 'True', reason: Reasons.Progressing.Unpivoting, message: message ?? 'unpivoting' }));
  } else {
    conditionsIn.push(withGen({ type: ConditionType.Progressing, status: 'False', reason: Reasons.Progressing.Idle, message: blocked ? 'stopped: see Degraded' : 'nothing to do' }));
  }
  if (blocked) {
    const refused = a.reason.startsWith('cannot hand back') || a.reason.includes('spec.version');
    conditionsIn.push(withGen({ type: ConditionType.Degraded, status: 'True', reason: refused ? Reasons.Degraded.Unsupported : Reasons.Degraded.StaticManifestCollision, message: a.reason }));
  } else {
    conditionsIn.push(withGen({ type: ConditionType.Degraded, status: 'False', reason: Reasons.Degraded.AsExpected, message: 'nothing needs attention' }));
  }
  const selfHosted = components.filter((c) => c.mode === 'SelfHosted').length;
  conditionsIn.push(
    withGen({
      type: ConditionType.SelfHosted,
      status: 'False',
      reason: selfHosted > 0 ? Reasons.SelfHosted.PartiallySelfHosted : Reasons.SelfHosted.StaticPods,
      message: `${selfHosted} of ${components.length} components self-hosted`,
    }),
  );
  const progress = components.map((c) => ({ name: c.name, readyNodes: Math.min(c.ready, snap.nodes.length) }));
  conditionsIn.push(...computeHealthConditions(snap, progress, message).map(withGen));

  let conditions: Condition[] = previous?.conditions ?? [];
  for (const c of conditionsIn) conditions = setCondition(conditions, c, now);
  const steps = computeSteps(input, previous?.plan, message);
  const version0 = input.desired.version ?? cp.spec.version;
  const plan: Plan = { operation: 'Unpivot', fromVersion: version0, toVersion: version0, steps };
  const current = steps.findIndex((s) => s.state === 'Running' || s.state === 'Failed');
  const planStatus: Plan = current < 0 ? plan : { ...plan, current };
  const step = computeStepSummary(planStatus);
  return {
    ...(generation === undefined ? {} : { observedGeneration: generation }),
    ...(version === undefined ? {} : { version }),
    phase,
    ...(step === undefined ? {} : { step }),
    conditions,
    components,
    plan: planStatus,
    ...(previous?.lastUpgrade === undefined ? {} : { lastUpgrade: previous.lastUpgrade }),
  };
}
