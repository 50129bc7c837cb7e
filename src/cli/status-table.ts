/**
 * Text layout shared by `selfhost status` and the live `selfhost plan` (pure): aligned columns
 * like kubectl's tables, and short durations like kubectl's AGE column.
 */

/**
 * Rows under a header, every column padded to its widest cell, two spaces apart; trailing
 * blanks trimmed so a missing last cell leaves no tail. Rows shorter than the header are fine.
 */
export function computeTable(header: readonly string[], rows: readonly (readonly string[])[], indent = ''): string[] {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  return all.map((r) => `${indent}${r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  ')}`.trimEnd());
}

/** `42s`, `3m12s`, `2h5m`, `3d4h`: two units at most, as kubectl prints ages. */
export function computeDurationText(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${pad(s % 60)}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h${pad(Math.floor((s % 3600) / 60))}m`;
  return `${Math.floor(s / 86_400)}d${Math.floor((s % 86_400) / 3600)}h`;
}

function pad(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** Seconds from `from` to `to` (RFC 3339 texts or a Date); undefined when a time does not parse. */
export function computeSecondsBetween(from: string | undefined, to: string | Date | undefined): number | undefined {
  if (from === undefined || to === undefined) return undefined;
  const a = Date.parse(from);
  const b = typeof to === 'string' ? Date.parse(to) : to.getTime();
  if (Number.isNaN(a) || Number.isNaN(b)) return undefined;
  return Math.max(0, Math.round((b - a) / 1000));
}

/** `12.3 MiB` for a byte count. */
export function computeSizeText(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${v} B` : `${v.toFixed(1)} ${units[u] ?? ''}`;
}
