import { describe, expect, it } from 'vitest';
import { COMPONENTS, type ComponentName } from '../api/types.js';
import type { MinorRelease } from '../versions/table.js';
import { describeStep } from './describe.js';
import { planVersionChange } from './plan.js';
import { cluster, TABLE, uniform } from './testdata/fixtures.js';
import type { ObservedVersions, PlanOperation, RefusalReason, VersionChangeInput } from './types.js';

interface Case {
  name: string;
  observed: ObservedVersions;
  target: string;
  components?: readonly ComponentName[];
  extra?: Partial<Omit<VersionChangeInput, 'observed' | 'target' | 'components'>>;
  releases?: readonly MinorRelease[];
}
interface Accepts extends Case {
  operation: PlanOperation;
  steps: string[];
  notes?: RegExp[];
}
interface Refuses extends Case {
  reason: RefusalReason;
  /** Every fragment must appear in the message: the component, the versions, what is allowed. */
  says: string[];
}

function run(c: Case) {
  return planVersionChange(
    { observed: c.observed, target: c.target, components: c.components ?? COMPONENTS, ...c.extra },
    c.releases ?? TABLE,
  );
}

const UPGRADE_136_TO_137 = [
  'Upgrade etcd 3.6.5 → 3.6.6',
  'Upgrade kube-apiserver v1.36.4 → v1.37.2',
  'Upgrade kube-controller-manager v1.36.4 → v1.37.2',
  'Upgrade kube-scheduler v1.36.4 → v1.37.2',
  'Upgrade kube-proxy v1.36.4 → v1.37.2',
];
const ROLLBACK_137_TO_136 = [
  'Downgrade kube-proxy v1.37.2 → v1.36.4',
  'Downgrade kube-scheduler v1.37.2 → v1.36.4',
  'Downgrade kube-controller-manager v1.37.2 → v1.36.4',
  'Downgrade kube-apiserver v1.37.2 → v1.36.4',
];
const ABORT_FROM_136 = { inProgress: { operation: 'Upgrade', fromVersion: 'v1.36.4' } } as const;
const HA = ['cp1', 'cp2', 'cp3'];

