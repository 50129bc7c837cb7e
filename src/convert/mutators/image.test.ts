import { describe, expect, it } from 'vitest';
import { mustParseVersion } from '../../api/version.js';
import { makeSpec, runPure, simpleTemplate } from '../testdata/helpers.js';
import type { MutationContext } from '../types.js';
import { retargetCniImages, retargetImage } from './image.js';

describe('retargetImage', () => {
  it.each([
    ['kube-apiserver', 'v1.36.4', 'registry.k8s.io/kube-apiserver:v1.36.4'],
    ['etcd', 'v1.37.2', 'registry.k8s.io/etcd:3.7.0-0'],
  ] as const)('%s → %s', (component, target, want) => {
    const { template, ctx } = simpleTemplate(component, []);
    const t = component === 'etcd' ? { spec: { containers: [{ name: 'etcd', image: 'registry.k8s.io/etcd:3.6.6-0' }] } } : template;
    const out = runPure(retargetImage, t, { ...ctx, target: mustParseVersion(target) });
    expect(out.spec?.containers[0]?.image).toBe(want);
  });

  it('touches only the main container', () => {
    const { ctx } = simpleTemplate('kube-apiserver', []);
    const t = { spec: { containers: [{ name: 'side', image: 's:1' }, { name: 'kube-apiserver', image: 'x:v1.35.5' }] } };
    const out = runPure(retargetImage, t, { ...ctx, target: mustParseVersion('v1.36.4') });
    // No spec.imageRepository: the registry stays the one in use (here none: Docker Hub's library).
    expect(out.spec?.containers.map((c) => c.image)).toEqual(['s:1', 'kube-apiserver:v1.36.4']);
  });
});

describe('retargetCniImages', () => {
  const t = {
    spec: {
      initContainers: [{ name: 'install', image: 'docker.io/flannel/flannel-cni-plugin:v1.5.1' }],
      containers: [
        { name: 'agent', image: 'docker.io/flannel/flannel:v0.26.0' },
        { name: 'helper', image: 'docker.io/flannel/flannel:v0.26.0' },
      ],
    },
  };
  it('no image: unchanged', () => {
    expect(retargetCniImages(t, undefined)).toEqual(t);
  });
  it('same repository: every matching container, init containers included', () => {
    const out = retargetCniImages(t, 'docker.io/flannel/flannel:v0.27.0');
    expect(out.spec?.containers.map((c) => c.image)).toEqual(['docker.io/flannel/flannel:v0.27.0', 'docker.io/flannel/flannel:v0.27.0']);
    expect(out.spec?.initContainers?.[0]?.image).toBe('docker.io/flannel/flannel-cni-plugin:v1.5.1');
  });
  it('another repository: the first container', () => {
    const out = retargetCniImages(t, 'mirror.example.com/flannel:v0.27.0');
    expect(out.spec?.containers.map((c) => c.image)).toEqual(['mirror.example.com/flannel:v0.27.0', 'docker.io/flannel/flannel:v0.26.0']);
  });
  it('via retargetImage: overrides.cni.image wins over spec.cni.image', () => {
    const { ctx } = simpleTemplate('cni', []);
    const spec = makeSpec({ cni: { namespace: 'kube-system', image: 'docker.io/flannel/flannel:v1' }, overrides: { cni: { image: 'docker.io/flannel/flannel:v2' } } });
    const c: MutationContext = { ...ctx, spec, commandLayout: { kind: 'raw' }, mainContainer: 'agent' };
    expect(runPure(retargetImage, t, c).spec?.containers[0]?.image).toBe('docker.io/flannel/flannel:v2');
  });
});
