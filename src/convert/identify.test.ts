import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { foreignComponentLabel, guessComponent, identifyComponent } from './identify.js';

const pod = (labels: Record<string, string>, command = ['kube-scheduler']): V1Pod => ({
  metadata: { labels },
  spec: { containers: [{ name: 'c', command }] },
});

describe('foreignComponentLabel', () => {
  it.each<[string, Record<string, string>, string | undefined]>([
    ['a second scheduler', { component: 'my-scheduler', tier: 'control-plane' }, 'my-scheduler'],
    ['kubeadm’s own component', { component: 'kube-scheduler', tier: 'control-plane' }, undefined],
    ['a component label without kubeadm’s tier is not kubeadm’s', { component: 'my-scheduler' }, undefined],
    ['selfhost’s own label wins', { component: 'my-scheduler', tier: 'control-plane', 'selfhost.dev/component': 'kube-scheduler' }, undefined],
    ['no labels', {}, undefined],
  ])('%s', (_name, labels, want) => {
    expect(foreignComponentLabel(pod(labels))).toBe(want);
  });

  it('a pod labelled as another component is not identified by its binary', () => {
    expect(identifyComponent(pod({ component: 'my-scheduler', tier: 'control-plane' }), '/m/my-scheduler.yaml')).toBeUndefined();
    expect(identifyComponent(pod({ component: 'my-scheduler' }), '/m/x.yaml')).toEqual({ component: 'kube-scheduler', by: 'binary' });
  });
});

describe('guessComponent (for refusals made before the pod is known)', () => {
  it.each<[string, unknown, string, string | undefined]>([
    ['kubeadm labels', { metadata: { labels: { component: 'kube-scheduler', tier: 'control-plane' } } }, '/m/x.yaml', 'kube-scheduler'],
    ['selfhost’s label', { metadata: { labels: { 'selfhost.dev/component': 'etcd' } } }, '/m/x.yaml', 'etcd'],
    ['another component’s labels: none, whatever the file is called', { metadata: { labels: { component: 'my-scheduler', tier: 'control-plane' } } }, '/m/kube-scheduler.yaml', undefined],
    ['the file name', { kind: 'Pod' }, '/m/kube-apiserver.yaml', 'kube-apiserver'],
    ['not YAML at all: the file name', undefined, '/m/etcd.yml', 'etcd'],
    ['nothing to go by', ['a'], '/m/web.yaml', undefined],
  ])('%s', (_name, doc, path, want) => {
    expect(guessComponent(doc, path)).toBe(want);
  });
});