describe('planVersionChange accepts', () => {
  it.each<Accepts>([
    {
      name: 'one minor up: etcd first, then apiserver, controller-manager, scheduler, kube-proxy',
      observed: uniform('v1.36.4', '3.6.5'),
      target: 'v1.37.2',
      operation: 'Upgrade',
      steps: UPGRADE_136_TO_137,
    },
    {
      name: 'one minor up with a snapshot first',
      observed: uniform('v1.36.4', '3.6.5'),
      target: 'v1.37.2',
      extra: { snapshotBeforeUpgrade: true },
      operation: 'Upgrade',
      steps: ['Snapshot etcd', ...UPGRADE_136_TO_137],
    },
    {
      name: 'one minor up on three control-plane nodes: one step per component, not per node',
      observed: uniform('v1.36.4', '3.6.5', HA),
      target: 'v1.37.2',
      operation: 'Upgrade',
      steps: UPGRADE_136_TO_137,
    },
    {
      name: 'patch upgrade: same order, etcd already at the pairing is omitted',
      observed: uniform('v1.37.0', '3.6.6'),
      target: 'v1.37.2',
      operation: 'Upgrade',
      steps: [
        'Upgrade kube-apiserver v1.37.0 → v1.37.2',
        'Upgrade kube-controller-manager v1.37.0 → v1.37.2',
        'Upgrade kube-scheduler v1.37.0 → v1.37.2',
        'Upgrade kube-proxy v1.37.0 → v1.37.2',
      ],
    },
    {
      name: 'patch upgrade with a snapshot (an apiserver goes up)',
      observed: uniform('v1.37.0', '3.6.6'),
      target: 'v1.37.2',
      components: ['kube-apiserver'],
      extra: { snapshotBeforeUpgrade: true },
      operation: 'Upgrade',
      steps: ['Snapshot etcd', 'Upgrade kube-apiserver v1.37.0 → v1.37.2'],
    },
    {
      name: 'no snapshot when neither etcd nor an apiserver goes up',
      observed: cluster({ api: { cp1: 'v1.37.2' }, kcm: { cp1: 'v1.37.2' }, sched: { cp1: 'v1.37.2' }, proxy: 'v1.37.0', etcd: { cp1: '3.6.6' } }),
      target: 'v1.37.2',
      extra: { snapshotBeforeUpgrade: true },
      operation: 'Upgrade',
      steps: ['Upgrade kube-proxy v1.37.0 → v1.37.2'],
    },
    {
      name: 'no-op: everything at the target',
      observed: uniform('v1.37.2', '3.6.6', HA),
      target: 'v1.37.2',
      extra: { snapshotBeforeUpgrade: true },
      operation: 'None',
      steps: [],
    },
    {
      name: 'HA mid-upgrade: one apiserver done, one not — the apiserver step remains, from the lowest',
      observed: cluster({
        api: { cp1: 'v1.37.2', cp2: 'v1.36.4' },
        kcm: { cp1: 'v1.36.4', cp2: 'v1.36.4' },
        sched: { cp1: 'v1.36.4', cp2: 'v1.36.4' },
        proxy: 'v1.36.4',
        etcd: { cp1: '3.6.6', cp2: '3.6.6' },
      }),
      target: 'v1.37.2',
      operation: 'Upgrade',
      steps: UPGRADE_136_TO_137.slice(1),
    },
    {
      name: 'partially done: apiserver and controller-manager done, scheduler and kube-proxy not',
      observed: cluster({
        api: { cp1: 'v1.37.2', cp2: 'v1.37.2' },
        kcm: { cp1: 'v1.37.2', cp2: 'v1.37.2' },
        sched: { cp1: 'v1.37.2', cp2: 'v1.36.4' },
        proxy: 'v1.36.4',
        etcd: { cp1: '3.6.6', cp2: '3.6.6' },
      }),
      target: 'v1.37.2',
      operation: 'Upgrade',
      steps: UPGRADE_136_TO_137.slice(3),
    },
    {
      name: 'unmanaged components get no step (and their skew stays within policy)',
      observed: uniform('v1.36.4', '3.6.5'),
      target: 'v1.37.2',
      components: ['etcd', 'kube-apiserver', 'cni'],
      operation: 'Upgrade',
      steps: UPGRADE_136_TO_137.slice(0, 2),
    },
    {
      name: 'unmanaged kube-proxy three minors behind the new apiserver is still within policy',
      observed: cluster({ api: { cp1: 'v1.36.4' }, kcm: { cp1: 'v1.36.4' }, sched: { cp1: 'v1.36.4' }, proxy: 'v1.34.1', etcd: { cp1: '3.6.6' } }),
      target: 'v1.37.2',
      components: ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler'],
      operation: 'Upgrade',
      steps: UPGRADE_136_TO_137.slice(1, 4),
    },
    {
      name: 'managed kube-proxy lagging two minors catches up in one step (it may lag three)',
      observed: cluster({ api: { cp1: 'v1.36.4' }, kcm: { cp1: 'v1.36.4' }, sched: { cp1: 'v1.36.4' }, proxy: 'v1.34.1', etcd: { cp1: '3.6.6' } }),
      target: 'v1.37.2',
      operation: 'Upgrade',
      steps: [...UPGRADE_136_TO_137.slice(1, 4), 'Upgrade kube-proxy v1.34.1 → v1.37.2'],
    },
    {
      name: 'etcd newer than the pairing is kept, never downgraded',
      observed: uniform('v1.36.4', '3.6.9'),
      target: 'v1.37.2',
      operation: 'Upgrade',
      steps: UPGRADE_136_TO_137.slice(1),
      notes: [/^etcd stays at 3\.6\.9: it is newer than 3\.6\.6, the version paired with v1\.37/],
    },
    {
      name: 'etcd override: the step goes to the override, not the pairing',
      observed: uniform('v1.36.4', '3.6.5'),
      target: 'v1.37.2',
      extra: { etcdVersionOverride: '3.6.8' },
      operation: 'Upgrade',
      steps: ['Upgrade etcd 3.6.5 → 3.6.8', ...UPGRADE_136_TO_137.slice(1)],
    },
    {
      name: 'etcd override alone: an etcd-only upgrade at the same Kubernetes version',
      observed: uniform('v1.37.2', '3.6.6'),
      target: 'v1.37.2',
      extra: { etcdVersionOverride: 'v3.6.7', snapshotBeforeUpgrade: true },
      operation: 'Upgrade',
      steps: ['Snapshot etcd', 'Upgrade etcd 3.6.6 → v3.6.7'],
    },
    {
      name: 'etcd members at mixed patches: the step starts from the lowest',
      observed: cluster({ api: { cp1: 'v1.37.2', cp2: 'v1.37.2' }, kcm: { cp1: 'v1.37.2' }, sched: { cp1: 'v1.37.2' }, proxy: 'v1.37.2', etcd: { cp1: '3.6.6', cp2: '3.6.4' } }),
      target: 'v1.37.2',
      operation: 'Upgrade',
      steps: ['Upgrade etcd 3.6.4 → 3.6.6'],
    },
    {
      name: 'abort: back to where the running upgrade started, reverse order, etcd untouched',
      observed: uniform('v1.37.2', '3.6.6'),
      target: 'v1.36.4',
      extra: ABORT_FROM_136,
      operation: 'Rollback',
      steps: ROLLBACK_137_TO_136,
      notes: [/^etcd stays at 3\.6\.6/],
    },
    {
      name: 'abort of an HA upgrade caught half way: only the apiserver that moved goes back',
      observed: cluster({
        api: { cp1: 'v1.37.2', cp2: 'v1.36.4' },
        kcm: { cp1: 'v1.36.4', cp2: 'v1.36.4' },
        sched: { cp1: 'v1.36.4', cp2: 'v1.36.4' },
        proxy: 'v1.36.4',
        etcd: { cp1: '3.6.6', cp2: '3.6.6' },
      }),
      target: 'v1.36.4',
      extra: { ...ABORT_FROM_136, snapshotBeforeUpgrade: true },
      operation: 'Rollback',
      steps: ['Downgrade kube-apiserver v1.37.2 → v1.36.4'],
      notes: [/^etcd stays at 3\.6\.6: it is newer than 3\.6\.5, the version paired with v1\.36, and etcd is never downgraded$/],
    },
    {
      name: 'patch downgrade needs no upgrade in progress; reverse order; etcd kept',
      observed: uniform('v1.37.2', '3.6.7'),
      target: 'v1.37.1',
      operation: 'Rollback',
      steps: [
        'Downgrade kube-proxy v1.37.2 → v1.37.1',
        'Downgrade kube-scheduler v1.37.2 → v1.37.1',
        'Downgrade kube-controller-manager v1.37.2 → v1.37.1',
        'Downgrade kube-apiserver v1.37.2 → v1.37.1',
      ],
      notes: [/^etcd stays at 3\.6\.7: it is newer than 3\.6\.6, the version paired with v1\.37, and etcd is never downgraded$/],
    },
    {
      name: 'a rollback does not upgrade etcd even when the pairing is newer',
      observed: uniform('v1.37.2', '3.6.1'),
      target: 'v1.37.1',
      components: ['etcd', 'kube-apiserver'],
      operation: 'Rollback',
      steps: ['Downgrade kube-apiserver v1.37.2 → v1.37.1'],
      notes: [/^etcd stays at 3\.6\.1: a rollback does not change etcd \(3\.6\.6 waits for the next upgrade\)$/],
    },
    {
      name: 'a component patch-ahead of the target makes it a rollback, in reverse order',
      observed: cluster({ api: { cp1: 'v1.37.0' }, kcm: { cp1: 'v1.37.5' }, sched: { cp1: 'v1.37.2' }, proxy: 'v1.37.2', etcd: { cp1: '3.6.6' } }),
      target: 'v1.37.2',
      operation: 'Rollback',
      steps: ['Downgrade kube-controller-manager v1.37.5 → v1.37.2', 'Upgrade kube-apiserver v1.37.0 → v1.37.2'],
    },
    {
      name: 'a component that was never observed gets no step and a note',
      observed: cluster({ api: { cp1: 'v1.36.4' }, kcm: { cp1: 'v1.36.4' }, etcd: { cp1: '3.6.6' } }),
      target: 'v1.37.2',
      operation: 'Upgrade',
      steps: ['Upgrade kube-apiserver v1.36.4 → v1.37.2', 'Upgrade kube-controller-manager v1.36.4 → v1.37.2'],
      notes: [/^kube-scheduler is managed but no instance was observed/, /^kube-proxy is managed but no instance was observed/],
    },
    {
      name: 'no etcd observed (external etcd): no etcd step, no snapshot, and the plan says so',
      observed: cluster({ api: { cp1: 'v1.36.4' } }),
      target: 'v1.37.2',
      components: ['etcd', 'kube-apiserver'],
      extra: { snapshotBeforeUpgrade: true },
      operation: 'Upgrade',
      steps: ['Upgrade kube-apiserver v1.36.4 → v1.37.2'],
      notes: [/^no snapshot step: no etcd member was observed/, /^etcd is managed but no instance was observed/],
    },
    {
      name: 'unmanaged etcd ignores spec.etcd.version, with a note',
      observed: uniform('v1.36.4', '3.6.5'),
      target: 'v1.37.2',
      components: ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kube-proxy'],
      extra: { etcdVersionOverride: '3.6.8' },
      operation: 'Upgrade',
      steps: UPGRADE_136_TO_137.slice(1),
      notes: [/^spec\.etcd\.version is ignored: etcd is not managed/],
    },
    {
      name: 'the release table is not needed for etcd when the override is set',
      observed: uniform('v1.36.4', '3.6.5'),
      target: 'v1.37.2',
      components: ['etcd'],
      extra: { etcdVersionOverride: '3.6.6' },
      releases: [{ minor: '1.37', etcdImageTag: 'TODO', pauseImageTag: 'TODO', flagChanges: {} }],
      operation: 'Upgrade',
      steps: ['Upgrade etcd 3.6.5 → 3.6.6'],
    },
  ])('$name', (c) => {
    const result = run(c);
    if (!result.ok) throw new Error(`refused (${result.reason}): ${result.message}`);
    expect(result.operation).toBe(c.operation);
    expect(result.steps.map(describeStep)).toEqual(c.steps);
    expect(result.steps.every((s) => s.state === 'Pending')).toBe(true);
    expect(result.notes).toHaveLength(c.notes?.length ?? 0);
    (c.notes ?? []).forEach((re, i) => expect(result.notes[i]).toMatch(re));
  });
});

