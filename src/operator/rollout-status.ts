/**
 * The rollout's part of the status (pure): status.plan for an Upgrade or Rollback,
 * status.lastUpgrade, and the phase. Times are carried over from the stored status so an
 * unchanged world computes an identical status (and writes nothing).
 */
import { computeTimestamp } from '../api/conditions.js';
import type { LastUpgrade, Phase, Plan, PlanStep, UpgradeResult } from '../api/types.js';
import type { RolloutPlan } from './rollout-plan.js';

function actionMessage(r: RolloutPlan): string | undefined {
  const a = r.action;
  switch (a.type) {
    case 'Apply':
      return a.why === 'Rollback' ? `restoring the last known good ${a.component}` : a.why === 'Drift' ? `putting back the ${a.component} workload edited by hand` : `applying the new ${a.component} workload`;
    case 'RecordRevision':
      return `${a.component} passed its health gate`;
    case 'Fail':
      return a.message;
    case 'CreateSnapshotJob':
      return 'starting the etcd snapshot Job';
    case 'RecordSnapshot':
      return `etcd snapshot verified: ${a.snapshot.path} on ${a.snapshot.node} (${String(a.snapshot.size)} bytes, revision ${String(a.snapshot.revision)}, ${String(a.snapshot.keys)} keys)`;
    case 'Wait':
    case 'Blocked':
      return a.reason;
    case 'Done':
      return undefined;
  }
}

export function computeRolloutMessage(r: RolloutPlan): string | undefined {
  return actionMessage(r);
}

function actionComponent(r: RolloutPlan): string | undefined {
  const a = r.action;
  return 'component' in a ? a.component : undefined;
}

/** status.lastUpgrade: undefined until a rollout of this target has started. */
export function computeLastUpgrade(r: RolloutPlan, previous: LastUpgrade | undefined, toVersion: string, autoRollback: boolean, now: Date): LastUpgrade | undefined {
  const same = previous?.targetHash === r.targetHash;
  const started =
    r.steps.some((s) => s.state !== 'Pending') || (r.action.type === 'Apply' && r.action.why === 'Rollout') || r.action.type === 'CreateSnapshotJob';
  if (!same && !started) return previous;
  if (r.steps.length === 0) return previous;
  const result: UpgradeResult =
    r.action.type === 'Fail'
      ? autoRollback
        ? 'RollingBack'
        : 'Failed'
      : r.mode === 'Stopped'
        ? 'Failed'
        : r.mode === 'Rollback'
          ? r.action.type === 'Done'
            ? 'RolledBack'
            : 'RollingBack'
          : r.action.type === 'Done'
            ? 'Succeeded'
            : 'Running';
  const at = computeTimestamp(now);
  const terminal = result === 'Succeeded' || result === 'Failed' || result === 'RolledBack';
  const finishedAt = terminal ? (same && previous?.result === result && previous.finishedAt !== undefined ? previous.finishedAt : at) : undefined;
  const failedComponent = r.action.type === 'Fail' ? r.action.component : same ? previous?.failedComponent : undefined;
  const baseMessage = r.action.type === 'Fail' ? r.action.message : same ? previous?.message : undefined;
  const message =
    result === 'RolledBack' && baseMessage !== undefined && !baseMessage.includes('; restored')
      ? `${baseMessage}; restored the last known good ${r.steps.map((s) => s.component).join(', ')}`
      : baseMessage;
  const fromVersion = same ? previous?.fromVersion : r.fromVersion;
  const snapshot = r.action.type === 'RecordSnapshot' ? r.action.snapshot : same ? previous?.snapshot : undefined;
  return {
    ...(fromVersion === undefined ? {} : { fromVersion }),
    toVersion,
    result,
    targetHash: r.targetHash,
    startedAt: same && previous !== undefined ? previous.startedAt : at,
    ...(finishedAt === undefined ? {} : { finishedAt }),
    ...(failedComponent === undefined ? {} : { failedComponent }),
    ...(message === undefined ? {} : { message }),
    ...(snapshot === undefined ? {} : { snapshot }),
  };
}

/** status.plan of the rollout; undefined when the target changes nothing (the last plan stays). */
export function computeRolloutPlanStatus(r: RolloutPlan, previous: Plan | undefined, toVersion: string, now: Date): Plan | undefined {
  if (r.steps.length === 0) return undefined;
  const at = computeTimestamp(now);
  const operation = r.mode === 'Rollback' ? 'Rollback' : 'Upgrade';
  const running = actionComponent(r);
  const samePlan = previous?.operation === operation || (operation === 'Rollback' && previous?.operation === 'Upgrade');
  // The step the action is about: a component's first unfinished one (etcd may have two), else
  // its last (a rollback restores a component whose steps all passed).
  const mine = r.steps.flatMap((s, i) => (s.component === running ? [i] : []));
  const runningIndex = mine.find((i) => r.steps[i]?.state !== 'Succeeded') ?? mine.at(-1) ?? -1;
  const steps: PlanStep[] = r.steps.map((s, index) => {
    const before = samePlan ? previous?.steps.find((p) => p.component === s.component && p.action === s.action && p.toVersion === s.toVersion) : undefined;
    // While rolling back, a step that moved counts as Failed (the failed one) or Running (being restored).
    const state: PlanStep['state'] =
      r.mode === 'Rollback' ? (index === runningIndex ? 'Running' : s.state === 'Failed' ? 'Failed' : s.state) : index === runningIndex && r.action.type === 'Fail' ? 'Failed' : s.state;
    const startedAt = state === 'Pending' ? undefined : before?.startedAt !== undefined && before.state !== 'Pending' ? before.startedAt : at;
    const finishedAt =
      state === 'Succeeded' || state === 'Failed' ? (before?.state === state && before.finishedAt !== undefined ? before.finishedAt : at) : undefined;
    const message = index === runningIndex ? actionMessage(r) : before?.state === state ? before.message : undefined;
    return {
      component: s.component,
      action: s.action,
      ...(s.fromVersion === undefined ? {} : { fromVersion: s.fromVersion }),
      ...(s.toVersion === undefined ? {} : { toVersion: s.toVersion }),
      state,
      ...(startedAt === undefined ? {} : { startedAt }),
      ...(finishedAt === undefined ? {} : { finishedAt }),
      ...(message === undefined ? {} : { message }),
    };
  });
  const current = steps.findIndex((s) => s.state === 'Running');
  return {
    operation,
    ...(r.fromVersion === undefined ? {} : { fromVersion: r.fromVersion }),
    toVersion,
    ...(current < 0 ? {} : { current }),
    steps,
  };
}

/** The phase while the pivot is done: the rollout decides it. */
export function computeRolloutPhase(r: RolloutPlan, autoRollback: boolean): Phase {
  if (r.action.type === 'Blocked' || r.mode === 'Stopped') return 'Degraded';
  if (r.mode === 'Rollback') return r.action.type === 'Done' ? 'Degraded' : 'RollingBack';
  if (r.action.type === 'Fail') return autoRollback ? 'RollingBack' : 'Degraded';
  if (r.action.type === 'Done') return 'SelfHosted';
  if (r.steps.some((s) => s.state !== 'Succeeded')) return 'Upgrading';
  return 'SelfHosted';
}
