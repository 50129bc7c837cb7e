import { describe, expect, it } from 'vitest';
import { compareFieldErrors, computeValueText, formatFieldError, type FieldError } from './field-error.js';

describe('formatFieldError', () => {
  it.each<[FieldError, string]>([
    [{ path: 'spec.version', value: '1.37', message: 'must be vMAJOR.MINOR.PATCH (e.g. v1.37.2)' }, 'spec.version: Invalid value: "1.37": must be vMAJOR.MINOR.PATCH (e.g. v1.37.2)'],
    [{ path: 'spec.paused', value: 1, message: 'must be boolean' }, 'spec.paused: Invalid value: 1: must be boolean'],
    [{ path: 'spec.version', value: undefined, message: 'required: must be string' }, 'spec.version: Required value: must be string'],
    [{ path: 'spec.version', value: undefined, message: 'required' }, 'spec.version: Required value'],
    [{ path: '', value: null, message: 'must be object' }, '<root>: Invalid value: null: must be object'],
  ])('%j', (e, want) => {
    expect(formatFieldError(e)).toBe(want);
  });
});

describe('computeValueText', () => {
  it('quotes strings and writes objects as JSON', () => {
    expect(computeValueText('a"b')).toBe('"a\\"b"');
    expect(computeValueText({ a: [1] })).toBe('{"a":[1]}');
  });
  it('cuts long values', () => {
    const text = computeValueText('x'.repeat(500));
    expect(text).toHaveLength(201);
    expect(text.endsWith('…')).toBe(true);
  });
  it('writes values JSON cannot', () => {
    expect(computeValueText(() => 1)).toMatch(/=>/);
  });
});

describe('compareFieldErrors', () => {
  it('orders by path, then message', () => {
    const list: FieldError[] = [
      { path: 'spec.version', value: 1, message: 'b' },
      { path: 'spec.mode', value: 1, message: 'z' },
      { path: 'spec.version', value: 1, message: 'a' },
      { path: 'spec.mode', value: 1, message: 'z' },
    ];
    expect(list.sort(compareFieldErrors).map((e) => `${e.path}/${e.message}`)).toEqual([
      'spec.mode/z',
      'spec.mode/z',
      'spec.version/a',
      'spec.version/b',
    ]);
  });
});
