import { describe, expect, it } from 'vitest';
import type { MinorRelease } from '../versions/table.js';
import { computeSupportedRange, findRelease } from './releases.js';
import { TABLE } from './testdata/fixtures.js';

const entry = (minor: string): MinorRelease => ({ minor, etcdImageTag: '3.6.5-0', pauseImageTag: '3.10', flagChanges: {} });

describe('computeSupportedRange', () => {
  it.each<[string, readonly MinorRelease[], string]>([
    ['oldest first', TABLE, 'v1.35–v1.37'],
    ['any order, numeric not lexical', [entry('1.9'), entry('1.10'), entry('1.8')], 'v1.8–v1.10'],
    ['one minor', [entry('1.36')], 'v1.36'],
    ['empty', [], 'none'],
    ['only malformed keys', [entry('1.x')], 'none'],
  ])('%s', (_name, table, want) => {
    expect(computeSupportedRange(table)).toBe(want);
  });
});

describe('findRelease', () => {
  it('finds the entry of the version’s minor', () => {
    expect(findRelease(TABLE, { major: 1, minor: 36, patch: 9 })?.etcdImageTag).toBe('3.6.5-0');
    expect(findRelease(TABLE, { major: 1, minor: 38, patch: 0 })).toBeUndefined();
  });
});
