/**
 * Look-ups on an injected release table. src/versions/table.ts has the same helpers bound to its
 * RELEASES; the planner takes the table as a parameter so tests (and a future table per channel)
 * can supply their own.
 */
import { minorKey, type Version } from '../api/version.js';
import type { MinorRelease } from '../versions/table.js';

export function findRelease(table: readonly MinorRelease[], v: Version): MinorRelease | undefined {
  return table.find((r) => r.minor === minorKey(v));
}

/** `v1.35–v1.37` from the lowest and highest minor in the table (order-independent), or `none`. */
export function computeSupportedRange(table: readonly MinorRelease[]): string {
  const keys = table
    .map((r) => ({ text: r.minor, key: parseMinorKey(r.minor) }))
    .filter((r): r is { text: string; key: [number, number] } => r.key !== undefined)
    .sort((a, b) => a.key[0] - b.key[0] || a.key[1] - b.key[1]);
  const first = keys[0];
  const last = keys[keys.length - 1];
  if (!first || !last) return 'none';
  return first === last ? `v${first.text}` : `v${first.text}–v${last.text}`;
}

function parseMinorKey(text: string): [number, number] | undefined {
  const m = /^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$/.exec(text);
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}