describe('planVersionChange refuses', () => {
  it.each<Refuses>([
    {
      name: 'a target that is not a version',
      observed: uniform('v1.36.4', '3.6.5'),
      target: 'v1.37',
      reason: 'InvalidVersion',
      says: ['spec.version "v1.37"', 'vMAJOR.MINOR.PATCH'],
    },
    {
      name: 'an observed version that is not a version',
      observed: cluster({ api: { cp1: 'v1.36.4', cp2: 'v1.37.0-rc.1' } }),
      target: 'v1.37.2',
      reason: 'InvalidVersion',
      says: ['kube-apiserver on cp2', '"v1.37.0-rc.1"'],
    },
    {
      name: 'a kube-proxy version that is not a version',
      observed: cluster({ api: { cp1: 'v1.36.4' }, proxy: '1.36.4' }),
      target: 'v1.37.2',
      reason: 'InvalidVersion',
      says: ['kube-proxy reports version "1.36.4"'],
    },
    {
      name: 'an etcd override that is not a version',
      observed: uniform('v1.36.4', '3.6.5'),
      target: 'v1.37.2',
      extra: { etcdVersionOverride: '3.6' },
      reason: 'InvalidVersion',
      says: ['spec.etcd.version "3.6"'],
    },
    {
      name: 'an in-progress start that is not a version',
      observed: uniform('v1.36.4', '3.6.5'),
      target: 'v1.37.2',
      extra: { inProgress: { operation: 'Upgrade', fromVersion: 'yesterday' } },
      reason: 'InvalidVersion',
      says: ['Upgrade in progress started from "yesterday"'],
    },
    {
      name: 'no apiserver observed',
      observed: cluster({ kcm: { cp1: 'v1.36.4' } }),
      target: 'v1.37.2',
      reason: 'VersionUnknown',
      says: ['no kube-apiserver instance'],
    },
    {
      name: 'a major change',
      observed: uniform('v1.37.2', '3.6.6'),
      target: 'v2.0.0',
      reason: 'MajorChange',
      says: ['kube-apiserver runs v1.37.2 on cp1', 'v2.0.0', 'Allowed: a v1.x version'],
    },
    {
      name: 'a minor beyond the table',
      observed: uniform('v1.37.2', '3.6.6'),
      target: 'v1.38.0',
      reason: 'UnsupportedVersion',
      says: ['v1.38.0 is not supported', 'v1.35–v1.37'],
    },
    {
      name: 'a minor below the table',
      observed: uniform('v1.35.2', '3.6.4'),
      target: 'v1.34.9',
      reason: 'UnsupportedVersion',
      says: ['v1.34.9', 'v1.35–v1.37'],
    },
    {
      name: 'a release table without a usable etcd pairing',
      observed: uniform('v1.36.4', '3.6.5'),
      target: 'v1.37.2',
      releases: [{ minor: '1.37', etcdImageTag: 'TODO', pauseImageTag: 'TODO', flagChanges: {} }],
      reason: 'InvalidReleaseTable',
      says: ['v1.37', '"TODO"', 'spec.etcd.version'],
    },
    {
      name: 'HA apiservers already two minors apart',
      observed: cluster({ api: { cp1: 'v1.35.0', cp2: 'v1.37.2' } }),
      target: 'v1.37.2',
      reason: 'SkewViolation',
      says: ['v1.35.0 on cp1', 'v1.37.2 on cp2', '2 minors apart', 'within 1 minor'],
    },
    {
      name: 'a minor skip',
      observed: uniform('v1.35.4', '3.6.4'),
      target: 'v1.37.2',
      reason: 'MinorSkip',
      says: ['kube-apiserver runs v1.35.4 on cp1', 'v1.37.2', 'up to a v1.36 version'],
    },
    {
      name: 'a minor skip judged from the lowest of HA apiservers',
      observed: cluster({ api: { cp1: 'v1.36.0', cp2: 'v1.35.9' }, etcd: { cp1: '3.6.6' } }),
      target: 'v1.37.0',
      reason: 'MinorSkip',
      says: ['v1.35.9 on cp2'],
    },
    {
      name: 'a managed controller-manager that would skip a minor',
      observed: cluster({ api: { cp1: 'v1.36.4' }, kcm: { cp1: 'v1.35.1' }, etcd: { cp1: '3.6.6' } }),
      target: 'v1.37.2',
      reason: 'MinorSkip',
      says: ['kube-controller-manager runs v1.35.1 on cp1', 'skip 1 minor', 'v1.36 patch first'],
    },
    {
      name: 'a minor downgrade with no upgrade in progress',
      observed: uniform('v1.37.2', '3.6.6'),
      target: 'v1.36.4',
      reason: 'MinorDowngrade',
      says: ['kube-apiserver runs v1.37.2 on cp1', 'v1.36.4', 'downgrade by 1 minor', 'a v1.37 patch version'],
    },
    {
      name: 'a minor downgrade to somewhere other than where the upgrade started',
      observed: uniform('v1.37.2', '3.6.6'),
      target: 'v1.36.4',
      extra: { inProgress: { operation: 'Upgrade', fromVersion: 'v1.36.2' } },
      reason: 'MinorDowngrade',
      says: ['or v1.36.2 to abort the upgrade in progress'],
    },
    {
      name: 'a minor downgrade while a rollback (not an upgrade) runs',
      observed: uniform('v1.37.2', '3.6.6'),
      target: 'v1.36.4',
      extra: { inProgress: { operation: 'Rollback', fromVersion: 'v1.36.4' } },
      reason: 'MinorDowngrade',
      says: ['a v1.37 patch version'],
    },
    {
      name: 'an abort can only undo one minor',
      observed: cluster({ api: { cp1: 'v1.36.4' }, kcm: { cp1: 'v1.37.2' }, etcd: { cp1: '3.6.6' } }),
      target: 'v1.35.4',
      extra: { inProgress: { operation: 'Upgrade', fromVersion: 'v1.35.4' } },
      reason: 'MinorDowngrade',
      says: ['kube-controller-manager runs v1.37.2 on cp1', 'downgrade by 2 minors'],
    },
    {
      name: 'an unmanaged kube-proxy that the new apiserver would leave four minors behind',
      observed: cluster({ api: { cp1: 'v1.36.4' }, kcm: { cp1: 'v1.36.4' }, sched: { cp1: 'v1.36.4' }, proxy: 'v1.33.0', etcd: { cp1: '3.6.6' } }),
      target: 'v1.37.2',
      components: ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler'],
      reason: 'SkewViolation',
      says: ['would break', 'kube-proxy v1.33.0 is 4 minors older than kube-apiserver v1.37.2 on cp1', 'at most 3 minors older'],
    },
    {
      name: 'an unmanaged controller-manager one minor behind, which the upgrade would leave two behind',
      observed: cluster({ api: { cp1: 'v1.36.4' }, kcm: { cp1: 'v1.35.1' }, sched: { cp1: 'v1.36.4' }, etcd: { cp1: '3.6.6' } }),
      target: 'v1.37.2',
      components: ['kube-apiserver', 'kube-scheduler'],
      reason: 'SkewViolation',
      says: ['kube-controller-manager v1.35.1 on cp1 is 2 minors older than kube-apiserver v1.37.2', 'at most 1 minor older'],
    },
    {
      name: 'managed components newer than an unmanaged apiserver',
      observed: uniform('v1.36.4', '3.6.6'),
      target: 'v1.37.2',
      components: ['kube-controller-manager', 'kube-scheduler'],
      reason: 'SkewViolation',
      says: ['kube-controller-manager v1.37.2 on cp1 is newer than kube-apiserver v1.36.4 on cp1', 'not newer than any kube-apiserver'],
    },
    {
      name: 'a violation the plan does not repair (patch upgrade beside a kube-proxy too old)',
      observed: cluster({ api: { cp1: 'v1.37.0' }, proxy: 'v1.33.0', etcd: { cp1: '3.6.6' } }),
      target: 'v1.37.2',
      components: ['kube-apiserver'],
      reason: 'SkewViolation',
      says: ['outside the version skew policy', 'would not repair it', 'kube-proxy v1.33.0'],
    },
    {
      name: 'an etcd override below what runs',
      observed: cluster({ api: { cp1: 'v1.37.2' }, etcd: { cp1: '3.6.6', cp2: '3.6.7' } }),
      target: 'v1.37.2',
      extra: { etcdVersionOverride: '3.6.6' },
      reason: 'EtcdDowngrade',
      says: ['etcd member 3.6.7 on cp2', 'spec.etcd.version 3.6.6', 'never downgraded', '3.6.7 or newer'],
    },
    {
      name: 'an etcd minor skip',
      observed: cluster({ api: { cp1: 'v1.36.4' }, etcd: { cp1: '3.4.30' } }),
      target: 'v1.37.2',
      reason: 'EtcdMinorSkip',
      says: ['etcd member 3.4.30 on cp1', 'cannot move to 3.6.6 ', '2 minors ahead', 'one minor at a time'],
    },
    {
      name: 'an etcd major change',
      observed: cluster({ api: { cp1: 'v1.36.4' }, etcd: { cp1: '3.6.5' } }),
      target: 'v1.37.2',
      extra: { etcdVersionOverride: '4.0.0' },
      reason: 'EtcdMinorSkip',
      says: ['a major version ahead'],
    },
  ])('$name', (c) => {
    const result = run(c);
    if (result.ok) throw new Error(`accepted: ${result.steps.map(describeStep).join('; ')}`);
    expect(result.reason).toBe(c.reason);
    for (const fragment of c.says) expect(result.message).toContain(fragment);
  });
});

