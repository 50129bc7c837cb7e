/**
 * The CEL rules (`x-kubernetes-validations`) of the ControlPlane schema, built from named
 * fragments so each long expression can be read piece by piece here while the CRD carries the
 * expanded text. The apiserver evaluates them; ajv cannot, so every rule has a TypeScript mirror
 * (version-rule.ts, spec-rules.ts) with the same meaning and the same message, and a test fails
 * when a rule in the schema has no mirror.
 *
 * Cost: every string a rule reads has a maxLength in the schema, so the apiserver's estimated cost
 * stays small. Parsing uses string functions only (split, substring, int), not the semver library.
 * Fields that may be absent are read behind has() tests; cel.bind is not available to CRD rules,
 * so shared parts are repeated in the expanded text.
 */
import { GO_DURATION } from './patterns.js';
import type { ValidationRule } from './schema-types.js';
import { VERSION_PATTERN } from './version.js';

/** A CEL single-quoted string literal. */
export function computeCelString(text: string): string {
  return `'${text.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
}

const NEW_VERSION = 'self.spec.version';
const OLD_VERSION = 'oldSelf.spec.version';
const HAS_RUNNING_VERSION = '(has(oldSelf.status) && has(oldSelf.status.version))';
/**
 * The version the change is judged against: what runs (status.version), else what was asked.
 * A has() ternary, not `oldSelf.?status.?version.orValue(...)`: the apiserver's cost estimator
 * loses the maxLength through orValue() and then prices split() on an unbounded string (>100x
 * over budget; checked against apiextensions-apiserver v0.37.2).
 */
const BASE_VERSION = `(${HAS_RUNNING_VERSION} ? oldSelf.status.version : ${OLD_VERSION})`;
const UPGRADE_RUNNING =
  "(has(oldSelf.status) && has(oldSelf.status.plan) && oldSelf.status.plan.operation == 'Upgrade' && has(oldSelf.status.plan.fromVersion))";
const ABORTS_UPGRADE = `(${UPGRADE_RUNNING} && ${NEW_VERSION} == oldSelf.status.plan.fromVersion)`;

const major = (v: string): string => `int(${v}.split('.')[0].substring(1))`;
const minor = (v: string): string => `int(${v}.split('.')[1])`;
/** `v1` (index 0) or `37` (index 1) of `v1.37.2`. */
const part = (v: string, i: number): string => `${v}.split('.')[${i}]`;

/**
 * Root-level transition rule on spec.version. It only bites when spec.version changes, so status
 * writes (which cannot change spec) never trip it, and it leaves malformed versions to the
 * pattern check instead of failing on int(). Allowed: same major as the base, minor equal to the
 * base's or one above (patch moves, including down, are free); and, while an upgrade runs, going
 * back to status.plan.fromVersion to abort it.
 */
export const VERSION_TRANSITION_RULE: ValidationRule = {
  rule: [
    `${NEW_VERSION} == ${OLD_VERSION}`,
    `!${NEW_VERSION}.matches(${computeCelString(VERSION_PATTERN)})`,
    ABORTS_UPGRADE,
    `(${major(NEW_VERSION)} == ${major(BASE_VERSION)} && ${minor(NEW_VERSION)} >= ${minor(BASE_VERSION)} && ${minor(NEW_VERSION)} <= ${minor(BASE_VERSION)} + 1)`,
  ].join(' || '),
  message:
    'spec.version may only move within the running minor (status.version, else the previous spec.version) or to the next minor; while an upgrade runs it may also go back to status.plan.fromVersion to abort it',
  // One format() call: the cost estimator gives number-to-string conversions no size bound, and
  // any concatenation after one is priced on that unbounded size (refused as >100x over budget).
  messageExpression: `'cannot move from %s%s to %s: %s; allowed: %s.%s.x or %s.%d.x%s'.format([${[
    BASE_VERSION,
    `(${HAS_RUNNING_VERSION} ? ' (running, status.version)' : ' (previous spec.version)')`,
    NEW_VERSION,
    `(${major(NEW_VERSION)} != ${major(BASE_VERSION)} ? 'the major version must not change' : ${minor(NEW_VERSION)} > ${minor(BASE_VERSION)} + 1 ? 'that skips a minor, upgrade one minor at a time' : 'that is a minor downgrade')`,
    part(BASE_VERSION, 0),
    part(BASE_VERSION, 1),
    part(BASE_VERSION, 0),
    `${minor(BASE_VERSION)} + 1`,
    `(${UPGRADE_RUNNING} ? ', or ' + oldSelf.status.plan.fromVersion + ' to abort the running upgrade' : '')`,
  ].join(', ')}])`,
  fieldPath: '.spec.version',
};

export const CNI_AUTO_DETECT =
  'set one, or neither to auto-detect the one DaemonSet that mounts /etc/cni/net.d';

/** On spec.cni: a DaemonSet is found by name or by labels, not both. */
export const CNI_NAME_XOR_SELECTOR_RULE: ValidationRule = {
  rule: '!has(self.name) || !has(self.selector)',
  message: `name and selector are mutually exclusive: ${CNI_AUTO_DETECT}`,
  messageExpression: `'name ' + self.name + ' and selector are both set; they are mutually exclusive: ${CNI_AUTO_DETECT}'`,
};

export const HEALTH_TIMEOUT_MIN = '10s';
export const HEALTH_TIMEOUT_MAX = '1h';

/**
 * On spec.upgrade.healthTimeout: below 10s a healthy apiserver restart counts as failed; above
 * 1h a broken step blocks the cluster for longer than anyone waits.
 */
export const HEALTH_TIMEOUT_RANGE_RULE: ValidationRule = {
  rule: `!self.matches(${computeCelString(GO_DURATION.pattern)}) || (duration(self) >= duration('${HEALTH_TIMEOUT_MIN}') && duration(self) <= duration('${HEALTH_TIMEOUT_MAX}'))`,
  message: `must be between ${HEALTH_TIMEOUT_MIN} and ${HEALTH_TIMEOUT_MAX}`,
  messageExpression: `self + ' is out of range; allowed: ${HEALTH_TIMEOUT_MIN} to ${HEALTH_TIMEOUT_MAX}'`,
};

/** Every rule the schema may carry; each has a TypeScript mirror. */
export const CEL_RULES: readonly ValidationRule[] = [
  VERSION_TRANSITION_RULE,
  CNI_NAME_XOR_SELECTOR_RULE,
  HEALTH_TIMEOUT_RANGE_RULE,
];
