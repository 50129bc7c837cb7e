import { describe, expect, it } from 'vitest';
import { isAppliedSubset } from './subset.js';

describe('isAppliedSubset', () => {
  it.each([
    ['equal scalars', 1, 1, true],
    ['different scalars', 1, 2, false],
    ['number vs string', 1, '1', false],
    ['live has defaults', { a: 1 }, { a: 1, b: 2 }, true],
    ['missing key', { a: 1, c: 3 }, { a: 1 }, false],
    ['nested default', { s: { t: { c: [{ n: 'x' }] } } }, { s: { t: { c: [{ n: 'x', policy: 'IfNotPresent' }] } } }, true],
    ['array length differs', [1, 2], [1, 2, 3], false],
    ['array order differs', [1, 2], [2, 1], false],
    ['empty object', { emptyDir: {} }, { emptyDir: {} }, true],
    ['object vs array', { a: {} }, { a: [] }, false],
    ['undefined is ignored', { a: undefined }, {}, true],
    ['null equals null', { a: null }, { a: null }, true],
    ['value vs missing', { a: '' }, {}, false],
  ])('%s', (_name, desired, live, expected) => {
    expect(isAppliedSubset(desired, live)).toBe(expected);
  });
});
