/**
 * Inputs and outputs of the version skew planner. The planner is pure: the reconciler gathers what
 * runs (observed), what the user wants (spec) and what is in flight (status.plan) and passes them in.
 */
import type { ComponentName, Operation, PlanStep } from '../api/types.js';

/** One running instance of a control-plane component: the node it runs on and its version. */
export interface InstanceVersion {
  readonly node: string;
  /** `v1.37.2` for Kubernetes components; `3.6.5` (also `v3.6.5`, `3.6.5-0`) for etcd. */
  readonly version: string;
}

/**
 * What runs now. Control-plane components have one instance per control-plane node; kube-proxy is
 * one DaemonSet, reported as one version. A missing key or an empty list means nothing was seen.
 * The CNI is not versioned with Kubernetes and has no entry.
 */
export interface ObservedVersions {
  readonly etcd?: readonly InstanceVersion[];
  readonly 'kube-apiserver'?: readonly InstanceVersion[];
  readonly 'kube-controller-manager'?: readonly InstanceVersion[];
  readonly 'kube-scheduler'?: readonly InstanceVersion[];
  readonly 'kube-proxy'?: string;
}

/** The components the planner reasons about; the CNI is not among them. */
export const VERSIONED_COMPONENTS = [
  'etcd',
  'kube-apiserver',
  'kube-controller-manager',
  'kube-scheduler',
  'kube-proxy',
] as const satisfies readonly ComponentName[];
export type VersionedComponent = (typeof VERSIONED_COMPONENTS)[number];

/** The components whose version is the Kubernetes version (everything but etcd and the CNI). */
export const KUBERNETES_COMPONENTS = [
  'kube-apiserver',
  'kube-controller-manager',
  'kube-scheduler',
  'kube-proxy',
] as const satisfies readonly VersionedComponent[];
export type KubernetesComponent = (typeof KUBERNETES_COMPONENTS)[number];

/** The operation running now (status.plan); only an Upgrade can be aborted by a minor downgrade. */
export interface InProgressOperation {
  readonly operation: Operation;
  /** The version the operation started from (status.plan.fromVersion). */
  readonly fromVersion: string;
}

export interface VersionChangeInput {
  readonly observed: ObservedVersions;
  /** spec.version. */
  readonly target: string;
  /** spec.components: the components selfhost manages and may step. */
  readonly components: readonly ComponentName[];
  /** spec.etcd.version: wins over the release table's pairing. */
  readonly etcdVersionOverride?: string;
  /** spec.etcd.snapshotBeforeUpgrade. */
  readonly snapshotBeforeUpgrade?: boolean;
  readonly inProgress?: InProgressOperation;
}

/** Condition reasons of a refusal (CamelCase, usable as metav1.Condition reason as they are). */
export const REFUSAL_REASONS = [
  'InvalidVersion',
  'VersionUnknown',
  'MajorChange',
  'UnsupportedVersion',
  'InvalidReleaseTable',
  'SkewViolation',
  'MinorSkip',
  'MinorDowngrade',
  'EtcdDowngrade',
  'EtcdMinorSkip',
  'EtcdUpgradePath',
] as const;
export type RefusalReason = (typeof REFUSAL_REASONS)[number];

export type PlanOperation = 'Upgrade' | 'Rollback' | 'None';

export interface PlanAccepted {
  readonly ok: true;
  readonly operation: PlanOperation;
  /**
   * The Kubernetes version the operation starts from: for an Upgrade the lowest version among the
   * components it moves, for a Rollback the highest; the lowest kube-apiserver when only etcd moves
   * or nothing does.
   */
  readonly fromVersion: string;
  /** The target Kubernetes version. */
  readonly toVersion: string;
  /** In execution order, every step Pending. */
  readonly steps: PlanStep[];
  /** Human notes on what the plan deliberately leaves alone (etcd kept, unobserved components). */
  readonly notes: string[];
}

export interface PlanRefused {
  readonly ok: false;
  readonly reason: RefusalReason;
  /** Names the component, the versions involved and what would be allowed. */
  readonly message: string;
}

export type PlanResult = PlanAccepted | PlanRefused;
