/**
 * What a snapshot run reports: the `<name>.json` written next to `<name>.db`, and the one result
 * line printed on stdout and in the pod's termination message (read back by the operator through
 * parseSnapshotResult in src/operator/etcd-snapshot-job.ts).
 *
 * Where each number comes from: size, sha256 and dbSha256 from the file as written (dbSha256 also
 * checked against the trailer etcd sent); revision and keys from etcd, read right before the
 * snapshot was requested (a write in between makes the snapshot newer than `revision`, never
 * older); etcdVersion from etcd's status.
 */

/** Marks a `.json` as one this command wrote: retention deletes nothing without it. */
export const RECORD_FORMAT = 'selfhost.dev/etcd-snapshot/v1';

export interface SnapshotRecord {
  format: typeof RECORD_FORMAT;
  name: string;
  /** Absolute path of the `.db` file (etcdctl snapshot save's format: database + sha256 trailer). */
  path: string;
  /** Bytes of the file. */
  size: number;
  /** sha256 of the whole file, as `sha256sum` prints it. */
  sha256: string;
  /** sha256 of the database part: the integrity trailer etcd appended, verified. */
  dbSha256: string;
  /** etcd's revision, read right before the snapshot. */
  revision: number;
  /** Number of keys, read from etcd right before the snapshot. */
  keys: number;
  etcdVersion: string;
  /** When the snapshot finished (RFC 3339, UTC). */
  time: string;
  durationMs: number;
}

export type SnapshotResult =
  | (SnapshotRecord & {
      ok: true;
      /** Names of older snapshots removed by --retention. */
      deleted: string[];
      /** The snapshot of this name already existed and its file still matched its record. */
      reused: boolean;
    })
  | { ok: false; error: string; name?: string };

/** A termination message holds at most 4096 bytes: the error is shortened to fit. */
export const TERMINATION_MESSAGE_LIMIT = 4096;

export function formatResult(result: SnapshotResult): string {
  const line = JSON.stringify(result);
  if (result.ok || Buffer.byteLength(line) <= TERMINATION_MESSAGE_LIMIT) return line;
  // Characters may take several bytes (and JSON escapes more): shorten until the line fits.
  let keep = result.error.length;
  for (;;) {
    keep = Math.floor(keep * 0.9);
    const shorter = JSON.stringify({ ...result, error: `${result.error.slice(0, keep)} …` });
    if (Buffer.byteLength(shorter) <= TERMINATION_MESSAGE_LIMIT || keep === 0) return shorter;
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const HEX64 = /^[0-9a-f]{64}$/;

/** Checks the fields of a record; returns what is wrong, or undefined. */
export function recordProblem(v: Record<string, unknown>): string | undefined {
  if (v.format !== RECORD_FORMAT) return `format is ${JSON.stringify(v.format)}, want ${JSON.stringify(RECORD_FORMAT)}`;
  for (const f of ['name', 'path', 'etcdVersion', 'time'] as const) {
    if (typeof v[f] !== 'string') return `${f} is ${JSON.stringify(v[f])}, want a string`;
  }
  for (const f of ['size', 'revision', 'keys', 'durationMs'] as const) {
    const n = v[f];
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) return `${f} is ${JSON.stringify(n)}, want a non-negative integer`;
  }
  for (const f of ['sha256', 'dbSha256'] as const) {
    const s = v[f];
    if (typeof s !== 'string' || !HEX64.test(s)) return `${f} is ${JSON.stringify(s)}, want 64 lowercase hex digits`;
  }
  return undefined;
}

export function parseRecord(text: string): SnapshotRecord | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isRecord(doc) || recordProblem(doc) !== undefined) return undefined;
  return doc as unknown as SnapshotRecord;
}

/** Parses a result line; throws naming what is wrong. */
export function parseResultLine(text: string): SnapshotResult {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new Error(`snapshot result is not JSON: ${text.slice(0, 200)}`, { cause: err });
  }
  if (!isRecord(doc)) throw new Error('snapshot result is not a JSON object');
  if (doc.ok === false) {
    if (typeof doc.error !== 'string') throw new Error('snapshot result: ok is false but error is not a string');
    return typeof doc.name === 'string' ? { ok: false, error: doc.error, name: doc.name } : { ok: false, error: doc.error };
  }
  if (doc.ok !== true) throw new Error(`snapshot result: ok is ${JSON.stringify(doc.ok)}, want true or false`);
  const problem = recordProblem(doc);
  if (problem !== undefined) throw new Error(`snapshot result: ${problem}`);
  if (!Array.isArray(doc.deleted) || !doc.deleted.every((d) => typeof d === 'string')) {
    throw new Error('snapshot result: deleted is not a list of names');
  }
  if (typeof doc.reused !== 'boolean') throw new Error(`snapshot result: reused is ${JSON.stringify(doc.reused)}, want true or false`);
  return doc as unknown as SnapshotResult;
}
