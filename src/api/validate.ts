/**
 * validateControlPlane: what the apiserver would say about an object, offline. Steps in the
 * apiserver's order: defaulting, schema (ajv), list uniqueness, then the CEL rules' TypeScript
 * mirrors. All errors are collected and sorted by path, so a user fixes everything in one go.
 */
import { computeAjvFieldErrors } from './ajv-errors.js';
import { getControlPlaneValidator } from './ajv.js';
import { applyDefaults } from './defaults.js';
import { compareFieldErrors, type FieldError } from './field-error.js';
import { computeDuplicateErrors } from './list-rules.js';
import { CONTROL_PLANE_SCHEMA } from './schema.js';
import { checkCniSelector, checkHealthTimeout } from './spec-rules.js';
import type { ControlPlane } from './types.js';
import { checkVersionTransition } from './version-rule.js';

export type { FieldError } from './field-error.js';
export { formatFieldError } from './field-error.js';

export type ValidationResult = { ok: true; value: ControlPlane } | { ok: false; errors: FieldError[] };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The CEL rules' mirrors, run where the value they read has the right type (the apiserver, too,
 * evaluates CEL next to non-type schema errors such as a pattern mismatch elsewhere).
 */
export function computeRuleErrors(obj: unknown, old?: ControlPlane): FieldError[] {
  const spec = isRecord(obj) ? obj['spec'] : undefined;
  if (!isRecord(spec)) return [];
  const found: (FieldError | undefined)[] = [];
  const cni = spec['cni'];
  if (isRecord(cni)) found.push(checkCniSelector(cni));
  const upgrade = spec['upgrade'];
  const timeout = isRecord(upgrade) ? upgrade['healthTimeout'] : undefined;
  if (typeof timeout === 'string') found.push(checkHealthTimeout(timeout));
  const version = spec['version'];
  if (old !== undefined && typeof version === 'string') found.push(checkVersionTransition(old, version));
  return found.filter((e) => e !== undefined);
}

/**
 * Validates input as a ControlPlane create (old absent) or update from old (the stored object,
 * status included: the version rule judges against old.status). On success, value is the
 * defaulted object, as the apiserver would store it.
 */
export function validateControlPlane(input: unknown, old?: ControlPlane): ValidationResult {
  const value = applyDefaults(input);
  const validate = getControlPlaneValidator();
  const errors = [...computeDuplicateErrors(CONTROL_PLANE_SCHEMA, value), ...computeRuleErrors(value, old)];
  if (validate(value)) {
    return errors.length === 0 ? { ok: true, value } : { ok: false, errors: errors.sort(compareFieldErrors) };
  }
  errors.push(...computeAjvFieldErrors(validate.errors ?? [], value));
  return { ok: false, errors: errors.sort(compareFieldErrors) };
}
