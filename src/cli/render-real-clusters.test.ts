/**
 * `selfhost render` on issue 13's real-cluster variants of the kubeadm v1.37.2 fixture: the exit
 * code, every stderr line and the images, exactly (src/convert/testdata/real-clusters.ts).
 */
import { describe, expect, it } from 'vitest';
import { REAL_CLUSTER_CASES } from '../convert/testdata/real-clusters.js';
import { renderCase } from './testdata/render-case.js';

describe('selfhost render on real clusters (issue 13)', () => {
  it.each(REAL_CLUSTER_CASES.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const got = renderCase(c);
    expect(got.stderr).toEqual(c.stderr);
    expect(got.exit).toBe(c.exit);
    expect(got.images).toEqual([...c.images].sort());
  });
});
