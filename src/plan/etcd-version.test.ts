import { describe, expect, it } from 'vitest';
import { formatEtcdVersion, parseEtcdVersion } from './etcd-version.js';

describe('parseEtcdVersion', () => {
  it.each([
    ['3.6.5', { major: 3, minor: 6, patch: 5 }],
    ['v3.6.5', { major: 3, minor: 6, patch: 5 }],
    ['3.6.5-0', { major: 3, minor: 6, patch: 5 }],
    ['3.5.21-12', { major: 3, minor: 5, patch: 21 }],
  ])('reads %s as the etcd version, ignoring the image revision', (text, want) => {
    expect(parseEtcdVersion(text)).toEqual(want);
  });

  it.each(['TODO', '3.6', '3.6.5-rc.0', '03.6.5', '3.6.5-', 'v3.6.5-0-1', ''])('rejects %j', (text) => {
    expect(parseEtcdVersion(text)).toBeUndefined();
  });

  it('formats without v or revision, as etcd reports itself', () => {
    expect(formatEtcdVersion({ major: 3, minor: 6, patch: 5 })).toBe('3.6.5');
  });
});