describe('planVersionChange result', () => {
  it('carries the versions the operation moves between', () => {
    const up = run({ name: '', observed: uniform('v1.36.4', '3.6.5'), target: 'v1.37.2' });
    expect(up).toMatchObject({ ok: true, fromVersion: 'v1.36.4', toVersion: 'v1.37.2' });
    const partial = run({
      name: '',
      observed: cluster({ api: { cp1: 'v1.37.2' }, sched: { cp1: 'v1.36.4' }, etcd: { cp1: '3.6.6' } }),
      target: 'v1.37.2',
    });
    expect(partial).toMatchObject({ ok: true, fromVersion: 'v1.36.4' });
    const back = run({
      name: '',
      observed: cluster({ api: { cp1: 'v1.37.2', cp2: 'v1.36.4' }, etcd: { cp1: '3.6.6' } }),
      target: 'v1.36.4',
      extra: ABORT_FROM_136,
    });
    expect(back).toMatchObject({ ok: true, operation: 'Rollback', fromVersion: 'v1.37.2', toVersion: 'v1.36.4' });
    const etcdOnly = run({ name: '', observed: uniform('v1.37.2', '3.6.5'), target: 'v1.37.2' });
    expect(etcdOnly).toMatchObject({ ok: true, operation: 'Upgrade', fromVersion: 'v1.37.2' });
  });

  it('gives every step its from and to version, and the snapshot none', () => {
    const result = run({ name: '', observed: uniform('v1.36.4', '3.6.5'), target: 'v1.37.2', extra: { snapshotBeforeUpgrade: true } });
    if (!result.ok) throw new Error(result.message);
    expect(result.steps[0]).toEqual({
      component: 'etcd',
      action: 'Snapshot',
      state: 'Pending',
      message: 'etcd snapshot before the upgrade (spec.etcd.snapshotBeforeUpgrade)',
    });
    expect(result.steps[1]).toEqual({ component: 'etcd', action: 'Upgrade', fromVersion: '3.6.5', toVersion: '3.6.6', state: 'Pending' });
  });

  it('does not depend on the order instances are reported in', () => {
    const a = cluster({ api: { cp1: 'v1.37.2', cp2: 'v1.36.4', cp3: 'v1.36.4' }, kcm: { cp2: 'v1.36.4', cp1: 'v1.36.3' }, etcd: { cp3: '3.6.5', cp1: '3.6.4' } });
    const b = cluster({ api: { cp3: 'v1.36.4', cp2: 'v1.36.4', cp1: 'v1.37.2' }, kcm: { cp1: 'v1.36.3', cp2: 'v1.36.4' }, etcd: { cp1: '3.6.4', cp3: '3.6.5' } });
    const plan = (observed: ObservedVersions) => run({ name: '', observed, target: 'v1.37.2' });
    expect(plan(a)).toEqual(plan(b));
  });

  it('uses the real release table by default', () => {
    const result = planVersionChange({ observed: uniform('v1.36.4', '3.6.5'), target: 'v1.99.0', components: COMPONENTS });
    expect(result).toMatchObject({ ok: false, reason: 'UnsupportedVersion' });
  });
});
