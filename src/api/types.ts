/**
 * TypeScript view of the ControlPlane API (selfhost.dev/v1alpha1).
 *
 * The schema in schema.ts is the source of truth for validation and the CRD; these types
 * mirror it for the code. A test checks that the two agree on every field name.
 */

export const API_GROUP = 'selfhost.dev';
export const API_VERSION = 'v1alpha1';
export const KIND = 'ControlPlane';
export const PLURAL = 'controlplanes';

/** The six components selfhost can take over, in pivot order (see docs/design.md). */
export const COMPONENTS = [
  'cni',
  'kube-proxy',
  'kube-scheduler',
  'kube-controller-manager',
  'kube-apiserver',
  'etcd',
] as const;
export type ComponentName = (typeof COMPONENTS)[number];

/** Components that run from static pods on control-plane nodes in a kubeadm cluster. */
export const CONTROL_PLANE_COMPONENTS = [
  'etcd',
  'kube-apiserver',
  'kube-controller-manager',
  'kube-scheduler',
] as const satisfies readonly ComponentName[];
export type ControlPlaneComponentName = (typeof CONTROL_PLANE_COMPONENTS)[number];

export interface ExtraArg {
  name: string;
  value: string;
}

export interface ResourceRequirements {
  requests?: Record<string, string | number>;
  limits?: Record<string, string | number>;
}

/** Per-component changes on top of what the source static pod / DaemonSet says. */
export interface ComponentOverride {
  /** Flags to set (replacing every occurrence of that flag) on the main container. */
  extraArgs?: ExtraArg[];
  /** Full image reference; wins over imageRepository + version. */
  image?: string;
  resources?: ResourceRequirements;
}

export type ComponentOverrides = Partial<Record<ComponentName, ComponentOverride>>;

export interface EtcdSpec {
  /** etcd version (e.g. 3.6.5); default: the one kubeadm pairs with spec.version. */
  version?: string;
  /** Take an etcd snapshot on the node before any etcd or apiserver upgrade step. */
  snapshotBeforeUpgrade: boolean;
  /** How many snapshots to keep per node. */
  snapshotRetention: number;
}

export interface CniSpec {
  /** Namespace of the CNI DaemonSet. */
  namespace: string;
  /** Name of the CNI DaemonSet; mutually exclusive with selector. */
  name?: string;
  /** Labels of the CNI DaemonSet; mutually exclusive with name. */
  selector?: Record<string, string>;
  /** Image for the CNI DaemonSet's containers; default: keep what it runs. */
  image?: string;
}

export interface UpgradeSpec {
  /** How long a step may take to become healthy before it counts as failed (Go duration). */
  healthTimeout: string;
  /** Roll back automatically to the previous version when a step fails. */
  autoRollback: boolean;
}

export type ControlPlaneMode = 'SelfHosted' | 'StaticPods';

export interface ControlPlaneSpec {
  version: string;
  mode: ControlPlaneMode;
  /** Unset: each component keeps the registry it runs from (convert/registry.ts). */
  imageRepository?: string;
  paused: boolean;
  components: ComponentName[];
  overrides?: ComponentOverrides;
  etcd: EtcdSpec;
  cni: CniSpec;
  upgrade: UpgradeSpec;
}

export type Phase =
  | 'Pending'
  | 'StaticPods'
  | 'Pivoting'
  | 'SelfHosted'
  | 'Upgrading'
  | 'RollingBack'
  | 'Unpivoting'
  | 'Degraded';

export type ConditionStatus = 'True' | 'False' | 'Unknown';

/** metav1.Condition. */
export interface Condition {
  type: string;
  status: ConditionStatus;
  reason: string;
  message: string;
  lastTransitionTime: string;
  observedGeneration?: number;
}

export type ComponentMode = 'StaticPod' | 'SelfHosted' | 'Absent';

export interface ComponentStatus {
  name: ComponentName;
  mode: ComponentMode;
  /** Lowest version seen among the component's running instances. */
  version?: string;
  /** DaemonSet or Deployment name once self-hosted. */
  workload?: string;
  desired: number;
  updated: number;
  ready: number;
  message?: string;
}

export type Operation = 'Pivot' | 'Upgrade' | 'Rollback' | 'Unpivot';
export type StepState = 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Skipped';
export type StepAction =
  | 'Rollout'
  | 'Snapshot'
  | 'Adopt'
  | 'Pivot'
  | 'Upgrade'
  | 'Downgrade'
  | 'Unpivot';

export interface PlanStep {
  component: ComponentName;
  action: StepAction;
  fromVersion?: string;
  toVersion?: string;
  state: StepState;
  startedAt?: string;
  finishedAt?: string;
  message?: string;
}

export interface Plan {
  operation: Operation;
  fromVersion?: string;
  toVersion?: string;
  /** Index into steps of the step running now; absent when none runs. */
  current?: number;
  steps: PlanStep[];
}

export type UpgradeResult = 'Running' | 'Succeeded' | 'Failed' | 'RollingBack' | 'RolledBack';

/** The last rollout of self-hosted templates (status.lastUpgrade). */
export interface LastUpgrade {
  fromVersion?: string;
  toVersion: string;
  result: UpgradeResult;
  targetHash: string;
  startedAt: string;
  finishedAt?: string;
  failedComponent?: ComponentName;
  message?: string;
  /** The verified etcd snapshot taken before the first step (spec.etcd.snapshotBeforeUpgrade). */
  snapshot?: SnapshotStatus;
}

/** A verified etcd snapshot on a control-plane node's disk (status.lastUpgrade.snapshot). */
export interface SnapshotStatus {
  node: string;
  path: string;
  size: number;
  sha256: string;
  revision: number;
  keys: number;
  time: string;
}

export interface ControlPlaneStatus {
  observedGeneration?: number;
  /** Version every control-plane component runs at least (the lowest one seen). */
  version?: string;
  phase?: Phase;
  conditions?: Condition[];
  components?: ComponentStatus[];
  plan?: Plan;
  /** The plan's running (or failed) step as `N/M component`, for `kubectl get cp`. */
  step?: string;
  lastUpgrade?: LastUpgrade;
  /** The node-local checkpoints of the last known good pods (reboot survival), per node and component. */
  checkpoints?: CheckpointStatus[];
}

/** One component's checkpoint on one node. */
export interface CheckpointStatus {
  node: string;
  component: ComponentName;
  /** Version of the checkpointed (proven) template. */
  version?: string;
  /** selfhost.dev/template-hash of the checkpointed template. */
  templateHash: string;
  /** When that template was proven (the checkpoint's age counts from here). */
  provenAt: string;
  /** The agent has written exactly this checkpoint to the node. */
  saved: boolean;
  /** The checkpoint runs the component now (no real pod on the node). */
  active: boolean;
  /** Since when `active` last changed, as far as the operator saw. */
  lastTransitionTime?: string;
}

export interface ObjectMeta {
  name?: string;
  generation?: number;
  resourceVersion?: string;
  uid?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  creationTimestamp?: string;
}

export interface ControlPlane {
  apiVersion: `${typeof API_GROUP}/${typeof API_VERSION}`;
  kind: typeof KIND;
  metadata: ObjectMeta;
  spec: ControlPlaneSpec;
  status?: ControlPlaneStatus;
}
