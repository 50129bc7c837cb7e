/**
 * Command-line flags of the control-plane binaries as an ordered list.
 *
 * Order matters only between occurrences of the same flag (a repeated slice flag such as
 * `--service-account-issuer` keeps its order; for a scalar flag the last one wins), so sorting by
 * name with a stable sort never changes what a binary sees.
 */
import { cmp } from './refusal.js';

export interface Flag {
  /** Without leading dashes: `advertise-address`. */
  readonly name: string;
  /** undefined for a boolean given bare (`--profiling`); `''` for `--flag=`. */
  readonly value: string | undefined;
}

export type FlagParseResult =
  | { readonly ok: true; readonly flags: Flag[] }
  | { readonly ok: false; readonly index: number; readonly token: string; readonly reason: string };

export interface FlagParseOptions {
  /**
   * Go's `flag` package (etcd) reads `-name` as `--name`; spf13/pflag (the kube-* binaries) reads
   * `-abc` as the shorthands a, b, c, so a multi-letter single-dash flag is only unambiguous for
   * etcd.
   */
  readonly singleDashLongFlags?: boolean;
}

/**
 * Parses argv tokens (without the binary) into flags. Accepts `--name=value`, `--name value`
 * (two tokens: the control-plane binaries take no positional arguments, so a bare word after a
 * valueless flag can only be its value) and bare booleans. Refuses what is not a flag.
 */
export function parseFlags(tokens: readonly string[], options: FlagParseOptions = {}): FlagParseResult {
  const flags: Flag[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i] ?? '';
    const head = splitFlagToken(token, options);
    if (typeof head === 'string') return { ok: false, index: i, token, reason: head };
    if (head.value !== undefined) {
      flags.push(head);
      continue;
    }
    const next = tokens[i + 1];
    if (next !== undefined && !next.startsWith('-')) {
      flags.push({ name: head.name, value: next });
      i++;
    } else {
      flags.push(head);
    }
  }
  return { ok: true, flags };
}

/** One token → its flag, or the reason it is not one. */
function splitFlagToken(token: string, options: FlagParseOptions): Flag | string {
  if (token === '--') {
    return 'a bare "--" ends the flags and starts positional arguments, which the control-plane binaries do not take';
  }
  if (!token.startsWith('-') || token === '-') {
    return `"${token}" is a positional argument; the control-plane binaries take flags only (write --name=value)`;
  }
  const doubleDash = token.startsWith('--');
  const body = token.slice(doubleDash ? 2 : 1);
  const eq = body.indexOf('=');
  const name = eq < 0 ? body : body.slice(0, eq);
  const value = eq < 0 ? undefined : body.slice(eq + 1);
  if (name === '') return `"${token}" has no flag name`;
  if (/\s/.test(name)) return `flag name in "${token}" contains whitespace`;
  if (!doubleDash) {
    if (/^[0-9]/.test(name)) {
      return `"${token}" looks like a negative number, not a flag; write the value as --flag=${token}`;
    }
    if (name.length > 1 && !options.singleDashLongFlags) {
      return `"${token}" would be read as the shorthand flags ${[...name].map((c) => `-${c}`).join(' ')}; write --${name}`;
    }
  }
  return { name, value };
}

export function formatFlag(flag: Flag): string {
  return flag.value === undefined ? `--${flag.name}` : `--${flag.name}=${flag.value}`;
}

export function formatFlags(flags: readonly Flag[]): string[] {
  return flags.map(formatFlag);
}

/** Stable sort by name: occurrences of one flag keep their relative order. */
export function sortFlagsByName(flags: readonly Flag[]): Flag[] {
  return [...flags].sort((a, b) => cmp(a.name, b.name));
}

export function hasFlag(flags: readonly Flag[], name: string): boolean {
  return flags.some((f) => f.name === name);
}

/** Values of every occurrence, in order. */
export function flagValues(flags: readonly Flag[], name: string): (string | undefined)[] {
  return flags.filter((f) => f.name === name).map((f) => f.value);
}

/**
 * Sets a flag to the given values: every existing occurrence goes, the new ones take the place of
 * the first (or the end when the flag was absent).
 */
export function setFlag(flags: readonly Flag[], name: string, ...values: (string | undefined)[]): Flag[] {
  const first = flags.findIndex((f) => f.name === name);
  const rest = flags.filter((f) => f.name !== name);
  const added = values.map((value) => ({ name, value }));
  if (first < 0) return [...rest, ...added];
  const before = flags.slice(0, first).filter((f) => f.name !== name);
  return [...before, ...added, ...rest.slice(before.length)];
}

export function removeFlag(flags: readonly Flag[], name: string): Flag[] {
  return flags.filter((f) => f.name !== name);
}

/** Renames every occurrence; when `to` is already set, `from` is dropped instead (to wins). */
export function renameFlag(flags: readonly Flag[], from: string, to: string): Flag[] {
  if (hasFlag(flags, to)) return removeFlag(flags, from);
  return flags.map((f) => (f.name === from ? { name: to, value: f.value } : f));
}

/** strconv.ParseBool's true spellings; a bare boolean flag means true. */
export function isTrueFlagValue(value: string | undefined): boolean {
  return value === undefined || ['1', 't', 'T', 'TRUE', 'true', 'True'].includes(value);
}

/** The value that takes effect for a scalar flag (the last occurrence), or null when absent. */
export function effectiveFlagValue(flags: readonly Flag[], name: string): string | undefined | null {
  const values = flagValues(flags, name);
  return values.length === 0 ? null : values[values.length - 1];
}
