/**
 * TypeScript mirrors of the spec-level CEL rules in cel-rules.ts: same decision, same message as
 * each rule's messageExpression.
 */
import {
  CNI_AUTO_DETECT,
  HEALTH_TIMEOUT_MAX,
  HEALTH_TIMEOUT_MIN,
} from './cel-rules.js';
import { parseGoDuration } from './duration.js';
import type { FieldError } from './field-error.js';
import type { CniSpec } from './types.js';

/** Mirror of CNI_NAME_XOR_SELECTOR_RULE: spec.cni names the DaemonSet by name or by labels, not both. */
export function checkCniSelector(
  cni: Partial<Record<keyof CniSpec, unknown>>,
  path = 'spec.cni',
): FieldError | undefined {
  if (cni.name === undefined || cni.selector === undefined) return undefined;
  return {
    path,
    value: cni,
    message: `name ${String(cni.name)} and selector are both set; they are mutually exclusive: ${CNI_AUTO_DETECT}`,
  };
}

/** Mirror of HEALTH_TIMEOUT_RANGE_RULE; a malformed duration is left to the pattern check. */
export function checkHealthTimeout(
  value: string,
  path = 'spec.upgrade.healthTimeout',
): FieldError | undefined {
  const nanos = parseGoDuration(value);
  const min = parseGoDuration(HEALTH_TIMEOUT_MIN) ?? 0;
  const max = parseGoDuration(HEALTH_TIMEOUT_MAX) ?? Number.POSITIVE_INFINITY;
  if (nanos === undefined || (nanos >= min && nanos <= max)) return undefined;
  return { path, value, message: `${value} is out of range; allowed: ${HEALTH_TIMEOUT_MIN} to ${HEALTH_TIMEOUT_MAX}` };
}
