import { describe, expect, it } from 'vitest';
import { COMPONENTS } from '../api/types.js';
import { describeStep } from './describe.js';
import { computeEtcdViaVersion, ETCD_UPGRADE_FLOORS } from './etcd.js';
import { planVersionChange } from './plan.js';
import { cluster, TABLE_ETCD_35, TABLE_ETCD_37, uniform, type PerNode } from './testdata/fixtures.js';

/** A v1.36 cluster (paired etcd 3.5.21 in TABLE_ETCD_35) whose etcd members run `etcd`. */
function plan(etcd: PerNode, target = 'v1.37.2', etcdVersionOverride?: string) {
  const nodes = Object.keys(etcd);
  const at = (v: string): PerNode => Object.fromEntries(nodes.map((n) => [n, v]));
  return planVersionChange(
    {
      observed: cluster({ api: at('v1.36.4'), kcm: at('v1.36.4'), sched: at('v1.36.4'), proxy: 'v1.36.4', etcd }),
      target,
      components: COMPONENTS,
      ...(etcdVersionOverride ? { etcdVersionOverride } : {}),
    },
    TABLE_ETCD_35,
  );
}

describe('etcd 3.5 → 3.6 floor', () => {
  it('is the newest floor etcd documents', () => {
    expect(ETCD_UPGRADE_FLOORS['3.6']).toBe('3.5.32');
  });

  it.each<[string, PerNode, string]>([
    ['a single member below the floor', { cp1: '3.5.21' }, 'etcd member(s) 3.5.21 on cp1 must run 3.5.32 or newer before moving to 3.6.5'],
    ['only the members below the floor are named', { cp1: '3.5.32', cp2: '3.5.21', cp3: '3.5.40', cp4: '3.5.31' }, 'etcd member(s) 3.5.21 on cp2, 3.5.31 on cp4 must run 3.5.32'],
    ['the old 3.5.20 floor is no longer enough', { cp1: '3.5.26' }, '3.5.26 on cp1'],
  ])('refuses %s, telling how to get past it', (_name, etcd, fragment) => {
    const result = plan(etcd);
    expect(result).toMatchObject({ ok: false, reason: 'EtcdUpgradePath' });
    if (result.ok) return;
    expect(result.message).toContain(fragment);
    expect(result.message).toContain('lists no published 3.5 patch ≥ 3.5.32 to step through: set spec.etcd.version to one');
  });

  it.each<[string, PerNode, string]>([
    ['every member at the floor', { cp1: '3.5.32', cp2: '3.5.32' }, 'Upgrade etcd 3.5.32 → 3.6.5'],
    ['members above the floor', { cp1: '3.5.40' }, 'Upgrade etcd 3.5.40 → 3.6.5'],
    ['an etcd upgrade half done (members on 3.6 need no floor)', { cp1: '3.6.5', cp2: '3.5.32' }, 'Upgrade etcd 3.5.32 → 3.6.5'],
  ])('allows %s', (_name, etcd, step) => {
    const result = plan(etcd);
    if (!result.ok) throw new Error(result.message);
    expect(result.steps.map(describeStep)[0]).toBe(step);
  });

  it('is passed in two phases through spec.etcd.version, as the refusal says', () => {
    const first = plan({ cp1: '3.5.21', cp2: '3.5.21' }, 'v1.36.4', '3.5.32');
    if (!first.ok) throw new Error(first.message);
    expect(first.steps.map(describeStep)).toEqual(['Upgrade etcd 3.5.21 → 3.5.32']);
    const second = plan({ cp1: '3.5.32', cp2: '3.5.32' });
    if (!second.ok) throw new Error(second.message);
    expect(second.steps.map(describeStep)[0]).toBe('Upgrade etcd 3.5.32 → 3.6.5');
  });

  it('does not apply to patch moves within 3.5', () => {
    const result = plan({ cp1: '3.5.10' }, 'v1.36.4', '3.5.21');
    expect(result).toMatchObject({ ok: true, operation: 'Upgrade' });
  });
});

