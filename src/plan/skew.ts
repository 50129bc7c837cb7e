/**
 * The Kubernetes version skew policy (kubernetes.io/releases/version-skew-policy) as checks on a
 * set of running instances. The policy speaks in minor versions, so patches never violate it.
 *
 * - kube-apiserver: newest and oldest instance within one minor.
 * - kube-controller-manager, kube-scheduler: not newer than any kube-apiserver (they may reach any
 *   of them through the load balancer), at most one minor older than the newest.
 * - kube-proxy: not newer than any kube-apiserver, at most three minors older than the newest.
 * - etcd (etcd's upgrade policy, not Kubernetes'): members within one minor, since etcd only runs
 *   mixed versions during a one-minor rolling upgrade.
 * Versions of different majors are never compatible: no skew rule spans a major.
 */
import type { Version } from '../api/version.js';
import { describeMinors } from './format.js';
import { describeInstance, parseObserved, type ParsedInstance, type ParsedState } from './observed.js';
import type { ObservedVersions, VersionedComponent } from './types.js';

export type SkewRule =
  | 'InvalidVersion'
  | 'MajorMismatch'
  | 'ApiServerSpread'
  | 'NewerThanApiServer'
  | 'OlderThanApiServer'
  | 'EtcdMemberSpread';

export interface SkewViolation {
  readonly rule: SkewRule;
  /** The component that is out of policy (for spreads: the component whose instances spread). */
  readonly component: VersionedComponent;
  /** How many minors beyond the allowed limit (1 for an invalid version or a major mismatch). */
  readonly excess: number;
  readonly message: string;
}

/** How far kube-controller-manager/kube-scheduler and kube-proxy may lag the newest apiserver. */
export const MAX_MINORS_BEHIND_APISERVER = {
  'kube-controller-manager': 1,
  'kube-scheduler': 1,
  'kube-proxy': 3,
} as const;

/** Current skew-policy violations among the observed instances, for Degraded conditions. */
export function checkSkew(observed: ObservedVersions): SkewViolation[] {
  const { state, invalid } = parseObserved(observed);
  const invalidFindings: SkewViolation[] = invalid.map((i) => ({
    rule: 'InvalidVersion',
    component: i.component,
    excess: 1,
    message:
      `${i.component}${i.node ? ` on ${i.node}` : ''} reports version ${JSON.stringify(i.text)}, ` +
      'which cannot be compared',
  }));
  return [...invalidFindings, ...computeSkewViolations(state)];
}

/** Violations in a parsed state, in a fixed order (apiserver, dependents, etcd). */
export function computeSkewViolations(state: ParsedState): SkewViolation[] {
  return [
    ...computeSpreadViolations(state['kube-apiserver'], 'kube-apiserver', 'ApiServerSpread'),
    ...(['kube-controller-manager', 'kube-scheduler', 'kube-proxy'] as const).flatMap((c) =>
      computeDependentViolations(state, c),
    ),
    ...computeSpreadViolations(state.etcd, 'etcd', 'EtcdMemberSpread'),
  ];
}

/** Instances of one component must lie within one minor of each other. */
function computeSpreadViolations(
  instances: readonly ParsedInstance[],
  component: 'kube-apiserver' | 'etcd',
  rule: 'ApiServerSpread' | 'EtcdMemberSpread',
): SkewViolation[] {
  const oldest = instances[0];
  const newest = instances[instances.length - 1];
  if (!oldest || !newest) return [];
  const gap = computeMinorGap(oldest.version, newest.version);
  if (gap <= 1) return [];
  return [
    {
      rule: gap === Infinity ? 'MajorMismatch' : rule,
      component,
      excess: gap === Infinity ? 1 : gap - 1,
      message:
        `${component} instances ${describeInstance(oldest)} and ${describeInstance(newest)} are ` +
        `${describeMinors(gap)} apart; allowed: within 1 minor`,
    },
  ];
}

function computeDependentViolations(
  state: ParsedState,
  component: keyof typeof MAX_MINORS_BEHIND_APISERVER,
): SkewViolation[] {
  const apiservers = state['kube-apiserver'];
  const oldestApi = apiservers[0];
  const newestApi = apiservers[apiservers.length - 1];
  const instances = state[component];
  const newest = instances[instances.length - 1];
  const oldest = instances[0];
  // Without an apiserver there is nothing to be skewed against.
  if (!oldestApi || !newestApi || !newest || !oldest) return [];
  const maxBehind = MAX_MINORS_BEHIND_APISERVER[component];
  const out: SkewViolation[] = [];
  const ahead = computeMinorGap(oldestApi.version, newest.version);
  if (ahead === Infinity || computeMinorGap(oldest.version, newestApi.version) === Infinity) {
    return [
      {
        rule: 'MajorMismatch',
        component,
        excess: 1,
        message:
          `${component} ${describeInstance(newest)} and kube-apiserver ${describeInstance(newestApi)} ` +
          'differ in major version',
      },
    ];
  }
  if (newest.version.minor > oldestApi.version.minor) {
    out.push({
      rule: 'NewerThanApiServer',
      component,
      excess: ahead,
      message:
        `${component} ${describeInstance(newest)} is newer than kube-apiserver ${describeInstance(oldestApi)}; ` +
        `allowed: not newer than any kube-apiserver`,
    });
  }
  const behind = newestApi.version.minor - oldest.version.minor;
  if (behind > maxBehind) {
    out.push({
      rule: 'OlderThanApiServer',
      component,
      excess: behind - maxBehind,
      message:
        `${component} ${describeInstance(oldest)} is ${describeMinors(behind)} older than kube-apiserver ` +
        `${describeInstance(newestApi)}; allowed: at most ${describeMinors(maxBehind)} older`,
    });
  }
  return out;
}

/** Minor distance between a and b, either direction; Infinity across majors (no rule spans one). */
function computeMinorGap(a: Version, b: Version): number {
  return a.major === b.major ? Math.abs(b.minor - a.minor) : Infinity;
}
