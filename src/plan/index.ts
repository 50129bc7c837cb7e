/** The version skew planner: pure functions from observed versions and spec to a plan or a refusal. */
export { planVersionChange, UPGRADE_ORDER, ROLLBACK_ORDER } from './plan.js';
export { planFromTo, computeUniformObserved, type FromToOptions } from './from-to.js';
export { checkSkew, MAX_MINORS_BEHIND_APISERVER, type SkewRule, type SkewViolation } from './skew.js';
export { describePlan, describeStep } from './describe.js';
export { ETCD_UPGRADE_FLOORS } from './etcd.js';
export { parseEtcdVersion, formatEtcdVersion } from './etcd-version.js';
export { computeSupportedRange, findRelease } from './releases.js';
export {
  KUBERNETES_COMPONENTS,
  REFUSAL_REASONS,
  VERSIONED_COMPONENTS,
  type InProgressOperation,
  type InstanceVersion,
  type KubernetesComponent,
  type ObservedVersions,
  type PlanAccepted,
  type PlanOperation,
  type PlanRefused,
  type PlanResult,
  type RefusalReason,
  type VersionChangeInput,
  type VersionedComponent,
} from './types.js';
