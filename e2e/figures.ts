/** Figures the benchmarks compute from the API prober's samples. */
import type { ProbeSample } from '../test/support/prober.js';

/** Failures, the longest time without a success, and failures by kind, inside [from, to]. */
export function gapIn(samples: readonly ProbeSample[], from: number, to: number): { failures: number; longestMs: number; errors: string } {
  const inside = samples.filter((s) => s.at >= from && s.at <= to);
  let longest = 0;
  let lastOk = from;
  for (const s of [...inside].sort((a, b) => a.at - b.at)) {
    if (s.ok) {
      longest = Math.max(longest, s.at - lastOk);
      lastOk = s.at;
    }
  }
  const errors = new Map<string, number>();
  for (const s of inside) if (!s.ok) errors.set(s.error ?? '?', (errors.get(s.error ?? '?') ?? 0) + 1);
  const text = [...errors.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([e, n]) => `${e}×${n}`)
    .join(', ');
  return { failures: inside.filter((s) => !s.ok).length, longestMs: Math.max(longest, to - lastOk), errors: text };
}
