/**
 * Changes of the Kubernetes-versioned components (apiserver, controller-manager, scheduler,
 * kube-proxy) towards the target, and the per-component rules: no minor skipped on the way up,
 * no minor downgrade except to abort the upgrade in flight.
 */
import type { ComponentName } from '../api/types.js';
import { compareVersions, formatVersion, type Version } from '../api/version.js';
import { refuse, type ComponentChange } from './change.js';
import { describeMinors } from './format.js';
import {
  describeInstance,
  highestInstance,
  lowestInstance,
  type ParsedInstance,
  type ParsedState,
} from './observed.js';
import { KUBERNETES_COMPONENTS, type PlanRefused } from './types.js';

export interface KubernetesTarget {
  readonly text: string;
  readonly version: Version;
}

/**
 * kube-proxy is exempt from the one-minor rule: the skew policy lets it lag the apiserver by three
 * minors, so catching up in one step is a supported move (the skew simulation still bounds it).
 * It keeps no state that a minor skip could corrupt.
 */
const ONE_MINOR_AT_A_TIME: ReadonlySet<ComponentName> = new Set([
  'kube-apiserver',
  'kube-controller-manager',
  'kube-scheduler',
]);

/**
 * One change per managed, observed Kubernetes component that has an instance off target.
 * A component with any instance above the target is downgraded (from its highest instance),
 * otherwise upgraded (from its lowest): the risky direction decides.
 */
export function computeKubernetesChanges(
  state: ParsedState,
  target: KubernetesTarget,
  managed: ReadonlySet<ComponentName>,
): ComponentChange[] {
  const changes: ComponentChange[] = [];
  for (const component of KUBERNETES_COMPONENTS) {
    const instances = state[component];
    const lowest = lowestInstance(instances);
    const highest = highestInstance(instances);
    if (!managed.has(component) || !lowest || !highest) continue;
    if (compareVersions(highest.version, target.version) > 0) {
      changes.push({ component, action: 'Downgrade', from: highest, to: target });
    } else if (compareVersions(lowest.version, target.version) < 0) {
      changes.push({ component, action: 'Upgrade', from: lowest, to: target });
    }
  }
  return changes;
}

/**
 * The first managed instance whose move to the target breaks the minor rules, as a refusal.
 * upgradeInProgressFrom: where the Upgrade in flight started, if one is; the target equal to it
 * makes a one-minor downgrade an abort, which is allowed.
 */
export function checkKubernetesMoves(
  state: ParsedState,
  target: KubernetesTarget,
  managed: ReadonlySet<ComponentName>,
  upgradeInProgressFrom: Version | undefined,
): PlanRefused | undefined {
  for (const component of KUBERNETES_COMPONENTS) {
    if (!managed.has(component)) continue;
    const lowest = lowestInstance(state[component]);
    const highest = highestInstance(state[component]);
    if (!lowest || !highest) continue;
    const behind = target.version.minor - lowest.version.minor;
    if (behind > 1 && ONE_MINOR_AT_A_TIME.has(component)) {
      const next = `v${target.version.major}.${lowest.version.minor + 1}`;
      return refuse(
        'MinorSkip',
        `${component} runs ${describeInstance(lowest)}; ${target.text} would skip ${describeMinors(behind - 1)}. ` +
          `Allowed: one minor at a time — move to a ${next} patch first`,
      );
    }
    const ahead = highest.version.minor - target.version.minor;
    if (ahead > 0) {
      const refusal = checkMinorDowngrade(component, highest, ahead, target, upgradeInProgressFrom);
      if (refusal) return refusal;
    }
  }
  return undefined;
}

function checkMinorDowngrade(
  component: ComponentName,
  highest: ParsedInstance,
  ahead: number,
  target: KubernetesTarget,
  abortsFrom: Version | undefined,
): PlanRefused | undefined {
  const isAbort = abortsFrom !== undefined && compareVersions(abortsFrom, target.version) === 0;
  // An abort undoes one minor step; nothing legitimate is ever two minors ahead of the target.
  if (isAbort && ahead === 1) return undefined;
  const patchLine = `v${highest.version.major}.${highest.version.minor}`;
  const abortHint =
    abortsFrom && !isAbort
      ? `, or ${formatVersion(abortsFrom)} to abort the upgrade in progress, which started there`
      : '';
  return refuse(
    'MinorDowngrade',
    `${component} runs ${describeInstance(highest)}; ${target.text} is a downgrade by ${describeMinors(ahead)}. ` +
      `Allowed: a ${patchLine} patch version${abortHint}`,
  );
}

