/**
 * Which snapshots --retention removes. Only pairs this command wrote count: a `<name>.db` whose
 * `<name>.json` parses as a record of ours naming the same snapshot. Anything else in the
 * directory (a hand-made copy, a `.db` without its record, other files) is never touched.
 */
import { parseRecord, type SnapshotRecord } from './record.js';

export interface OwnSnapshot {
  name: string;
  /** RFC 3339 time from its record. */
  time: string;
}

/**
 * The snapshots to delete: all but the `retention` newest (by recorded time, then name). `keep`
 * (the snapshot just taken) is never selected, whatever the clock said when older ones were taken.
 */
export function selectForDeletion(snapshots: readonly OwnSnapshot[], retention: number, keep: string): string[] {
  if (!Number.isSafeInteger(retention) || retention < 1) throw new Error(`retention ${retention}: must be an integer of at least 1`);
  const others = snapshots
    .filter((s) => s.name !== keep)
    .sort((a, b) => Date.parse(b.time) - Date.parse(a.time) || (a.name < b.name ? 1 : a.name > b.name ? -1 : 0));
  return others.slice(retention - 1).map((s) => s.name);
}

/** Finds this command's snapshots among a directory's file names; readFile reads one of them. */
export function findOwnSnapshots(files: readonly string[], readFile: (file: string) => string | undefined): OwnSnapshot[] {
  const present = new Set(files);
  const own: OwnSnapshot[] = [];
  for (const file of files) {
    if (!file.endsWith('.json')) continue;
    const name = file.slice(0, -'.json'.length);
    if (!present.has(`${name}.db`)) continue;
    const text = readFile(file);
    const record: SnapshotRecord | undefined = text === undefined ? undefined : parseRecord(text);
    if (record === undefined || record.name !== name || Number.isNaN(Date.parse(record.time))) continue;
    own.push({ name, time: record.time });
  }
  return own;
}
