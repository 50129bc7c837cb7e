/**
 * status.conditions of a ControlPlane: the types the operator sets, their reasons, and pure helpers
 * that keep lastTransitionTime honest (it moves only when status flips).
 *
 * Every type below is set on the operator's first visit (Unknown with reason Initializing until
 * known), so `kubectl wait --for=condition=Ready` and dashboards never see a missing condition.
 */
import type { Condition, ConditionStatus } from './types.js';

/**
 * Condition types, each with the question it answers.
 *
 * - Ready: is the control plane what spec asks for, and serving? The summary users wait on.
 * - Progressing: is an operation (pivot, upgrade, rollback, unpivot) running right now?
 * - Degraded: does something need a human? Failed steps, rolled-back upgrades, kubeadm collisions.
 * - SelfHosted: do all managed components run as workloads (the pivot's outcome)?
 * - EtcdHealthy: do all etcd members answer, with quorum? Checked before any step that touches etcd
 *   or the apiserver.
 * - ComponentsHealthy: are all managed components' instances ready?
 *
 * No UpgradeSucceeded: a condition that stays True forever after the first upgrade says nothing;
 * a failed upgrade shows as Degraded (reason UpgradeFailed or RolledBack), a running one as
 * Progressing, and status.plan keeps the last operation's steps.
 */
export const ConditionType = {
  Ready: 'Ready',
  Progressing: 'Progressing',
  Degraded: 'Degraded',
  SelfHosted: 'SelfHosted',
  EtcdHealthy: 'EtcdHealthy',
  ComponentsHealthy: 'ComponentsHealthy',
} as const;
export type ConditionType = (typeof ConditionType)[keyof typeof ConditionType];

/** Any condition before the operator could judge it (status Unknown). */
export const REASON_INITIALIZING = 'Initializing';

/** Reasons per condition type; the comment says the status each goes with. */
export const Reasons = {
  Ready: {
    /** True: every managed component runs spec.version and is ready. */
    AsExpected: 'AsExpected',
    /** False: some managed component is not ready. */
    ComponentsNotReady: 'ComponentsNotReady',
    /** False: the running version differs from spec.version (an upgrade is due or running). */
    VersionMismatch: 'VersionMismatch',
  },
  Progressing: {
    /** True: converting static pods into workloads. */
    Pivoting: 'Pivoting',
    /** True: moving to spec.version step by step. */
    Upgrading: 'Upgrading',
    /** True: going back to the previous version after a failed step. */
    RollingBack: 'RollingBack',
    /** True: handing components back to static pods (mode StaticPods). */
    Unpivoting: 'Unpivoting',
    /** False: nothing to do. */
    Idle: 'Idle',
    /** False: spec.paused is true; changes wait. */
    Paused: 'Paused',
  },
  Degraded: {
    /** False: nothing needs attention. */
    AsExpected: 'AsExpected',
    /** True: a step failed and autoRollback is off; the plan stopped at that step. */
    UpgradeFailed: 'UpgradeFailed',
    /** True: an upgrade failed and was rolled back; spec.version still asks for the new version. */
    RolledBack: 'RolledBack',
    /** True: the rollback itself failed. */
    RollbackFailed: 'RollbackFailed',
    /** True: a static manifest reappeared for a self-hosted component (e.g. kubeadm upgrade ran). */
    StaticManifestCollision: 'StaticManifestCollision',
    /** True: spec asks for something this operator cannot do yet (a mode, a version out of range). */
    Unsupported: 'Unsupported',
  },
  SelfHosted: {
    /** True: every managed component runs as a DaemonSet or Deployment. */
    AllSelfHosted: 'AllSelfHosted',
    /** False: some managed components are self-hosted, others still static pods. */
    PartiallySelfHosted: 'PartiallySelfHosted',
    /** False: no managed component is self-hosted. */
    StaticPods: 'StaticPods',
  },
  EtcdHealthy: {
    /** True: every member is healthy and there is a leader. */
    QuorumHealthy: 'QuorumHealthy',
    /** False: some member is unhealthy, quorum holds; etcd steps wait. */
    MemberUnhealthy: 'MemberUnhealthy',
    /** False: no quorum; nothing proceeds. */
    QuorumLost: 'QuorumLost',
    /** Unknown: the operator cannot reach etcd to check. */
    Unreachable: 'Unreachable',
  },
  ComponentsHealthy: {
    /** True: every instance of every managed component is ready. */
    AllHealthy: 'AllHealthy',
    /** False: some instance is not ready. */
    ComponentUnhealthy: 'ComponentUnhealthy',
    /** False: a managed component has no instance at all. */
    ComponentMissing: 'ComponentMissing',
  },
} as const satisfies Record<ConditionType, Record<string, string>>;

/** A condition as the operator computes it; lastTransitionTime is setCondition's business. */
export type ConditionInput = Omit<Condition, 'lastTransitionTime'>;

/** metav1.Time's wire form: RFC 3339 in UTC with whole seconds (what the apiserver round-trips). */
export function computeTimestamp(now: Date): string {
  return now.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function findCondition(list: readonly Condition[] | undefined, type: string): Condition | undefined {
  return list?.find((c) => c.type === type);
}

export function isConditionStatus(
  list: readonly Condition[] | undefined,
  type: string,
  status: ConditionStatus,
): boolean {
  return findCondition(list, type)?.status === status;
}

/**
 * A new list with cond set: replaced in place when its type is present (order stays stable, so
 * status patches do not churn), appended otherwise. lastTransitionTime becomes now only when the
 * condition is new or its status flipped; a changed reason or message alone keeps the old time.
 */
export function setCondition(list: readonly Condition[] | undefined, cond: ConditionInput, now: Date): Condition[] {
  const current = list ?? [];
  const existing = findCondition(current, cond.type);
  const lastTransitionTime =
    existing !== undefined && existing.status === cond.status ? existing.lastTransitionTime : computeTimestamp(now);
  const next: Condition = { ...cond, lastTransitionTime };
  if (existing === undefined) return [...current, next];
  return current.map((c) => (c.type === cond.type ? next : c));
}
