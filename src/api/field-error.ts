/** A rejected field, and how it is shown: the shape of the apiserver's field errors. */

export interface FieldError {
  /** Field path as the apiserver prints it: `spec.overrides.kube-apiserver.extraArgs[0].name`. */
  path: string;
  /** The value given; undefined when the field is missing. */
  value: unknown;
  /** What is allowed, e.g. `must be vMAJOR.MINOR.PATCH (e.g. v1.37.2)`. */
  message: string;
}

const MAX_VALUE_CHARS = 200;

/** The value as the apiserver quotes it: strings in double quotes, objects as compact JSON. */
export function computeValueText(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > MAX_VALUE_CHARS ? `${text.slice(0, MAX_VALUE_CHARS)}…` : text;
}

/**
 * `spec.version: Invalid value: "1.37": must be vMAJOR.MINOR.PATCH (e.g. v1.37.2)`, or for a
 * missing field (message `required: ...`) `spec.version: Required value: must be ...`.
 */
export function formatFieldError(e: FieldError): string {
  const path = e.path === '' ? '<root>' : e.path;
  if (e.value === undefined) {
    const detail = e.message.replace(/^required(: )?/, '');
    return detail === '' ? `${path}: Required value` : `${path}: Required value: ${detail}`;
  }
  return `${path}: Invalid value: ${computeValueText(e.value)}: ${e.message}`;
}

/** Paths first, then messages, in code-point order: the same input always lists the same way. */
export function compareFieldErrors(a: FieldError, b: FieldError): number {
  const key = (e: FieldError): string => `${e.path}\u0000${e.message}`;
  const ka = key(a);
  const kb = key(b);
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

/** `spec` + `version` → `spec.version`; the root has the empty path. */
export function computeChildPath(parent: string, child: string): string {
  return parent === '' ? child : `${parent}.${child}`;
}
