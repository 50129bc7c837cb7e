/**
 * TypeScript mirror of VERSION_TRANSITION_RULE (cel-rules.ts): same decision, same message as its
 * messageExpression. Keep the two in step; cel-rules.test.ts runs both on the same cases.
 */
import type { FieldError } from './field-error.js';
import type { ControlPlane } from './types.js';
import { parseVersion } from './version.js';

/**
 * Whether spec.version may change from oldCp's to newVersion; a FieldError at spec.version when
 * not. Only judges a change: an unchanged version, or one that is malformed (the pattern check
 * reports that), passes.
 */
export function checkVersionTransition(oldCp: ControlPlane, newVersion: string): FieldError | undefined {
  if (newVersion === oldCp.spec.version) return undefined;
  const next = parseVersion(newVersion);
  if (next === undefined) return undefined;

  const plan = oldCp.status?.plan;
  const abortTarget = plan?.operation === 'Upgrade' ? plan.fromVersion : undefined;
  if (abortTarget !== undefined && newVersion === abortTarget) return undefined;

  const running = oldCp.status?.version;
  const baseText = running ?? oldCp.spec.version;
  const base = parseVersion(baseText);
  if (base === undefined) {
    // CEL's int() fails on a malformed stored version, which rejects the update as well.
    return { path: 'spec.version', value: newVersion, message: `cannot judge the change: the stored version ${baseText} is malformed` };
  }
  if (next.major === base.major && next.minor >= base.minor && next.minor <= base.minor + 1) return undefined;

  const source = running !== undefined ? ' (running, status.version)' : ' (previous spec.version)';
  const why =
    next.major !== base.major
      ? 'the major version must not change'
      : next.minor > base.minor + 1
        ? 'that skips a minor, upgrade one minor at a time'
        : 'that is a minor downgrade';
  const abort = abortTarget !== undefined ? `, or ${abortTarget} to abort the running upgrade` : '';
  return {
    path: 'spec.version',
    value: newVersion,
    message:
      `cannot move from ${baseText}${source} to ${newVersion}: ${why}; ` +
      `allowed: v${base.major}.${base.minor}.x or v${base.major}.${base.minor + 1}.x${abort}`,
  };
}
