import { describe, expect, it } from 'vitest';
import { applyDefaults } from './defaults.js';
import { SPEC_SCHEMA } from './schema.js';
import type { JSONSchemaProps } from './schema-types.js';
import { minimal } from './testdata/fixtures.js';
import { COMPONENTS } from './types.js';

const DEFAULTED_SPEC = {
  version: 'v1.37.2',
  mode: 'SelfHosted',
  paused: false,
  components: [...COMPONENTS],
  etcd: { snapshotBeforeUpgrade: true, snapshotRetention: 3 },
  cni: { namespace: 'kube-system' },
  upgrade: { healthTimeout: '5m', autoRollback: true },
};

function specOf(obj: unknown): unknown {
  return typeof obj === 'object' && obj !== null && 'spec' in obj ? obj.spec : undefined;
}

describe('applyDefaults', () => {
  it.each<[string, Record<string, unknown>, Record<string, unknown>]>([
    ['fills every default of a minimal spec, nested objects included', {}, {}],
    ['keeps values that are set', { paused: true, upgrade: { healthTimeout: '1m' } }, { paused: true, upgrade: { healthTimeout: '1m', autoRollback: true } }],
    ['fills children of a partly given object', { etcd: { snapshotRetention: 7 } }, { etcd: { snapshotBeforeUpgrade: true, snapshotRetention: 7 } }],
    ['replaces null with the default (fields are not nullable)', { mode: null, cni: null }, {}],
    ['drops null where there is no default', { overrides: null }, {}],
    ['drops nulls inside a given object', { etcd: { version: null } }, {}],
    ['keeps an explicit empty list (minItems reports it)', { components: [] }, { components: [] }],
    ['leaves overrides alone (no defaults inside)', { overrides: { etcd: { image: 'x/etcd:1' } } }, { overrides: { etcd: { image: 'x/etcd:1' } } }],
    ['leaves unknown fields for validation to refuse', { extra: 1 }, { extra: 1 }],
  ])('%s', (_name, spec, changed) => {
    const input = { ...minimal(), spec: { version: 'v1.37.2', ...spec } };
    expect(specOf(applyDefaults(input))).toEqual({ ...DEFAULTED_SPEC, ...changed });
  });

  it('does not change its input, nor share the schema’s default objects', () => {
    const input = minimal();
    const before = structuredClone(input);
    const a = applyDefaults(input);
    expect(input).toEqual(before);
    const spec = specOf(a);
    if (typeof spec === 'object' && spec !== null && 'components' in spec && Array.isArray(spec.components)) {
      spec.components.pop();
    }
    expect(specOf(applyDefaults(minimal()))).toEqual(DEFAULTED_SPEC);
  });

  it.each([[42], ['x'], [null], [undefined]])('returns the non-object %j as it is', (v) => {
    expect(applyDefaults(v)).toBe(v);
  });

  it('leaves a spec that is not an object for validation to report', () => {
    expect(applyDefaults({ spec: 'x' })).toEqual({ spec: 'x' });
  });

  it('derives from the schema: a new default appears without code changes', () => {
    const schema: JSONSchemaProps = {
      type: 'object',
      properties: {
        list: { type: 'array', items: { type: 'object', properties: { a: { type: 'string', default: 'A' } } } },
        map: {
          type: 'object',
          additionalProperties: { type: 'object', default: {}, properties: { b: { type: 'integer', default: 2 } } },
        },
        listOfDefaulted: { type: 'array', items: { type: 'string', default: 'd' } },
      },
    };
    expect(applyDefaults({ list: [{}, { a: 'x' }], map: { k: {}, n: null }, listOfDefaulted: [null, 'y'] }, schema)).toEqual({
      list: [{ a: 'A' }, { a: 'x' }],
      map: { k: { b: 2 }, n: { b: 2 } },
      listOfDefaulted: ['d', 'y'],
    });
  });

  it('uses exactly the defaults written in schema.ts', () => {
    const fromSchema = Object.fromEntries(
      Object.entries(SPEC_SCHEMA.properties ?? {}).flatMap(([k, p]) => (p.default === undefined ? [] : [[k, p.default]])),
    );
    expect(fromSchema).toEqual({ mode: 'SelfHosted', paused: false, components: [...COMPONENTS], etcd: {}, cni: {}, upgrade: {} });
  });
});
