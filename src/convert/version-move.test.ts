import { describe, expect, it } from 'vitest';
import type { ComponentName } from '../api/types.js';
import { mustParseVersion, parseVersion } from '../api/version.js';
import { RefusalError, type Refusal } from './refusal.js';
import { TEST_RELEASES } from './testdata/helpers.js';
import { checkVersionMove, describeKubeadmPath, type VersionMove } from './version-move.js';

function move(component: ComponentName, image: string, over: Partial<VersionMove> = {}): VersionMove {
  const tag = image.slice(image.lastIndexOf(':') + 1);
  return {
    component,
    manifest: `/m/${component}.yaml`,
    image,
    imageField: 'spec.containers[0].image',
    source: parseVersion(tag),
    target: mustParseVersion('v1.37.2'),
    apiserverNow: mustParseVersion('v1.37.2'),
    apiserverAfter: mustParseVersion('v1.37.2'),
    releases: TEST_RELEASES,
    imageOverridden: false,
    ...over,
  };
}

function refusalOf(m: VersionMove): Refusal | undefined {
  try {
    checkVersionMove(m);
    return undefined;
  } catch (error) {
    if (error instanceof RefusalError) return error.refusal;
    throw error;
  }
}

describe('describeKubeadmPath', () => {
  it.each([
    ['v1.34.1', 'kubeadm upgrade apply v1.35.x'],
    ['v1.32.4', 'kubeadm upgrade apply v1.33.x, then v1.34.x, then v1.35.x'],
    ['v1.15.4', 'kubeadm upgrade apply v1.16.x, then each next minor up to v1.35.x (20 upgrades)'],
    ['v1.35.0', ''],
  ])('%s → %s', (from, want) => {
    expect(describeKubeadmPath(mustParseVersion(from), { major: 1, minor: 35 })).toBe(want);
  });
});

describe('checkVersionMove', () => {
  const v = mustParseVersion;
  it.each<[string, VersionMove, Partial<Refusal> | undefined]>([
    ['the running version', move('kube-apiserver', 'r/kube-apiserver:v1.37.2'), undefined],
    ['one minor up', move('kube-scheduler', 'r/kube-scheduler:v1.36.4'), undefined],
    ['one minor back (a rollback)', move('kube-scheduler', 'r/kube-scheduler:v1.37.2', { target: v('v1.36.4') }), undefined],
    ['two minors up', move('kube-scheduler', 'r/kube-scheduler:v1.35.5'), { code: 'UnsupportedVersion', field: 'spec.version', value: 'v1.37.2' }],
    ['a source minor outside the table', move('kube-apiserver', 'r/kube-apiserver:v1.34.1'), { code: 'UnsupportedVersion', field: 'spec.containers[0].image', value: 'r/kube-apiserver:v1.34.1' }],
    ['a target outside the table', move('kube-apiserver', 'r/kube-apiserver:v1.37.2', { target: v('v1.38.0') }), { code: 'UnsupportedVersion', field: 'spec.version', value: 'v1.38.0' }],
    ['an unreadable kube-* tag', move('kube-apiserver', 'r/kube-apiserver:1.37'), { code: 'UnknownSourceVersion', value: 'r/kube-apiserver:1.37' }],
    ['etcd with an etcd tag', move('etcd', 'r/etcd:3.7.0-0', { source: v('v1.37.2') }), undefined],
    ['etcd tagged latest', move('etcd', 'r/etcd:latest', { source: v('v1.37.2') }), { code: 'UnknownSourceVersion', value: 'r/etcd:latest' }],
    ['etcd of no known Kubernetes', move('etcd', 'r/etcd:3.4.0-0', { source: undefined }), { code: 'UnknownSourceVersion', value: 'r/etcd:3.4.0-0' }],
    ['kube-proxy 2 minors behind', move('kube-proxy', 'r/kube-proxy:v1.35.5'), undefined],
    ['kube-proxy 22 minors behind', move('kube-proxy', 'r/kube-proxy:v1.15.4'), { code: 'UnsupportedVersion', field: 'spec.containers[0].image' }],
    ['kube-proxy newer than the apiserver', move('kube-proxy', 'r/kube-proxy:v1.37.2', { apiserverNow: v('v1.36.4'), apiserverAfter: v('v1.36.4'), target: v('v1.36.4') }), { code: 'UnsupportedVersion', field: 'spec.containers[0].image' }],
    ['kube-proxy moved past an apiserver that stays', move('kube-proxy', 'r/kube-proxy:v1.36.4', { apiserverNow: v('v1.36.4'), apiserverAfter: v('v1.36.4') }), { code: 'UnsupportedVersion', field: 'spec.version', value: 'v1.37.2' }],
    ['kube-proxy without an apiserver: the table only', move('kube-proxy', 'r/kube-proxy:v1.35.5', { apiserverNow: undefined, apiserverAfter: undefined }), undefined],
    ['kube-proxy with an image override: the user’s choice', move('kube-proxy', 'r/kube-proxy:v1.15.4', { imageOverridden: true }), undefined],
    ['cni: no version rules', move('cni', 'docker.io/flannel/flannel:v0.26.0'), undefined],
  ])('%s', (_name, m, want) => {
    const got = refusalOf(m);
    if (want === undefined) expect(got).toBeUndefined();
    else expect(got).toMatchObject({ manifest: m.manifest, component: m.component, ...want });
  });

  it('says what is allowed and how to get there', () => {
    expect(refusalOf(move('kube-apiserver', 'r/kube-apiserver:v1.34.1'))?.reason).toBe(
      'kube-apiserver runs v1.34.1, and selfhost has release data for v1.35–v1.37 only; upgrade the cluster with kubeadm into the supported range first, one minor at a time: kubeadm upgrade apply v1.35.x',
    );
    expect(refusalOf(move('kube-apiserver', 'r/kube-apiserver:v1.38.1', { target: v('v1.38.1') }))?.reason).toBe(
      'kube-apiserver runs v1.38.1, and selfhost has release data for v1.35–v1.37 only; a newer selfhost release is needed for v1.38',
    );
    expect(refusalOf(move('kube-apiserver', 'r/kube-apiserver:v2.0.0'))?.reason).toMatch(/upgrade the cluster with kubeadm into the supported range first$|a newer selfhost release/);
  });
});
