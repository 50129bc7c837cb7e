/**
 * What every tier-node test checks after an unpivot: kubeadm's four static pods at `version`, and
 * nothing of selfhost in the cluster or on the node but what docs/design.md lists (the etcd snapshots).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { expect } from 'vitest';
import { kubectl } from './pivot.js';

export const STATIC_COMPONENTS = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler'];

export function expectNothingOfSelfhostLeft(version: string): void {
  const leftover = kubectl(['-n', 'kube-system', 'get', 'daemonsets,deployments,configmaps,jobs', '-o', 'name']);
  expect(leftover.out.split('\n').filter((n) => /selfhost-(agent|etcd|kube-|revisions)/.test(n))).toEqual([]);
  const listing = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir) : []);
  expect(listing('/etc/kubernetes/manifests').sort()).toEqual(STATIC_COMPONENTS.map((c) => `${c}.yaml`));
  expect({ backups: listing('/etc/kubernetes/selfhost/backup'), bin: listing('/etc/kubernetes/selfhost/bin') }).toEqual({ backups: [], bin: [] });
  for (const component of STATIC_COMPONENTS) {
    const manifest = readFileSync(`/etc/kubernetes/manifests/${component}.yaml`, 'utf8');
    expect(manifest, component).not.toMatch(/selfhost-gate|permit-port-sharing|selfhost\.dev/);
    if (component !== 'etcd') expect(manifest).toContain(`/${component}:${version}`);
  }
}
