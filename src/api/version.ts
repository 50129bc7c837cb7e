/** Kubernetes release versions as selfhost uses them: `vMAJOR.MINOR.PATCH`, nothing more. */
export interface Version {
  major: number;
  minor: number;
  patch: number;
}

export const VERSION_PATTERN = '^v(0|[1-9][0-9]*)\\.(0|[1-9][0-9]*)\\.(0|[1-9][0-9]*)$';
const VERSION_RE = new RegExp(VERSION_PATTERN);

/** Parses `v1.37.2`; returns undefined for anything else (pre-releases included). */
export function parseVersion(text: string): Version | undefined {
  const m = VERSION_RE.exec(text);
  if (!m) return undefined;
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]) };
}

/** Like parseVersion, but throws with the offending text. */
export function mustParseVersion(text: string): Version {
  const v = parseVersion(text);
  if (!v) throw new Error(`invalid version "${text}": want vMAJOR.MINOR.PATCH, e.g. v1.37.2`);
  return v;
}

export function formatVersion(v: Version): string {
  return `v${v.major}.${v.minor}.${v.patch}`;
}

/** Negative when a < b, zero when equal, positive when a > b. */
export function compareVersions(a: Version, b: Version): number {
  return a.major - b.major || a.minor - b.minor || a.patch - b.patch;
}

/**
 * Compares two version texts as versions (v1.9.0 < v1.10.0); texts that are not versions compare
 * as plain strings after them. Not `localeCompare(..., { numeric: true })`: that would page in
 * ICU's collation data (~6 MiB of the operator's resident memory) for a three-number comparison.
 */
export function compareVersionTexts(a: string, b: string): number {
  const va = parseVersion(a);
  const vb = parseVersion(b);
  if (va !== undefined && vb !== undefined) return compareVersions(va, vb);
  if (va !== undefined) return -1;
  if (vb !== undefined) return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Minor distance to - from; undefined across majors (no skew rule spans a major). */
export function minorDelta(from: Version, to: Version): number | undefined {
  if (from.major !== to.major) return undefined;
  return to.minor - from.minor;
}

/** `1.37` style key used by per-minor tables. */
export function minorKey(v: Version): string {
  return `${v.major}.${v.minor}`;
}
