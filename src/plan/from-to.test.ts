import { describe, expect, it } from 'vitest';
import { describePlan } from './describe.js';
import { computeUniformObserved, planFromTo } from './from-to.js';
import { planVersionChange } from './plan.js';
import { TABLE, TABLE_ETCD_35 } from './testdata/fixtures.js';

describe('planFromTo', () => {
  it('plans from a settled cluster at --from, etcd at its pairing', () => {
    expect(describePlan(planFromTo('v1.36.4', 'v1.37.2', { releases: TABLE, snapshotBeforeUpgrade: true }))).toEqual([
      'Upgrade v1.36.4 → v1.37.2:',
      '1. Snapshot etcd',
      '2. Upgrade etcd 3.6.5 → 3.6.6',
      '3. Upgrade kube-apiserver v1.36.4 → v1.37.2',
      '4. Upgrade kube-controller-manager v1.36.4 → v1.37.2',
      '5. Upgrade kube-scheduler v1.36.4 → v1.37.2',
      '6. Upgrade kube-proxy v1.36.4 → v1.37.2',
    ]);
  });

  it('is planVersionChange on the uniform state', () => {
    const observed = computeUniformObserved('v1.36.4', ['a', 'b'], TABLE);
    expect(observed).toEqual({
      etcd: [{ node: 'a', version: '3.6.5' }, { node: 'b', version: '3.6.5' }],
      'kube-apiserver': [{ node: 'a', version: 'v1.36.4' }, { node: 'b', version: 'v1.36.4' }],
      'kube-controller-manager': [{ node: 'a', version: 'v1.36.4' }, { node: 'b', version: 'v1.36.4' }],
      'kube-scheduler': [{ node: 'a', version: 'v1.36.4' }, { node: 'b', version: 'v1.36.4' }],
      'kube-proxy': 'v1.36.4',
    });
    if ('ok' in observed) throw new Error('refused');
    const opts = { releases: TABLE, components: ['kube-apiserver', 'etcd'] as const, controlPlaneNodes: ['a', 'b'], etcdVersionOverride: '3.6.9' };
    expect(planFromTo('v1.36.4', 'v1.37.2', opts)).toEqual(
      planVersionChange({ observed, target: 'v1.37.2', components: opts.components, etcdVersionOverride: '3.6.9' }, TABLE),
    );
  });

  it('plans an abort when told an upgrade from --to is in progress', () => {
    const result = planFromTo('v1.37.2', 'v1.36.4', { releases: TABLE, inProgress: { operation: 'Upgrade', fromVersion: 'v1.36.4' } });
    expect(result).toMatchObject({ ok: true, operation: 'Rollback' });
    expect(planFromTo('v1.37.2', 'v1.36.4', { releases: TABLE })).toMatchObject({ ok: false, reason: 'MinorDowngrade' });
  });

  it.each([
    ['v1.36', 'v1.37.2', TABLE, 'InvalidVersion', '--from "v1.36"'],
    ['v1.34.0', 'v1.35.0', TABLE, 'UnsupportedVersion', '--from v1.34.0 is not supported'],
    ['v1.36.4', 'v1.38.0', TABLE, 'UnsupportedVersion', 'v1.38.0 is not supported'],
    ['v1.35.0', 'v1.37.0', TABLE, 'MinorSkip', 'v1.37.0 skips a minor'],
    ['v1.36.4', 'v1.37.0', TABLE_ETCD_35, 'EtcdUpgradePath', '3.5.21 on cp1'],
  ] as const)('refuses %s → %s (%s)', (from, to, releases, reason, fragment) => {
    const result = planFromTo(from, to, { releases });
    expect(result).toMatchObject({ ok: false, reason });
    if (!result.ok) expect(result.message).toContain(fragment);
  });

  it('refuses when the table has no etcd pairing for --from', () => {
    const releases = [{ minor: '1.36', etcdImageTag: 'TODO', pauseImageTag: 'TODO', flagChanges: {} }];
    expect(planFromTo('v1.36.4', 'v1.36.5', { releases })).toMatchObject({ ok: false, reason: 'InvalidReleaseTable' });
  });

  it('uses the real release table when none is given', () => {
    // Whatever the table holds, v1.99 is not in it (or its data is still missing).
    expect(planFromTo('v1.36.4', 'v1.99.0')).toMatchObject({ ok: false });
  });
});
