/** Shared test inputs: the sample (the README's reference example) and builders around it. */
import { readFileSync } from 'node:fs';
import { load } from 'js-yaml';
import type { ControlPlane } from '../types.js';

export const SAMPLE_PATH = new URL('../../../deploy/samples/controlplane.yaml', import.meta.url);

/** The sample as parsed YAML: a fresh copy each call, so tests can change it freely. */
export function loadSample(): Record<string, unknown> {
  const doc: unknown = load(readFileSync(SAMPLE_PATH, 'utf8'));
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new Error(`${SAMPLE_PATH.pathname}: not a mapping`);
  return { ...doc };
}

/** A minimal valid object: what a user must write at least. */
export function minimal(version = 'v1.37.2'): Record<string, unknown> {
  return { apiVersion: 'selfhost.dev/v1alpha1', kind: 'ControlPlane', metadata: { name: 'cluster' }, spec: { version } };
}

/** A stored (defaulted) object, optionally with status, as the version rule sees oldSelf. */
export function stored(version: string, status?: ControlPlane['status']): ControlPlane {
  return {
    apiVersion: 'selfhost.dev/v1alpha1',
    kind: 'ControlPlane',
    metadata: { name: 'cluster' },
    spec: {
      version,
      mode: 'SelfHosted',
      imageRepository: 'registry.k8s.io',
      paused: false,
      components: ['cni', 'kube-proxy', 'kube-scheduler', 'kube-controller-manager', 'kube-apiserver', 'etcd'],
      etcd: { snapshotBeforeUpgrade: true, snapshotRetention: 3 },
      cni: { namespace: 'kube-system' },
      upgrade: { healthTimeout: '5m', autoRollback: true },
    },
    ...(status === undefined ? {} : { status }),
  };
}
