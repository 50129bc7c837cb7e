import { describe, expect, it } from 'vitest';
import { compareVersionTexts, compareVersions, formatVersion, minorDelta, minorKey, mustParseVersion, parseVersion } from './version.js';

describe('parseVersion', () => {
  it.each([
    ['v1.37.2', { major: 1, minor: 37, patch: 2 }],
    ['v0.0.0', { major: 0, minor: 0, patch: 0 }],
    ['v1.100.10', { major: 1, minor: 100, patch: 10 }],
  ])('accepts %s', (text, want) => {
    expect(parseVersion(text)).toEqual(want);
    expect(formatVersion(want)).toBe(text);
  });

  it.each(['1.37.2', 'v1.37', 'v1.37.2-rc.0', 'v01.37.2', 'v1.37.2 ', '', 'latest', 'v1.37.x'])(
    'rejects %j',
    (text) => {
      expect(parseVersion(text)).toBeUndefined();
      expect(() => mustParseVersion(text)).toThrow(/want vMAJOR\.MINOR\.PATCH/);
    },
  );
});

describe('compareVersions / minorDelta / minorKey', () => {
  const v = mustParseVersion;
  it.each([
    ['v1.36.4', 'v1.37.0', -1],
    ['v1.37.2', 'v1.37.2', 0],
    ['v1.37.3', 'v1.37.2', 1],
    ['v2.0.0', 'v1.99.99', 1],
  ])('%s vs %s', (a, b, sign) => {
    expect(Math.sign(compareVersions(v(a), v(b)))).toBe(sign);
  });
  it('counts minors only within one major', () => {
    expect(minorDelta(v('v1.35.5'), v('v1.37.0'))).toBe(2);
    expect(minorDelta(v('v1.37.0'), v('v1.36.9'))).toBe(-1);
    expect(minorDelta(v('v1.37.0'), v('v2.0.0'))).toBeUndefined();
    expect(minorKey(v('v1.37.2'))).toBe('1.37');
  });
});

describe('compareVersionTexts', () => {
  it.each([
    ['v1.9.0', 'v1.10.0', -1],
    ['v1.37.10', 'v1.37.2', 1],
    ['v1.37.2', 'v1.37.2', 0],
    ['v1.37.2', 'latest', -1],
    ['latest', 'v1.37.2', 1],
    ['b', 'a', 1],
  ])('%s vs %s → %i', (a, b, sign) => {
    expect(Math.sign(compareVersionTexts(a, b))).toBe(sign);
  });

  it('sorts like a version table', () => {
    expect(['v1.37.10', 'v1.9.3', 'v1.37.2', 'v2.0.0'].sort(compareVersionTexts)).toEqual(['v1.9.3', 'v1.37.2', 'v1.37.10', 'v2.0.0']);
  });
});
