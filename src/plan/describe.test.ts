import { describe, expect, it } from 'vitest';
import { describePlan, describeStep } from './describe.js';
import type { PlanResult } from './types.js';

describe('describePlan', () => {
  it.each<[string, PlanResult, string[]]>([
    [
      'an upgrade with a snapshot and a note',
      {
        ok: true,
        operation: 'Upgrade',
        fromVersion: 'v1.36.4',
        toVersion: 'v1.37.2',
        steps: [
          { component: 'etcd', action: 'Snapshot', state: 'Pending' },
          { component: 'kube-apiserver', action: 'Upgrade', fromVersion: 'v1.36.4', toVersion: 'v1.37.2', state: 'Pending' },
        ],
        notes: ['etcd stays at 3.6.9'],
      },
      ['Upgrade v1.36.4 → v1.37.2:', '1. Snapshot etcd', '2. Upgrade kube-apiserver v1.36.4 → v1.37.2', 'Note: etcd stays at 3.6.9'],
    ],
    [
      'an etcd-only upgrade, with no Kubernetes version change to show',
      {
        ok: true,
        operation: 'Upgrade',
        fromVersion: 'v1.36.4',
        toVersion: 'v1.36.4',
        steps: [{ component: 'etcd', action: 'Upgrade', fromVersion: '3.6.8', toVersion: '3.6.11', state: 'Pending' }],
        notes: [],
      },
      ['Upgrade at v1.36.4:', '1. Upgrade etcd 3.6.8 → 3.6.11'],
    ],
    [
      'nothing to do',
      { ok: true, operation: 'None', fromVersion: 'v1.37.2', toVersion: 'v1.37.2', steps: [], notes: [] },
      ['Nothing to do: the managed components already run v1.37.2'],
    ],
    [
      'a refusal, one line with the reason first',
      { ok: false, reason: 'MinorSkip', message: 'kube-apiserver runs v1.35.4 on cp1; v1.37.2 skips a minor' },
      ['refused (MinorSkip): kube-apiserver runs v1.35.4 on cp1; v1.37.2 skips a minor'],
    ],
  ])('%s', (_name, result, want) => {
    expect(describePlan(result)).toEqual(want);
  });

  it('leaves versions out of a step that has only one of them', () => {
    expect(describeStep({ component: 'etcd', action: 'Snapshot', fromVersion: '3.6.5', state: 'Pending' })).toBe('Snapshot etcd');
  });
});
