import { describe, expect, it } from 'vitest';
import {
  computeTimestamp,
  ConditionType,
  findCondition,
  isConditionStatus,
  REASON_INITIALIZING,
  Reasons,
  setCondition,
} from './conditions.js';
import { CONDITION_REASON, CONDITION_TYPE } from './patterns.js';
import type { Condition } from './types.js';

const T0 = new Date('2025-01-02T03:04:05.678Z');
const T1 = new Date('2025-01-02T04:00:00.000Z');

const ready = (status: Condition['status'], reason: string, at = '2025-01-01T00:00:00Z'): Condition => ({
  type: 'Ready',
  status,
  reason,
  message: '',
  lastTransitionTime: at,
});
const progressing: Condition = { type: 'Progressing', status: 'False', reason: 'Idle', message: '', lastTransitionTime: '2025-01-01T00:00:00Z' };

describe('setCondition', () => {
  it.each<[string, Condition[] | undefined, Omit<Condition, 'lastTransitionTime'>, Condition[]]>([
    ['appends a new type with now', undefined, { type: 'Ready', status: 'Unknown', reason: 'Initializing', message: '' }, [ready('Unknown', 'Initializing', '2025-01-02T03:04:05Z')]],
    ['moves the time on a flip', [ready('True', 'AsExpected')], { type: 'Ready', status: 'False', reason: 'ComponentsNotReady', message: 'etcd' }, [{ ...ready('False', 'ComponentsNotReady', '2025-01-02T03:04:05Z'), message: 'etcd' }]],
    ['keeps the time when only reason and message change', [ready('False', 'VersionMismatch')], { type: 'Ready', status: 'False', reason: 'ComponentsNotReady', message: 'x', observedGeneration: 4 }, [{ ...ready('False', 'ComponentsNotReady'), message: 'x', observedGeneration: 4 }]],
    ['keeps list order when replacing', [ready('True', 'AsExpected'), progressing], { type: 'Ready', status: 'False', reason: 'VersionMismatch', message: '' }, [ready('False', 'VersionMismatch', '2025-01-02T03:04:05Z'), progressing]],
    ['appends after existing types', [progressing], { type: 'Ready', status: 'True', reason: 'AsExpected', message: '' }, [progressing, ready('True', 'AsExpected', '2025-01-02T03:04:05Z')]],
  ])('%s', (_name, list, cond, want) => {
    expect(setCondition(list, cond, T0)).toEqual(want);
  });

  it('is pure: the input list and its items stay as they were', () => {
    const list = [ready('True', 'AsExpected'), progressing];
    const before = structuredClone(list);
    setCondition(list, { type: 'Ready', status: 'False', reason: 'VersionMismatch', message: '' }, T1);
    expect(list).toEqual(before);
  });

  it('setting the same condition twice changes nothing the second time', () => {
    const once = setCondition([], { type: 'Degraded', status: 'False', reason: 'AsExpected', message: '' }, T0);
    expect(setCondition(once, { type: 'Degraded', status: 'False', reason: 'AsExpected', message: '' }, T1)).toEqual(once);
  });
});

describe('findCondition / isConditionStatus', () => {
  const list = [ready('True', 'AsExpected'), progressing];
  it('finds by type', () => {
    expect(findCondition(list, 'Progressing')).toBe(progressing);
    expect(findCondition(list, 'Degraded')).toBeUndefined();
    expect(findCondition(undefined, 'Ready')).toBeUndefined();
  });
  it('tests status', () => {
    expect(isConditionStatus(list, 'Ready', 'True')).toBe(true);
    expect(isConditionStatus(list, 'Progressing', 'True')).toBe(false);
    expect(isConditionStatus(undefined, 'Ready', 'Unknown')).toBe(false);
  });
});

describe('condition constants', () => {
  it('every type and reason passes the schema patterns', () => {
    const typeRe = new RegExp(CONDITION_TYPE.pattern);
    const reasonRe = new RegExp(CONDITION_REASON.pattern);
    for (const t of Object.values(ConditionType)) expect(t).toMatch(typeRe);
    for (const r of [REASON_INITIALIZING, ...Object.values(Reasons).flatMap((rs) => Object.values(rs))]) {
      expect(r).toMatch(reasonRe);
    }
  });
  it('has reasons for every type', () => {
    expect(Object.keys(Reasons).sort()).toEqual(Object.values(ConditionType).sort());
  });
});

describe('computeTimestamp', () => {
  it('drops milliseconds, as metav1.Time does', () => {
    expect(computeTimestamp(T0)).toBe('2025-01-02T03:04:05Z');
  });
});
