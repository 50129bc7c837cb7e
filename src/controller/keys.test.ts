import { describe, expect, it } from 'vitest';
import { objectKey, splitKey } from './keys.js';

describe('objectKey / splitKey', () => {
  it.each([
    [{ metadata: { name: 'a', namespace: 'ns' } }, 'ns/a', { namespace: 'ns', name: 'a' }],
    [{ metadata: { name: 'node-1' } }, 'node-1', { name: 'node-1' }],
    [{ metadata: { name: 'x', namespace: '' } }, 'x', { name: 'x' }],
    [{}, '', { name: '' }],
  ])('%j ↔ %s', (obj, key, ref) => {
    expect(objectKey(obj)).toBe(key);
    expect(splitKey(key)).toEqual(ref);
  });
});
