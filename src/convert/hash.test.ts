import { describe, expect, it } from 'vitest';
import { buildWorkload, stampTemplateHash, workloadName } from './build.js';
import { canonicalJson, computeTemplateHash, sha256Hex, toPlainJson } from './hash.js';
import { formatRefusal, makeRefusal } from './refusal.js';

describe('canonicalJson', () => {
  it('sorts keys recursively, drops undefined, keeps array order', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, 1, { z: 1, y: undefined }], c: null }, u: undefined })).toBe(
      '{"a":{"c":null,"d":[3,1,{"z":1}]},"b":1}',
    );
    expect(canonicalJson([undefined, () => 1])).toBe('[null,null]');
    expect(canonicalJson(undefined)).toBe('null');
    expect(canonicalJson({ t: new Date('2025-01-01T00:00:00Z') })).toBe('{"t":"2025-01-01T00:00:00.000Z"}');
  });
  it('refuses values JSON cannot hold', () => {
    expect(() => canonicalJson({ a: Number.NaN })).toThrow(/\$\.a is NaN/);
    expect(() => canonicalJson({ a: 1n })).toThrow(/bigint/);
  });
  it('toPlainJson / sha256Hex', () => {
    expect(Object.keys(toPlainJson({ b: 1, a: 2 }))).toEqual(['a', 'b']);
    expect(sha256Hex('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });
});

describe('template hash', () => {
  it('ignores its own annotation and key order', () => {
    const t = { metadata: { labels: { a: '1' } }, spec: { containers: [{ name: 'c', image: 'i' }] } };
    const h = computeTemplateHash(t);
    const stamped = stampTemplateHash(t);
    expect(stamped.templateHash).toBe(h);
    expect(stamped.template.metadata?.annotations).toEqual({ 'selfhost.dev/template-hash': h });
    expect(computeTemplateHash(stamped.template)).toBe(h);
    expect(computeTemplateHash({ spec: { containers: [{ image: 'i', name: 'c' }] }, metadata: { labels: { a: '1' } } })).toBe(h);
    const withOther = { ...t, metadata: { ...t.metadata, annotations: { x: 'y', 'selfhost.dev/template-hash': 'stale' } } };
    expect(computeTemplateHash(withOther)).not.toBe(h);
    expect(stampTemplateHash(withOther).template.metadata?.annotations?.['x']).toBe('y');
  });
});

describe('buildWorkload', () => {
  it('names and replicas', () => {
    expect(workloadName('kube-apiserver')).toBe('selfhost-kube-apiserver');
    const { workload } = buildWorkload({
      component: 'kube-scheduler',
      template: { spec: { containers: [{ name: 'c' }] } },
      sourceManifest: '/m/s.yaml',
      sourceHash: 'h',
      replicas: 2,
    });
    expect(workload.kind).toBe('Deployment');
    expect(workload.spec && 'replicas' in workload.spec ? workload.spec.replicas : undefined).toBe(2);
  });
});

describe('refusals', () => {
  it('formats and shortens', () => {
    const r = makeRefusal('UnsafeCommand', '/m/a.yaml', 'why', { field: 'f', value: 'x'.repeat(400) });
    expect(r.value).toHaveLength(301);
    expect(formatRefusal(r)).toMatch(/^\/m\/a\.yaml: f: why \(value "x+…"\) \[UnsafeCommand\]$/);
    expect(formatRefusal(makeRefusal('NotAPod', '/m/b', 'no'))).toBe('/m/b: no [NotAPod]');
    expect(Object.keys(makeRefusal('NotAPod', '/m/b', 'no', { component: undefined }))).toEqual(['code', 'manifest', 'reason']);
  });
});
