import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * The order of tier node's e2e files: the smoke test first (it checks the node as cluster-up left
 * it), the golden path last (its unpivot leaves the kubelet at the version it started from, so a
 * file after it would need a fresh node: ~1 min of `make test`), every other file in between in
 * vitest's own order (slowest first). Files of other projects keep vitest's order.
 */
export function orderE2eFiles<T>(files: readonly T[], idOf: (f: T) => string): T[] {
  const rank = (f: T): number => {
    const id = idOf(f);
    if (id.endsWith('e2e/node-smoke.test.ts')) return 0;
    if (id.endsWith('e2e/node-golden.test.ts')) return 2;
    return 1;
  };
  // Array.prototype.sort is stable: equal ranks keep the order they came in.
  return [...files].sort((a, b) => rank(a) - rank(b));
}

export class E2eFileOrder extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    return orderE2eFiles(await super.sort(files), (f) => f.moduleId);
  }
}
