/**
 * Regular expressions the schema applies to strings, each with the sentence a user reads when a
 * value does not match. They are written for both engines that evaluate them: RE2 in the
 * apiserver (no look-around, no back-references) and JavaScript in ajv.
 */
import { VERSION_PATTERN } from './version.js';

export interface NamedPattern {
  pattern: string;
  /** What a matching value looks like; finishes "spec.x: Invalid value: "y": ". */
  hint: string;
}

export const KUBERNETES_VERSION: NamedPattern = {
  pattern: VERSION_PATTERN,
  hint: 'must be vMAJOR.MINOR.PATCH (e.g. v1.37.2)',
};

export const ETCD_VERSION: NamedPattern = {
  pattern: '^(0|[1-9][0-9]*)\\.(0|[1-9][0-9]*)\\.(0|[1-9][0-9]*)$',
  hint: 'must be MAJOR.MINOR.PATCH without a leading v (e.g. 3.6.5)',
};

/** Go's time.ParseDuration syntax, minus the µ spellings and signs (a timeout is positive). */
export const GO_DURATION: NamedPattern = {
  pattern: '^([0-9]+(\\.[0-9]+)?(ns|us|ms|s|m|h))+$',
  hint: 'must be a Go duration such as 90s, 5m or 1h30m (units: ns, us, ms, s, m, h)',
};

/**
 * resource.Quantity as Kubernetes writes it, without the minus sign: a negative request or limit
 * is always a mistake, and the pod it ends up in would be rejected only much later.
 */
export const QUANTITY: NamedPattern = {
  pattern:
    '^(\\+)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$',
  hint: 'must be a non-negative quantity such as 250m, 2, 512Mi or 1.5Gi',
};

/** A command-line flag name as kube components spell it, without the leading dashes. */
export const FLAG_NAME: NamedPattern = {
  pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$',
  hint: 'must be a flag name without leading dashes or "=" (e.g. audit-log-maxage)',
};

const REGISTRY_HOST = '[A-Za-z0-9][A-Za-z0-9._-]*(:[0-9]+)?';
const REPOSITORY_PATH = '(/[a-z0-9]+([._-]+[a-z0-9]+)*)*';

export const IMAGE_REPOSITORY: NamedPattern = {
  pattern: `^${REGISTRY_HOST}${REPOSITORY_PATH}$`,
  hint: 'must be a registry host with an optional path and no tag (e.g. registry.k8s.io or registry.example.com:5000/k8s)',
};

export const IMAGE: NamedPattern = {
  pattern: `^${REGISTRY_HOST}${REPOSITORY_PATH}(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@sha256:[a-f0-9]{64})?$`,
  hint: 'must be an image reference (e.g. registry.k8s.io/kube-apiserver:v1.37.2)',
};

export const DNS1123_LABEL: NamedPattern = {
  pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$',
  hint: 'must be a DNS-1123 label: lowercase letters, digits and "-", starting and ending with a letter or digit',
};

export const DNS1123_SUBDOMAIN: NamedPattern = {
  pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$',
  hint: 'must be a DNS-1123 subdomain: lowercase letters, digits, "-" and ".", starting and ending with a letter or digit',
};

export const LABEL_VALUE: NamedPattern = {
  pattern: '^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$',
  hint: 'must be a label value: letters, digits, "-", "_" and ".", starting and ending with a letter or digit',
};

/** metav1.Condition.type. */
export const CONDITION_TYPE: NamedPattern = {
  pattern:
    '^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$',
  hint: 'must be a condition type in CamelCase, optionally prefixed by a DNS subdomain and "/"',
};

/** metav1.Condition.reason. */
export const CONDITION_REASON: NamedPattern = {
  pattern: '^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$',
  hint: 'must be a CamelCase reason (letters, digits, "_", "," and ":")',
};

/** Every pattern above, for looking up the hint of a pattern ajv reports. */
export const NAMED_PATTERNS: readonly NamedPattern[] = [
  KUBERNETES_VERSION,
  ETCD_VERSION,
  GO_DURATION,
  QUANTITY,
  FLAG_NAME,
  IMAGE_REPOSITORY,
  IMAGE,
  DNS1123_LABEL,
  DNS1123_SUBDOMAIN,
  LABEL_VALUE,
  CONDITION_TYPE,
  CONDITION_REASON,
];

/** The hint for a pattern, or a plain "must match" when the pattern is not a named one. */
export function computePatternHint(pattern: string): string {
  return NAMED_PATTERNS.find((p) => p.pattern === pattern)?.hint ?? `must match ${pattern}`;
}
