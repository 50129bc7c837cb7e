/**
 * The values of the string unions in types.ts, for the schema's `enum`s. Each list is built from a
 * Record keyed on the union, so adding a value to a union without adding it here (or the reverse)
 * is a compile error instead of a schema that silently rejects a value the code writes.
 */
import type {
  ComponentMode,
  ConditionStatus,
  ControlPlaneMode,
  Operation,
  Phase,
  StepAction,
  StepState,
  UpgradeResult,
} from './types.js';

/** Keys of an exhaustive record, in the order written. */
function computeKeys<T extends string>(record: Record<T, true>): readonly T[] {
  // Object.keys widens to string[]; the record's type guarantees every key is a T.
  return Object.freeze(Object.keys(record) as T[]);
}

export const CONTROL_PLANE_MODES = computeKeys<ControlPlaneMode>({ SelfHosted: true, StaticPods: true });

export const PHASES = computeKeys<Phase>({
  Pending: true,
  StaticPods: true,
  Pivoting: true,
  SelfHosted: true,
  Upgrading: true,
  RollingBack: true,
  Unpivoting: true,
  Degraded: true,
});

export const CONDITION_STATUSES = computeKeys<ConditionStatus>({ True: true, False: true, Unknown: true });

export const COMPONENT_MODES = computeKeys<ComponentMode>({ StaticPod: true, SelfHosted: true, Absent: true });

export const OPERATIONS = computeKeys<Operation>({ Pivot: true, Upgrade: true, Rollback: true, Unpivot: true });

export const STEP_STATES = computeKeys<StepState>({
  Pending: true,
  Running: true,
  Succeeded: true,
  Failed: true,
  Skipped: true,
});

export const STEP_ACTIONS = computeKeys<StepAction>({
  Rollout: true,
  Snapshot: true,
  Adopt: true,
  Pivot: true,
  Upgrade: true,
  Downgrade: true,
  Unpivot: true,
});

export const UPGRADE_RESULTS = computeKeys<UpgradeResult>({
  Running: true,
  Succeeded: true,
  Failed: true,
  RollingBack: true,
  RolledBack: true,
});
