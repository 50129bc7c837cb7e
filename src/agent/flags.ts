/**
 * Flag values shared by `selfhost agent` and `selfhost gate`, checked with messages that name the
 * flag and the value (usage errors, exit code 2).
 */
import { posix } from 'node:path';
import { parseGoDuration } from '../api/duration.js';
import { DNS1123_SUBDOMAIN, LABEL_VALUE } from '../api/patterns.js';
import { AGENT_CONFIGMAP_PREFIX } from '../api/agent.js';
import { computeDirPath } from './snapshot.js';

export type Checked<T> = { ok: true; value: T } | { ok: false; message: string };

/** A Go duration (`2s`, `200ms`) in milliseconds; `0` only when allowZero (it means "never"). */
export function parseDurationFlag(flag: string, text: string, allowZero = false): Checked<number> {
  if (allowZero && text === '0') return { ok: true, value: 0 };
  const ns = parseGoDuration(text);
  if (ns === undefined || ns < 1e6) {
    const zero = allowZero ? ' or 0' : '';
    return { ok: false, message: `--${flag}: invalid value ${JSON.stringify(text)}: must be a Go duration of at least 1ms${zero}, such as 200ms or 2s` };
  }
  return { ok: true, value: Math.round(ns / 1e6) };
}

/** An absolute directory, normalized without a trailing slash. */
export function parseDirFlag(flag: string, text: string): Checked<string> {
  if (!posix.isAbsolute(text)) {
    return { ok: false, message: `--${flag}: invalid value ${JSON.stringify(text)}: must be an absolute path` };
  }
  return { ok: true, value: computeDirPath(text) };
}

/** A node name that can name the agent's ConfigMap and be its selfhost.dev/node label value. */
export function parseNodeFlag(text: string): Checked<string> {
  const bad = (why: string): Checked<string> => ({ ok: false, message: `--node: invalid value ${JSON.stringify(text)}: ${why}` });
  if (!new RegExp(DNS1123_SUBDOMAIN.pattern).test(text)) return bad(DNS1123_SUBDOMAIN.hint);
  if (AGENT_CONFIGMAP_PREFIX.length + text.length > 253) return bad('too long for the ConfigMap name selfhost-agent-<node> (253 characters)');
  if (text.length > 63 || !new RegExp(LABEL_VALUE.pattern).test(text)) {
    return bad('must be usable as a label value (at most 63 characters), since it labels the agent ConfigMap');
  }
  return { ok: true, value: text };
}

/** A TCP port, 1–65535. */
export function parsePortFlag(text: string): Checked<number> {
  const port = /^[0-9]{1,5}$/.test(text) ? Number(text) : Number.NaN;
  if (!(port >= 1 && port <= 65535)) {
    return { ok: false, message: `--port: invalid value ${JSON.stringify(text)}: must be a port number from 1 to 65535` };
  }
  return { ok: true, value: port };
}

/** True when dir is inside (or is) parent; both normalized absolute paths. */
export function isWithinDir(dir: string, parent: string): boolean {
  return dir === parent || dir.startsWith(parent === '/' ? '/' : `${parent}/`);
}