describe('etcd 3.6 → 3.7 floor', () => {
  const plan37 = (etcd: string, etcdVersionOverride?: string, target = 'v1.37.0') =>
    planVersionChange(
      {
        observed: uniform('v1.36.4', etcd, ['cp1', 'cp2']),
        target,
        components: COMPONENTS,
        ...(etcdVersionOverride ? { etcdVersionOverride } : {}),
      },
      TABLE_ETCD_37,
    );

  it('is 3.6.11', () => {
    expect(ETCD_UPGRADE_FLOORS['3.7']).toBe('3.6.11');
  });

  it('refuses the kubeadm pairing 3.6.8 → 3.7.0 until the members run 3.6.11', () => {
    const result = plan37('3.6.8');
    expect(result).toMatchObject({ ok: false, reason: 'EtcdUpgradePath' });
    if (!result.ok) expect(result.message).toContain('3.6.8 on cp1, 3.6.8 on cp2 must run 3.6.11 or newer before moving to 3.7.0');
  });

  it.each<[string, string, string[], string[]]>([
    ['3.6.8 steps through the published 3.6.11', '3.6.8', ['3.6.11-0'], ['Upgrade etcd 3.6.8 → 3.6.11', 'Upgrade etcd 3.6.11 → 3.7.0', 'Upgrade kube-apiserver v1.36.4 → v1.37.0']],
    ['the lowest published patch at or above the floor', '3.6.8', ['3.6.9-0', '3.6.13-0', '3.6.12-0'], ['Upgrade etcd 3.6.8 → 3.6.12', 'Upgrade etcd 3.6.12 → 3.7.0']],
    ['members already at the floor need no intermediate', '3.6.11', ['3.6.11-0'], ['Upgrade etcd 3.6.11 → 3.7.0']],
  ])('%s', (_name, etcd, via, want) => {
    const table = TABLE_ETCD_37.map((r) => (r.minor === '1.37' ? { ...r, etcdUpgradeVia: via } : r));
    const result = planVersionChange({ observed: uniform('v1.36.4', etcd, ['cp1', 'cp2']), target: 'v1.37.0', components: COMPONENTS }, table);
    if (!result.ok) throw new Error(result.message);
    expect(result.steps.map(describeStep).slice(0, want.length)).toEqual(want);
  });

  it.each<[string, Record<string, string>, string[]]>([
    ['a published patch below the floor does not count', { cp1: '3.6.8' }, ['3.6.10-0']],
    ['a member above the published patch: it would go down a patch', { cp1: '3.6.8', cp2: '3.6.12' }, ['3.6.11-0']],
  ])('refuses when %s', (_name, etcd, via) => {
    const table = TABLE_ETCD_37.map((r) => (r.minor === '1.37' ? { ...r, etcdUpgradeVia: via } : r));
    const api = Object.fromEntries(Object.keys(etcd).map((n) => [n, 'v1.36.4']));
    const result = planVersionChange({ observed: cluster({ api, kcm: api, sched: api, proxy: 'v1.36.4', etcd }), target: 'v1.37.0', components: COMPONENTS }, table);
    expect(result).toMatchObject({ ok: false, reason: 'EtcdUpgradePath' });
  });

  it('the real release table lists 3.6.11 for v1.37: v1.36.4 → v1.37.2 is one edit', () => {
    const result = planVersionChange({ observed: uniform('v1.36.4', '3.6.8', ['cp1']), target: 'v1.37.2', components: COMPONENTS });
    if (!result.ok) throw new Error(result.message);
    expect(result.steps.map(describeStep)).toEqual([
      'Upgrade etcd 3.6.8 → 3.6.11',
      'Upgrade etcd 3.6.11 → 3.7.0',
      'Upgrade kube-apiserver v1.36.4 → v1.37.2',
      'Upgrade kube-controller-manager v1.36.4 → v1.37.2',
      'Upgrade kube-scheduler v1.36.4 → v1.37.2',
      'Upgrade kube-proxy v1.36.4 → v1.37.2',
    ]);
  });

  it('lets the override lift the members first, then the upgrade pass', () => {
    expect(plan37('3.6.8', '3.6.11', 'v1.36.4')).toMatchObject({ ok: true, steps: [{ component: 'etcd', toVersion: '3.6.11' }] });
    const result = plan37('3.6.11');
    if (!result.ok) throw new Error(result.message);
    expect(result.steps.map(describeStep)[0]).toBe('Upgrade etcd 3.6.11 → 3.7.0');
  });
});

describe('computeEtcdViaVersion (the rollout asks it which etcd to run next)', () => {
  const r137 = { minor: '1.37', etcdImageTag: '3.7.0-0', pauseImageTag: '3.10.2', etcdUpgradeVia: ['3.6.11-0'], flagChanges: {} };
  it.each<[string, string[], string, string | undefined]>([
    ['below the floor: the published patch', ['3.6.8'], '3.7.0', '3.6.11'],
    ['image tags as members', ['3.6.8-0'], '3.7.0-0', '3.6.11'],
    ['at the floor: straight on', ['3.6.11'], '3.7.0', undefined],
    ['a patch move: straight on', ['3.6.8'], '3.6.11', undefined],
    ['already on the new minor', ['3.7.0'], '3.7.0', undefined],
    ['an unparseable member: no guess', ['3.6.x'], '3.7.0', undefined],
    ['no members known', [], '3.7.0', undefined],
  ])('%s', (_name, members, desired, want) => {
    expect(computeEtcdViaVersion(members, desired, r137)).toBe(want);
  });
  it('no published patch: undefined (the skew planner refuses instead)', () => {
    expect(computeEtcdViaVersion(['3.6.8'], '3.7.0', { ...r137, etcdUpgradeVia: [] })).toBeUndefined();
  });
});
