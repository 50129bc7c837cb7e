/** Release tables and observed-state builders for the planner's tests (not the real table). */
import type { MinorRelease } from '../../versions/table.js';
import type { InstanceVersion, ObservedVersions } from '../types.js';

const release = (minor: string, etcdImageTag: string): MinorRelease => ({
  minor,
  etcdImageTag,
  pauseImageTag: '3.10',
  flagChanges: {},
});

/** Three minors, all on etcd 3.6, each pairing a newer patch. */
export const TABLE: readonly MinorRelease[] = [
  release('1.35', '3.6.4-0'),
  release('1.36', '3.6.5-0'),
  release('1.37', '3.6.6-0'),
];

/** Shaped like the real table at the time of writing: 1.37 moves etcd to 3.7 from a 3.6 below its floor. */
export const TABLE_ETCD_37: readonly MinorRelease[] = [
  release('1.35', '3.6.6-0'),
  release('1.36', '3.6.8-0'),
  release('1.37', '3.7.0-0'),
];

/** A table whose older minors pair etcd 3.5, to exercise the 3.5→3.6 path. */
export const TABLE_ETCD_35: readonly MinorRelease[] = [
  release('1.35', '3.5.21-0'),
  release('1.36', '3.5.21-0'),
  release('1.37', '3.6.5-0'),
];

/** Versions per node: `{ cp1: 'v1.36.4', cp2: 'v1.37.2' }`, in node order. */
export type PerNode = Readonly<Record<string, string>>;

export function instances(perNode: PerNode): InstanceVersion[] {
  return Object.entries(perNode).map(([node, version]) => ({ node, version }));
}

export interface ClusterShape {
  readonly api?: PerNode;
  readonly kcm?: PerNode;
  readonly sched?: PerNode;
  readonly etcd?: PerNode;
  readonly proxy?: string;
}

export function cluster(shape: ClusterShape): ObservedVersions {
  return {
    ...(shape.etcd ? { etcd: instances(shape.etcd) } : {}),
    ...(shape.api ? { 'kube-apiserver': instances(shape.api) } : {}),
    ...(shape.kcm ? { 'kube-controller-manager': instances(shape.kcm) } : {}),
    ...(shape.sched ? { 'kube-scheduler': instances(shape.sched) } : {}),
    ...(shape.proxy !== undefined ? { 'kube-proxy': shape.proxy } : {}),
  };
}

/** Every Kubernetes component at `version` on the given nodes, etcd at `etcd`. */
export function uniform(version: string, etcd: string, nodes: readonly string[] = ['cp1']): ObservedVersions {
  const at = (v: string): PerNode => Object.fromEntries(nodes.map((n) => [n, v]));
  return cluster({ api: at(version), kcm: at(version), sched: at(version), etcd: at(etcd), proxy: version });
}
