/** Go duration strings (`90s`, `1h30m`, `1.5h`) as the schema accepts them. */
import { GO_DURATION } from './patterns.js';

const DURATION_RE = new RegExp(GO_DURATION.pattern);
const TERM_RE = /([0-9]+(?:\.[0-9]+)?)(ns|us|ms|s|m|h)/g;

const NANOS_PER_UNIT: Record<string, number> = {
  ns: 1,
  us: 1e3,
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};

/** Nanoseconds of a Go duration string; undefined when it does not match GO_DURATION. */
export function parseGoDuration(text: string): number | undefined {
  if (!DURATION_RE.test(text)) return undefined;
  let total = 0;
  for (const [, amount, unit] of text.matchAll(TERM_RE)) {
    total += Number(amount) * (NANOS_PER_UNIT[unit ?? ''] ?? Number.NaN);
  }
  return total;
}
