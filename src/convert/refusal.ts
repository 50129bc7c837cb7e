/**
 * Refusals: the conversion core's answer when a manifest cannot be converted *safely*.
 *
 * A refusal is data, not an exception: computeDesiredWorkloads records one per problem and keeps
 * converting the other manifests, so one bad file never hides the rest. Inside a pipeline a
 * mutator signals a refusal by throwing RefusalError; the pipeline runner turns it back into data.
 */
import type { ComponentName } from '../api/types.js';

export type RefusalCode =
  /** The file is not YAML/JSON. */
  | 'InvalidYaml'
  /** The document is not a single v1 Pod with containers. */
  | 'NotAPod'
  /** Nothing says which control-plane component the pod runs. */
  | 'NoComponent'
  /** Two manifests (or two containers of one pod) run the same component. */
  | 'DuplicateComponent'
  /** The component is known but no single container can be told to be the one running it. */
  | 'AmbiguousMainContainer'
  /** etcd / kube-apiserver outside the host network namespace. */
  | 'NotHostNetwork'
  /** A restart policy a DaemonSet/Deployment pod cannot have. */
  | 'UnsupportedRestartPolicy'
  /** A command line that only a shell could interpret (pipes, quotes, substitutions, ...). */
  | 'UnsafeCommand'
  /** An argv token that is not a flag (positional argument, `--`, ...). */
  | 'UnsupportedArgument'
  /** Sources disagree about this node's name or IP. */
  | 'IdentityConflict'
  /** A node-specific value the template cannot express (e.g. the node IP inside an env var). */
  | 'NodeLocalValue'
  /** The main container already defines HOST_IP / NODE_NAME differently. */
  | 'EnvConflict'
  /** The source's Kubernetes version cannot be read (image tag is not vX.Y.Z). */
  | 'UnknownSourceVersion'
  /** The target (or a crossed) minor is not in the release table, or a major is crossed. */
  | 'UnsupportedVersion'
  /** A downgrade would have to undo a flag change that cannot be undone. */
  | 'IrreversibleFlagChange'
  /** etcd would move to an older version. */
  | 'EtcdDowngrade'
  /** spec.components lists a control-plane component no manifest provides. */
  | 'MissingManifest'
  /** An override that this component cannot take. */
  | 'UnsupportedOverride'
  /** No CNI DaemonSet matches spec.cni. */
  | 'CniNotFound'
  /** More than one CNI DaemonSet matches spec.cni. */
  | 'CniAmbiguous';

export interface Refusal {
  readonly code: RefusalCode;
  /** Manifest path the refusal is about; `DaemonSet <namespace>/<name>` for adoption. */
  readonly manifest: string;
  /** The component, when known. */
  readonly component?: ComponentName;
  /** Where in the manifest, e.g. `spec.containers[0].command`. */
  readonly field?: string;
  /** The offending value, verbatim (long values are shortened). */
  readonly value?: string;
  /** Why selfhost will not convert it, phrased so a user knows what to change. */
  readonly reason: string;
}

const MAX_VALUE_LENGTH = 300;

export interface RefusalDetails {
  component?: ComponentName | undefined;
  field?: string | undefined;
  value?: string | undefined;
}

/** Builds a Refusal without undefined-valued keys (they would not survive JSON anyway). */
export function makeRefusal(
  code: RefusalCode,
  manifest: string,
  reason: string,
  details: RefusalDetails = {},
): Refusal {
  const { component, field, value } = details;
  return {
    code,
    manifest,
    ...(component === undefined ? {} : { component }),
    ...(field === undefined ? {} : { field }),
    ...(value === undefined ? {} : { value: shorten(value) }),
    reason,
  };
}

function shorten(value: string): string {
  return value.length <= MAX_VALUE_LENGTH ? value : `${value.slice(0, MAX_VALUE_LENGTH)}…`;
}

export function formatRefusal(r: Refusal): string {
  const where = r.field === undefined ? r.manifest : `${r.manifest}: ${r.field}`;
  const what = r.value === undefined ? '' : ` (value ${JSON.stringify(r.value)})`;
  return `${where}: ${r.reason}${what} [${r.code}]`;
}

/**
 * Static pods of other software (kube-vip, haproxy, a second scheduler, ...) live in the same
 * directory as the control plane's. They are not selfhost's to convert: reported and left alone,
 * never a reason to stop converting (or pivoting) the rest.
 */
export function isIgnored(r: Refusal): boolean {
  return r.code === 'NoComponent';
}

export function formatIgnored(r: Refusal): string {
  const why = r.field === undefined || r.value === undefined ? '' : ` (${r.field} is ${JSON.stringify(r.value)})`;
  return `${r.manifest}: not one of selfhost's components${why}; left as a static pod`;
}

/** Thrown by mutators and helpers; caught by the pipeline runner and recorded as data. */
export class RefusalError extends Error {
  readonly refusal: Refusal;

  constructor(refusal: Refusal, options?: ErrorOptions) {
    super(formatRefusal(refusal), options);
    this.name = 'RefusalError';
    this.refusal = refusal;
  }
}

export function refuse(
  code: RefusalCode,
  manifest: string,
  reason: string,
  details: RefusalDetails = {},
): never {
  throw new RefusalError(makeRefusal(code, manifest, reason, details));
}

/** Stable order for reporting: by manifest, then field, then code. */
export function compareRefusals(a: Refusal, b: Refusal): number {
  return (
    cmp(a.manifest, b.manifest) || cmp(a.field ?? '', b.field ?? '') || cmp(a.code, b.code) || cmp(a.reason, b.reason)
  );
}

/** Code-unit order: locale-independent, so output is the same on every machine. */
export function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
