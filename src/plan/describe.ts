/** Human text for a plan result: what `selfhost plan` prints and what status messages quote. */
import type { PlanStep } from '../api/types.js';
import type { PlanResult } from './types.js';

/**
 * One line per item: a header, the numbered steps, then notes. A refusal is one line,
 * `refused (Reason): message`, so scripts can match the reason.
 */
export function describePlan(result: PlanResult): string[] {
  if (!result.ok) return [`refused (${result.reason}): ${result.message}`];
  const header =
    result.operation === 'None'
      ? `Nothing to do: the managed components already run ${result.toVersion}`
      : result.fromVersion === result.toVersion
        ? `${result.operation} at ${result.toVersion}:` // e.g. etcd alone moves
        : `${result.operation} ${result.fromVersion} → ${result.toVersion}:`;
  return [
    header,
    ...result.steps.map((step, i) => `${i + 1}. ${describeStep(step)}`),
    ...result.notes.map((note) => `Note: ${note}`),
  ];
}

/** `Upgrade kube-apiserver v1.36.4 → v1.37.2`, `Snapshot etcd`. */
export function describeStep(step: PlanStep): string {
  const versions =
    step.fromVersion !== undefined && step.toVersion !== undefined ? ` ${step.fromVersion} → ${step.toVersion}` : '';
  return `${step.action} ${step.component}${versions}`;
}
