import { describe, expect, it } from 'vitest';
import { mustParseVersion } from '../api/version.js';
import { compareEtcdTags, etcdImageTagFor, kubernetesVersionOfImage, parseEtcdTag, parseImageRef } from './images.js';
import { computeFlagChangeSteps, computeTargetImage, describeRange } from './retarget.js';
import { RefusalError } from './refusal.js';
import { makeSpec, TEST_RELEASES } from './testdata/helpers.js';

const v = mustParseVersion;
const where = { manifest: '/m/x.yaml', component: 'kube-apiserver' as const };

function refusalOf(fn: () => unknown) {
  try {
    fn();
  } catch (error) {
    if (error instanceof RefusalError) return error.refusal;
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('images', () => {
  it.each([
    ['registry.k8s.io/kube-apiserver:v1.35.5', { repository: 'registry.k8s.io/kube-apiserver', tag: 'v1.35.5' }],
    ['localhost:5000/etcd:3.6.6-0', { repository: 'localhost:5000/etcd', tag: '3.6.6-0' }],
    ['localhost:5000/etcd', { repository: 'localhost:5000/etcd' }],
    ['r.io/x:1@sha256:abc', { repository: 'r.io/x', tag: '1', digest: 'sha256:abc' }],
    ['r.io/x@sha256:abc', { repository: 'r.io/x', digest: 'sha256:abc' }],
  ])('parseImageRef(%s)', (image, want) => {
    expect(parseImageRef(image)).toEqual(want);
  });

  it('reads the Kubernetes version of an image tag', () => {
    expect(kubernetesVersionOfImage('r/kube-apiserver:v1.35.5')).toEqual(v('v1.35.5'));
    expect(kubernetesVersionOfImage('r/kube-apiserver:v1.35.5-corp.1')).toEqual(v('v1.35.5'));
    expect(kubernetesVersionOfImage('r/kube-apiserver:latest')).toBeUndefined();
    expect(kubernetesVersionOfImage('r/kube-apiserver@sha256:x')).toBeUndefined();
  });

  it('etcd tags', () => {
    expect(parseEtcdTag('3.6.6-0')).toEqual([3, 6, 6, 0]);
    expect(parseEtcdTag('v3.6.6')).toEqual([3, 6, 6, 0]);
    expect(parseEtcdTag('TODO')).toBeUndefined();
    expect(compareEtcdTags([3, 6, 6, 1], [3, 6, 6, 0])).toBeGreaterThan(0);
    expect(etcdImageTagFor('3.6.8')).toBe('3.6.8-0');
    expect(etcdImageTagFor('v3.6.8')).toBe('3.6.8-0');
    expect(etcdImageTagFor('3.6.8-1')).toBe('3.6.8-1');
  });
});

describe('computeTargetImage', () => {
  const spec = makeSpec({ imageRepository: 'mirror.example.com/k8s' });
  it.each([
    ['kube-apiserver', 'registry.k8s.io/kube-apiserver:v1.35.5', 'v1.36.4', 'mirror.example.com/k8s/kube-apiserver:v1.36.4'],
    ['kube-proxy', 'registry.k8s.io/kube-proxy:v1.35.5', 'v1.37.2', 'mirror.example.com/k8s/kube-proxy:v1.37.2'],
    ['etcd', 'registry.k8s.io/etcd:3.6.6-0', 'v1.37.2', 'mirror.example.com/k8s/etcd:3.7.0-0'],
    // kubeadm's pairing only moves etcd forward: going back keeps the newer etcd.
    ['etcd', 'registry.k8s.io/etcd:3.7.0-0', 'v1.35.5', 'mirror.example.com/k8s/etcd:3.7.0-0'],
    ['cni', 'docker.io/flannel/flannel:v0.26.0', 'v1.37.2', 'docker.io/flannel/flannel:v0.26.0'],
  ] as const)('%s %s → %s', (component, current, target, want) => {
    expect(computeTargetImage(component, current, spec, v(target), TEST_RELEASES, where)).toBe(want);
  });

  it('an override image wins; spec.etcd.version picks the etcd tag', () => {
    const over = makeSpec({ overrides: { 'kube-apiserver': { image: 'me/apiserver:custom' } } });
    expect(computeTargetImage('kube-apiserver', 'x', over, v('v9.9.9'), TEST_RELEASES, where)).toBe('me/apiserver:custom');
    const etcd = makeSpec({ etcd: { version: '3.6.9', snapshotBeforeUpgrade: true, snapshotRetention: 3 } });
    expect(computeTargetImage('etcd', 'r/etcd:3.6.6-0', etcd, v('v1.35.5'), TEST_RELEASES, where)).toBe('r/etcd:3.6.9-0');
  });

  it('refuses an explicit etcd downgrade, an unknown minor and a bad table entry', () => {
    const down = makeSpec({ etcd: { version: '3.5.21', snapshotBeforeUpgrade: true, snapshotRetention: 3 } });
    expect(refusalOf(() => computeTargetImage('etcd', 'r/etcd:3.6.6-0', down, v('v1.35.5'), TEST_RELEASES, where))).toMatchObject({
      code: 'EtcdDowngrade',
      field: 'spec.etcd.version',
    });
    const bad = makeSpec({ etcd: { version: 'latest', snapshotBeforeUpgrade: true, snapshotRetention: 3 } });
    expect(refusalOf(() => computeTargetImage('etcd', 'r/etcd:3.6.6-0', bad, v('v1.35.5'), TEST_RELEASES, where)).code).toBe(
      'UnsupportedVersion',
    );
    expect(refusalOf(() => computeTargetImage('kube-apiserver', 'x', makeSpec(), v('v1.40.0'), TEST_RELEASES, where))).toMatchObject({
      code: 'UnsupportedVersion',
      reason: expect.stringContaining('supported: v1.35–v1.37'),
      value: 'v1.40.0',
    });
    const todo = [{ minor: '1.35', etcdImageTag: 'TODO', pauseImageTag: 'TODO', flagChanges: {} }];
    expect(refusalOf(() => computeTargetImage('etcd', 'r/etcd:3.6.6-0', makeSpec(), v('v1.35.5'), todo, where)).reason).toMatch(
      /no usable etcd image tag/,
    );
  });
});

describe('computeFlagChangeSteps', () => {
  it('one minor at a time, in order', () => {
    expect(computeFlagChangeSteps('kube-apiserver', v('v1.35.5'), v('v1.37.2'), TEST_RELEASES, where)).toEqual([
      { kind: 'rename', from: 'old-flag', to: 'new-flag', reason: 'renamed in 1.36' },
      { kind: 'set', flag: 'new-default', value: 'on', reason: 'kubeadm sets it from 1.37' },
    ]);
    expect(computeFlagChangeSteps('kube-apiserver', v('v1.36.0'), v('v1.36.4'), TEST_RELEASES, where)).toEqual([]);
    expect(computeFlagChangeSteps('kube-proxy', undefined, v('v1.37.2'), TEST_RELEASES, where)).toEqual([]);
    expect(computeFlagChangeSteps('cni', undefined, v('v1.37.2'), TEST_RELEASES, where)).toEqual([]);
  });

  it('a downgrade inverts renames; etcd is never downgraded', () => {
    expect(computeFlagChangeSteps('kube-apiserver', v('v1.36.4'), v('v1.35.5'), TEST_RELEASES, where)).toEqual([
      { kind: 'rename', from: 'new-flag', to: 'old-flag', reason: 'undo: renamed in 1.36' },
    ]);
    expect(computeFlagChangeSteps('etcd', v('v1.37.2'), v('v1.35.5'), TEST_RELEASES, where)).toEqual([]);
  });

  it.each([
    ['kube-apiserver', 'v1.37.2', 'v1.36.4', 'IrreversibleFlagChange', /undo "set --new-default"/],
    ['kube-scheduler', 'v1.36.4', 'v1.35.5', 'IrreversibleFlagChange', /remove --gone-in-136/],
    ['kube-apiserver', 'v1.33.0', 'v1.35.5', 'UnsupportedVersion', /crosses v1\.34/],
    ['kube-apiserver', 'v2.35.0', 'v1.35.5', 'UnsupportedVersion', /major/],
  ] as const)('%s %s → %s: %s', (component, from, to, code, reason) => {
    const r = refusalOf(() => computeFlagChangeSteps(component, v(from), v(to), TEST_RELEASES, { ...where, component }));
    expect(r.code).toBe(code);
    expect(r.reason).toMatch(reason);
  });

  it('an unknown source version is refused for control-plane components', () => {
    expect(refusalOf(() => computeFlagChangeSteps('kube-scheduler', undefined, v('v1.36.4'), TEST_RELEASES, where)).code).toBe(
      'UnknownSourceVersion',
    );
  });

  it('describeRange', () => {
    expect(describeRange(TEST_RELEASES)).toBe('v1.35–v1.37');
    expect(describeRange([])).toMatch(/none/);
  });
});
