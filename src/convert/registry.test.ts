import { describe, expect, it } from 'vitest';
import { effectiveImageRepository } from './registry.js';

describe('effectiveImageRepository', () => {
  it.each<[string, string | undefined, string, string]>([
    ['the source registry, unset', undefined, 'registry.example.internal/google_containers/kube-apiserver:v1.37.2', 'registry.example.internal/google_containers/'],
    ['a registry with a port', undefined, 'mirror.example:5000/k8s/etcd:3.7.0-0@sha256:abc', 'mirror.example:5000/k8s/'],
    ['kubeadm default in use', undefined, 'registry.k8s.io/kube-scheduler:v1.37.2', 'registry.k8s.io/'],
    ['no registry path (Docker Hub library) stays so', undefined, 'kube-apiserver:v1.37.2', ''],
    ['no image at all: kubeadm’s default', undefined, '', 'registry.k8s.io/'],
    ['spec.imageRepository set: the user asked for a move', 'mirror.example.com/k8s', 'registry.k8s.io/kube-apiserver:v1.37.2', 'mirror.example.com/k8s/'],
  ])('%s', (_name, spec, current, want) => {
    expect(effectiveImageRepository(spec, current)).toBe(want);
  });
});
