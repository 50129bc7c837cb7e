import { describe, expect, it } from 'vitest';
import { computeDuplicateErrors } from './list-rules.js';
import type { JSONSchemaProps } from './schema-types.js';

const schema: JSONSchemaProps = {
  type: 'object',
  properties: {
    set: { type: 'array', 'x-kubernetes-list-type': 'set', items: { type: 'string' } },
    pairs: {
      type: 'array',
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['a', 'b'],
      items: { type: 'object', properties: { a: { type: 'string' }, b: { type: 'string' } } },
    },
    atomic: { type: 'array', items: { type: 'string' } },
    byName: {
      type: 'object',
      additionalProperties: { type: 'array', 'x-kubernetes-list-type': 'set', items: { type: 'integer' } },
    },
  },
};

describe('computeDuplicateErrors', () => {
  it.each<[string, unknown, unknown[]]>([
    ['no lists', { x: 1 }, []],
    ['a clean set', { set: ['a', 'b'] }, []],
    ['a set with a repeat', { set: ['a', 'b', 'a'] }, [{ path: 'set[2]', value: 'a', message: 'duplicate entry; each value may appear once' }]],
    ['atomic lists may repeat', { atomic: ['a', 'a'] }, []],
    ['a map list keyed on two fields', { pairs: [{ a: '1', b: '2' }, { a: '1', b: '3' }, { a: '1', b: '2' }] }, [{ path: 'pairs[2]', value: { a: '1', b: '2' }, message: 'duplicate entry; each a+b may appear once' }]],
    ['a map list with a non-object item (the schema reports it)', { pairs: ['x', 'x'] }, []],
    ['sets inside maps', { byName: { k: [1, 1] } }, [{ path: 'byName.k[1]', value: 1, message: 'duplicate entry; each value may appear once' }]],
    ['a list where an object is expected', [1, 1], []],
  ])('%s', (_name, value, want) => {
    expect(computeDuplicateErrors(schema, value)).toEqual(want);
  });
});
