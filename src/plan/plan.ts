/**
 * planVersionChange: from what runs and spec.version to an ordered list of steps, or a refusal
 * with a condition reason. The first failing check names the reason; they run cheapest and most
 * fundamental first: inputs parse → major → supported minor → apiserver spread → minor skip →
 * per-component minor skip / downgrade → etcd (table, downgrade, path) → skew along the plan.
 */
import type { ComponentName, PlanStep } from '../api/types.js';
import { RELEASES, type MinorRelease } from '../versions/table.js';
import { computePlanStep, refuse, type ComponentChange } from './change.js';
import { planEtcdChange } from './etcd.js';
import { checkKubernetesMoves, computeKubernetesChanges, type KubernetesTarget } from './kubernetes.js';
import { parseInput } from './input.js';
import { describeInstance, lowestInstance, sortInstances, type ParsedState } from './observed.js';
import { computeSupportedRange, findRelease } from './releases.js';
import { computePlanViolation } from './simulate.js';
import { computeSkewViolations } from './skew.js';
import {
  KUBERNETES_COMPONENTS,
  VERSIONED_COMPONENTS,
  type PlanRefused,
  type PlanResult,
  type VersionChangeInput,
  type VersionedComponent,
} from './types.js';

/** kubeadm's order: etcd before the apiservers, kube-proxy only after the whole control plane. */
export const UPGRADE_ORDER = [
  'etcd',
  'kube-apiserver',
  'kube-controller-manager',
  'kube-scheduler',
  'kube-proxy',
] as const satisfies readonly VersionedComponent[];

/** The reverse, without etcd: the apiservers go back last so nothing is ever newer than them. */
export const ROLLBACK_ORDER = [
  'kube-proxy',
  'kube-scheduler',
  'kube-controller-manager',
  'kube-apiserver',
] as const satisfies readonly VersionedComponent[];

export function planVersionChange(input: VersionChangeInput, releases: readonly MinorRelease[] = RELEASES): PlanResult {
  const parsed = parseInput(input);
  if (!parsed.ok) return parsed;
  const { state, target, lowestApi, override, upgradeFrom } = parsed;

  const early = checkTarget(state, target, releases);
  if (!early.ok) return early;
  const managed: ReadonlySet<ComponentName> = new Set(input.components);
  const moveRefusal = checkKubernetesMoves(state, target, managed, upgradeFrom);
  if (moveRefusal) return moveRefusal;

  const kubeChanges = computeKubernetesChanges(state, target, managed);
  const isRollback = kubeChanges.some((c) => c.action === 'Downgrade');
  const release = early.release;
  const etcd = planEtcdChange({ state, managed, release, isRollback, ...(override ? { override } : {}) });
  if (!etcd.ok) return etcd;

  const changes = computeOrderedChanges([...etcd.changes, ...kubeChanges], isRollback);
  const found = computePlanViolation(state, changes);
  if (found) {
    const what = found.preexisting
      ? `the cluster is outside the version skew policy and the plan to ${target.text} would not repair it`
      : `the plan to ${target.text} would break the version skew policy`;
    return refuse('SkewViolation', `${what}: ${found.violation.message}`);
  }
  const snapshot = computeSnapshotStep(state, changes, input.snapshotBeforeUpgrade === true);
  return {
    ok: true,
    operation: changes.length === 0 ? 'None' : isRollback ? 'Rollback' : 'Upgrade',
    fromVersion: computeFromVersion(kubeChanges, isRollback) ?? lowestApi.text,
    toVersion: target.text,
    steps: [...snapshot.steps, ...changes.map(computePlanStep)],
    notes: [...etcd.notes, ...snapshot.notes, ...computeUnobservedNotes(state, managed)],
  };
}

/**
 * The Kubernetes version the operation starts from, as a person would say it: the furthest-behind
 * component for an upgrade, the furthest-ahead one for a rollback. Undefined when no Kubernetes
 * component moves (only etcd, or nothing); the caller then uses the lowest apiserver.
 */
function computeFromVersion(kubeChanges: readonly ComponentChange[], isRollback: boolean): string | undefined {
  const froms = sortInstances(kubeChanges.map((c) => c.from));
  return (isRollback ? froms[froms.length - 1] : froms[0])?.text;
}

/** Checks on the target alone: major, support, and whether the apiservers can reach it in one step. */
function checkTarget(
  state: ParsedState,
  target: KubernetesTarget,
  releases: readonly MinorRelease[],
): { ok: true; release: MinorRelease } | PlanRefused {
  for (const component of KUBERNETES_COMPONENTS) {
    const other = state[component].find((i) => i.version.major !== target.version.major);
    if (other) {
      return refuse(
        'MajorChange',
        `${component} runs ${describeInstance(other)}; ${target.text} changes the major version, ` +
          `which selfhost never does. Allowed: a v${other.version.major}.x version`,
      );
    }
  }
  const release = findRelease(releases, target.version);
  if (!release) {
    const range = computeSupportedRange(releases);
    return refuse('UnsupportedVersion', `${target.text} is not supported: selfhost supports ${range}`);
  }
  // HA apiservers two minors apart: any single target moves one of them by two minors.
  // (Apiservers across majors never get here: the major check above refuses them.)
  const spread = computeSkewViolations(state).find((v) => v.rule === 'ApiServerSpread');
  if (spread) {
    return refuse(
      'SkewViolation',
      `${spread.message}; no single version change can repair this, fix the instances by hand first`,
    );
  }
  const lowestApi = lowestInstance(state['kube-apiserver']);
  if (lowestApi && target.version.minor > lowestApi.version.minor + 1) {
    return refuse(
      'MinorSkip',
      `kube-apiserver runs ${describeInstance(lowestApi)}; ${target.text} skips a minor. ` +
        `Allowed: up to a v${target.version.major}.${lowestApi.version.minor + 1} version, one minor at a time`,
    );
  }
  return { ok: true, release };
}

function computeOrderedChanges(changes: readonly ComponentChange[], isRollback: boolean): ComponentChange[] {
  const order: readonly VersionedComponent[] = isRollback ? ROLLBACK_ORDER : UPGRADE_ORDER;
  return order.flatMap((component) => changes.filter((c) => c.component === component));
}

/** spec.etcd.snapshotBeforeUpgrade: one snapshot first, when etcd or an apiserver goes up. */
function computeSnapshotStep(
  state: ParsedState,
  changes: readonly ComponentChange[],
  wanted: boolean,
): { steps: PlanStep[]; notes: string[] } {
  const needed = changes.some(
    (c) => c.action === 'Upgrade' && (c.component === 'etcd' || c.component === 'kube-apiserver'),
  );
  if (!wanted || !needed) return { steps: [], notes: [] };
  if (state.etcd.length === 0) {
    return { steps: [], notes: ['no snapshot step: no etcd member was observed to take one from'] };
  }
  return {
    steps: [
      {
        component: 'etcd',
        action: 'Snapshot',
        state: 'Pending',
        message: 'etcd snapshot before the upgrade (spec.etcd.snapshotBeforeUpgrade)',
      },
    ],
    notes: [],
  };
}

function computeUnobservedNotes(state: ParsedState, managed: ReadonlySet<ComponentName>): string[] {
  return VERSIONED_COMPONENTS.filter((c) => managed.has(c) && state[c].length === 0).map(
    (c) => `${c} is managed but no instance was observed; it gets no step`,
  );
}
