import type { ErrorObject } from 'ajv';
import { describe, expect, it } from 'vitest';
import { computeAjvFieldErrors, computeFieldPath, computeTypeText } from './ajv-errors.js';

describe('computeFieldPath', () => {
  const data = {
    spec: {
      overrides: { 'kube-apiserver': { extraArgs: [{ name: 'x' }], resources: { requests: { 'hugepages-2Mi': 1 } } } },
      cni: { selector: { 'app.kubernetes.io/name': 'x' } },
    },
  };
  it.each([
    ['', ''],
    ['/spec', 'spec'],
    ['/spec/overrides/kube-apiserver/extraArgs/0/name', 'spec.overrides.kube-apiserver.extraArgs[0].name'],
    ['/spec/overrides/kube-apiserver/resources/requests/hugepages-2Mi', 'spec.overrides.kube-apiserver.resources.requests.hugepages-2Mi'],
    ['/spec/cni/selector/app.kubernetes.io~1name', 'spec.cni.selector.app.kubernetes.io/name'],
    ['/spec/unknown/deeper', 'spec.unknown.deeper'],
  ])('%s → %s', (pointer, want) => {
    expect(computeFieldPath(pointer, data)).toBe(want);
  });
});

describe('computeTypeText', () => {
  it.each<[unknown, string]>([
    [{ type: 'string' }, 'string'],
    [{ type: ['integer', 'string'] }, 'integer or string'],
    [{ type: 'string', enum: ['A', 'B'] }, 'string, one of: "A", "B"'],
    [{ type: 'array', items: { type: 'string', enum: ['a'] } }, 'array of: "a"'],
    [{ type: 'array', items: { type: 'object' } }, 'array of object'],
    [undefined, 'a valid value'],
  ])('%j → %s', (schema, want) => {
    expect(computeTypeText(schema)).toBe(want);
  });
});

describe('computeAjvFieldErrors', () => {
  const base: ErrorObject = { keyword: 'x', instancePath: '/spec/version', schemaPath: '#', params: {}, data: 'v', parentSchema: {} };
  it.each<[Partial<ErrorObject>, string]>([
    [{ keyword: 'minLength', params: { limit: 1 } }, 'must not be empty'],
    [{ keyword: 'minLength', params: { limit: 3 } }, 'must be at least 3 characters'],
    [{ keyword: 'maxItems', params: { limit: 2 } }, 'must have at most 2 item(s)'],
    [{ keyword: 'maxProperties', params: { limit: 16 } }, 'must have at most 16 entries'],
    [{ keyword: 'minProperties', params: { limit: 2 } }, 'must have at least 2 entries'],
    [{ keyword: 'maximum', params: { limit: 9, comparison: '<=' } }, 'must be <= 9'],
    [{ keyword: 'format', params: { format: 'int32' } }, 'must be a 32-bit integer'],
    [{ keyword: 'format', params: { format: 'uuid' } }, 'must be in format uuid'],
    [{ keyword: 'pattern', params: { pattern: '^x$' } }, 'must match ^x$'],
    [{ keyword: 'enum', params: {} }, 'must be one of: '],
    [{ keyword: 'const', params: {}, message: 'must be equal to constant' }, 'must be equal to constant'],
    [{ keyword: 'oddity', params: {} }, 'is invalid (oddity)'],
  ])('%j', (patch, message) => {
    const [e] = computeAjvFieldErrors([{ ...base, ...patch }], { spec: { version: 'v' } });
    expect(e).toEqual({ path: 'spec.version', value: 'v', message });
  });

  it('drops duplicates', () => {
    const e = { ...base, keyword: 'maxItems', params: { limit: 2 } };
    expect(computeAjvFieldErrors([e, e], {})).toHaveLength(1);
  });
});
