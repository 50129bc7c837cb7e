/**
 * The last known good revision of every self-hosted component, kept in one ConfigMap,
 * `kube-system/selfhost-revisions` (one key per component, `<component>.json`).
 *
 * Why it exists:
 *  - a rollback re-applies exactly the object that ran before, never a re-render (the spec may
 *    carry the very change that failed, e.g. a bad override);
 *  - "proven good" is recorded only after a rollout passed its health gate (or the pivot
 *    finished), so a crash-looping template never becomes the one to go back to;
 *  - it is the world, not memory: an operator restarted at any point reads what was proven.
 * The node agent's checkpoints (reboot survival) are meant to be taken from the same records.
 */
import { canonicalJson } from '../convert/hash.js';
import type { ComponentName } from './types.js';
import { COMPONENTS } from './types.js';

export const REVISIONS_CONFIGMAP = 'selfhost-revisions';
/** Label that marks the revisions ConfigMap (the operator's ConfigMap informer selects managed-by). */
export const LABEL_REVISIONS = 'selfhost.dev/revisions';

export interface Revision {
  /** selfhost.dev/template-hash of the workload's pod template. */
  readonly templateHash: string;
  /** Kubernetes version (etcd: its own version) the template runs. */
  readonly version?: string;
  /** The complete desired object that was applied and proven (what a rollback re-applies). */
  readonly object: Record<string, unknown>;
  /** When it was proven (RFC 3339). */
  readonly provenAt: string;
}

export type Revisions = ReadonlyMap<ComponentName, Revision>;

export function revisionKey(component: ComponentName): string {
  return `${component}.json`;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Parses one key's value; undefined when it is not a revision (ignored, never thrown). */
export function parseRevision(text: string): Revision | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isRecord(v)) return undefined;
  const { templateHash, version, object, provenAt } = v;
  if (typeof templateHash !== 'string' || !isRecord(object) || typeof provenAt !== 'string') return undefined;
  return { templateHash, ...(typeof version === 'string' ? { version } : {}), object, provenAt };
}

/** The revisions in a ConfigMap's data; unreadable keys are skipped. */
export function parseRevisions(data: Record<string, unknown>): Revisions {
  const out = new Map<ComponentName, Revision>();
  for (const c of COMPONENTS) {
    const text = data[revisionKey(c)];
    if (typeof text !== 'string') continue;
    const r = parseRevision(text);
    if (r !== undefined) out.set(c, r);
  }
  return out;
}

/** The data of the ConfigMap with `updates` merged over `current` (deterministic text). */
export function formatRevisions(current: Revisions, updates: ReadonlyMap<ComponentName, Revision>): Record<string, string> {
  const merged = new Map(current);
  for (const [c, r] of updates) merged.set(c, r);
  const data: Record<string, string> = {};
  for (const c of COMPONENTS) {
    const r = merged.get(c);
    if (r !== undefined) data[revisionKey(c)] = canonicalJson(r);
  }
  return data;
}
