import { describe, expect, it } from 'vitest';
import type { ComponentChange } from './change.js';
import { parseObserved, type ParsedState } from './observed.js';
import { computeStateAfter, computeDuringState, computePlanViolation } from './simulate.js';
import { cluster, type ClusterShape } from './testdata/fixtures.js';

const state = (shape: ClusterShape): ParsedState => parseObserved(cluster(shape)).state;
const v = (minor: number, patch = 0) => ({ text: `v1.${minor}.${patch}`, version: { major: 1, minor, patch } });

function change(s: ParsedState, component: 'kube-apiserver' | 'kube-proxy', to: ReturnType<typeof v>): ComponentChange {
  const from = s[component][0];
  if (!from) throw new Error(`no ${component}`);
  return { component, action: 'Upgrade', from, to };
}

describe('computeStateAfter / computeDuringState', () => {
  const s = state({ api: { cp1: 'v1.36.4', cp2: 'v1.36.5' } });
  it('moves every instance and keeps the nodes', () => {
    expect(computeStateAfter(s, change(s, 'kube-apiserver', v(37, 2)))['kube-apiserver'].map((i) => [i.node, i.text])).toEqual([
      ['cp1', 'v1.37.2'],
      ['cp2', 'v1.37.2'],
    ]);
  });
  it('holds old and new instances side by side while a step rolls', () => {
    expect(computeDuringState(s, change(s, 'kube-apiserver', v(37, 2)))['kube-apiserver'].map((i) => i.text)).toEqual([
      'v1.36.4',
      'v1.36.5',
      'v1.37.2',
      'v1.37.2',
    ]);
  });
});

describe('computePlanViolation', () => {
  it('accepts a plan that stays within policy', () => {
    const s = state({ api: { cp1: 'v1.36.0' }, proxy: 'v1.34.0' });
    expect(computePlanViolation(s, [change(s, 'kube-apiserver', v(37))])).toBeUndefined();
  });

  it('catches a violation only the rolling moment has (old and new apiservers side by side)', () => {
    // Before: every apiserver on 1.36; after: every apiserver on 1.38. Both are fine on their own,
    // but while the step rolls, 1.36 and 1.38 instances serve together: two minors apart.
    const s = state({ api: { cp1: 'v1.36.0', cp2: 'v1.36.0' } });
    const found = computePlanViolation(s, [change(s, 'kube-apiserver', v(38))]);
    expect(found).toMatchObject({ preexisting: false, violation: { rule: 'ApiServerSpread', component: 'kube-apiserver' } });
  });

  it('catches a violation a later state has', () => {
    const s = state({ api: { cp1: 'v1.36.0' }, proxy: 'v1.33.0' });
    const found = computePlanViolation(s, [change(s, 'kube-apiserver', v(37)), change(s, 'kube-proxy', v(37))]);
    expect(found).toMatchObject({ preexisting: false, violation: { rule: 'OlderThanApiServer', component: 'kube-proxy' } });
  });

  it('tolerates a violation the plan repairs, as long as it does not grow', () => {
    // kube-proxy newer than the apiserver: moving the apiserver up repairs it.
    const s = state({ api: { cp1: 'v1.36.0' }, proxy: 'v1.37.0' });
    expect(computePlanViolation(s, [change(s, 'kube-apiserver', v(37))])).toBeUndefined();
  });

  it('refuses a plan that leaves a violation in place', () => {
    const s = state({ api: { cp1: 'v1.37.0' }, proxy: 'v1.33.0' });
    expect(computePlanViolation(s, [change(s, 'kube-apiserver', v(37, 1))])).toMatchObject({ preexisting: true });
  });

  it('says nothing about a plan without changes', () => {
    expect(computePlanViolation(state({ api: { cp1: 'v1.37.0' }, proxy: 'v1.30.0' }), [])).toBeUndefined();
  });
});
