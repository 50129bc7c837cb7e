import { describe, expect, it } from 'vitest';
import { runPure, simpleTemplate } from '../testdata/helpers.js';
import { dropNodeLocalAnnotations, isNodeLocalAnnotation, stripStaticPodFields } from './strip.js';

describe('stripStaticPodFields', () => {
  const { ctx } = simpleTemplate('kube-apiserver', []);
  it.each([
    [
      'mirror pod metadata and kubelet annotations',
      {
        metadata: {
          name: 'kube-apiserver-cp1',
          namespace: 'kube-system',
          uid: 'u',
          creationTimestamp: null as unknown as Date,
          ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: 'cp1', uid: 'n' }],
          labels: { component: 'kube-apiserver' },
          annotations: {
            'kubernetes.io/config.hash': 'h',
            'kubernetes.io/config.mirror': 'h',
            'kubernetes.io/config.seen': 't',
            'kubernetes.io/config.source': 'file',
            'selfhost.dev/template-hash': 'old',
            'keep.me/x': 'y',
          },
        },
        spec: { nodeName: 'cp1', priority: 2000001000, priorityClassName: 'system-node-critical', containers: [{ name: 'c' }] },
      },
      {
        metadata: { labels: { component: 'kube-apiserver' }, annotations: { 'keep.me/x': 'y' } },
        spec: { priorityClassName: 'system-node-critical', containers: [{ name: 'c' }] },
      },
    ],
    [
      'only kubelet annotations: annotations go',
      { metadata: { annotations: { 'kubernetes.io/config.hash': 'h' } }, spec: { containers: [{ name: 'c' }] } },
      { metadata: {}, spec: { containers: [{ name: 'c' }] } },
    ],
    ['nothing to strip', { spec: { containers: [{ name: 'c' }] } }, { metadata: {}, spec: { containers: [{ name: 'c' }] } }],
    ['no spec', { metadata: { labels: { a: 'b' } } }, { metadata: { labels: { a: 'b' } } }],
  ])('%s', (_name, input, want) => {
    expect(runPure(stripStaticPodFields, input, ctx)).toEqual(want);
  });
});

describe('dropNodeLocalAnnotations', () => {
  const { ctx } = simpleTemplate('etcd', []);
  it('drops kubeadm advertise annotations only', () => {
    const input = {
      metadata: {
        annotations: {
          'kubeadm.kubernetes.io/etcd.advertise-client-urls': 'https://192.0.2.10:2379',
          'kubeadm.kubernetes.io/kube-apiserver.advertise-address.endpoint': '192.0.2.10:6443',
          'kubeadm.kubernetes.io/other': 'kept',
        },
      },
    };
    expect(runPure(dropNodeLocalAnnotations, input, ctx)).toEqual({
      metadata: { annotations: { 'kubeadm.kubernetes.io/other': 'kept' } },
    });
    expect(runPure(dropNodeLocalAnnotations, {}, ctx)).toEqual({});
  });
  it('isNodeLocalAnnotation', () => {
    expect(isNodeLocalAnnotation('kubeadm.kubernetes.io/etcd.advertise-client-urls')).toBe(true);
    expect(isNodeLocalAnnotation('example.com/advertise')).toBe(false);
  });
});
