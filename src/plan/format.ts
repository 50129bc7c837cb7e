/** Small text helpers shared by refusal messages, so they read the same everywhere. */

/** `1 minor`, `2 minors`, `a major version` (for Infinity, the gap across majors). */
export function describeMinors(n: number): string {
  return n === Infinity ? 'a major version' : n === 1 ? '1 minor' : `${n} minors`;
}
