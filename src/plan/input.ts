/**
 * The planner's inputs, parsed: every version in the input must parse before any rule looks at
 * it, so a typo is reported as such (InvalidVersion) rather than as a confusing skew refusal.
 */
import { parseVersion, type Version } from '../api/version.js';
import { refuse } from './change.js';
import { parseEtcdVersion } from './etcd-version.js';
import type { KubernetesTarget } from './kubernetes.js';
import { lowestInstance, parseObserved, type ParsedInstance, type ParsedState } from './observed.js';
import type { PlanRefused, VersionChangeInput } from './types.js';

export interface ParsedInput {
  readonly ok: true;
  readonly target: KubernetesTarget;
  readonly state: ParsedState;
  /** The lowest apiserver: what the cluster runs. */
  readonly lowestApi: ParsedInstance;
  readonly override?: { readonly text: string; readonly version: Version };
  /** Where the Upgrade in flight started, when one is in flight (an abort returns there). */
  readonly upgradeFrom?: Version;
}

export function parseInput(input: VersionChangeInput): ParsedInput | PlanRefused {
  const target = parseVersion(input.target);
  if (!target) {
    return refuse(
      'InvalidVersion',
      `spec.version ${JSON.stringify(input.target)} is not a version: want vMAJOR.MINOR.PATCH, e.g. v1.37.2`,
    );
  }
  const { state, invalid } = parseObserved(input.observed);
  const bad = invalid[0];
  if (bad) {
    return refuse(
      'InvalidVersion',
      `${bad.component}${bad.node ? ` on ${bad.node}` : ''} reports version ${JSON.stringify(bad.text)}, ` +
        'which cannot be compared; Kubernetes components must report vMAJOR.MINOR.PATCH, etcd MAJOR.MINOR.PATCH',
    );
  }
  const overrideText = input.etcdVersionOverride;
  const overrideVersion = overrideText === undefined ? undefined : parseEtcdVersion(overrideText);
  const override =
    overrideText !== undefined && overrideVersion ? { text: overrideText, version: overrideVersion } : undefined;
  if (overrideText !== undefined && !override) {
    return refuse(
      'InvalidVersion',
      `spec.etcd.version ${JSON.stringify(overrideText)} is not an etcd version: want e.g. 3.6.5`,
    );
  }
  const inProgress = input.inProgress;
  const inProgressFrom = inProgress ? parseVersion(inProgress.fromVersion) : undefined;
  if (inProgress && !inProgressFrom) {
    return refuse(
      'InvalidVersion',
      `the ${inProgress.operation} in progress started from ${JSON.stringify(inProgress.fromVersion)}, ` +
        'which is not a version',
    );
  }
  const lowestApi = lowestInstance(state['kube-apiserver']);
  if (!lowestApi) {
    return refuse(
      'VersionUnknown',
      'no kube-apiserver instance was observed, so the running Kubernetes version is unknown',
    );
  }
  return {
    ok: true,
    target: { text: input.target, version: target },
    state,
    lowestApi,
    ...(override ? { override } : {}),
    ...(inProgress?.operation === 'Upgrade' && inProgressFrom ? { upgradeFrom: inProgressFrom } : {}),
  };
}
