import { describe, expect, it } from 'vitest';
import { computeDurationText, computeSecondsBetween, computeSizeText, computeTable } from './status-table.js';

describe('computeTable', () => {
  it('pads every column to its widest cell and trims the tail of short rows', () => {
    expect(computeTable(['A', 'BB', 'C'], [['long', 'x', 'last'], ['y', '', '']], '  ')).toEqual(['  A     BB  C', '  long  x   last', '  y']);
  });
});

describe('computeDurationText', () => {
  it.each([
    [0, '0s'],
    [59.9, '59s'],
    [60, '1m00s'],
    [75, '1m15s'],
    [3599, '59m59s'],
    [3600, '1h00m'],
    [7325, '2h02m'],
    [86_400 * 3 + 3600 * 4 + 5, '3d4h'],
    [-5, '0s'],
  ])('%s s → %s', (seconds, want) => {
    expect(computeDurationText(seconds)).toBe(want);
  });
});

describe('computeSecondsBetween', () => {
  it.each<[string | undefined, string | Date | undefined, number | undefined]>([
    ['2026-05-01T12:00:00Z', '2026-05-01T12:01:15Z', 75],
    ['2026-05-01T12:00:00Z', new Date('2026-05-01T12:00:02.600Z'), 3],
    ['2026-05-01T12:00:10Z', '2026-05-01T12:00:00Z', 0],
    [undefined, '2026-05-01T12:00:00Z', undefined],
    ['2026-05-01T12:00:00Z', undefined, undefined],
    ['yesterday', '2026-05-01T12:00:00Z', undefined],
  ])('%s → %s = %s', (from, to, want) => {
    expect(computeSecondsBetween(from, to)).toBe(want);
  });
});

describe('computeSizeText', () => {
  it.each([
    [512, '512 B'],
    [2048, '2.0 KiB'],
    [12_900_000, '12.3 MiB'],
    [3 * 1024 ** 3, '3.0 GiB'],
  ])('%s → %s', (bytes, want) => {
    expect(computeSizeText(bytes)).toBe(want);
  });
});
