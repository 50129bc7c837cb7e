/**
 * What selfhost knows about each Kubernetes minor it supports.
 *
 * Sources: `kubeadm config images list --kubernetes-version vX.Y.Z` (etcd and pause pairing) and
 * the diff of kubeadm-generated static pods between consecutive minors (flag changes), both run on
 * the fixture versions in hack/versions.sh. Extend the table when a minor is added; a version whose
 * minor is not here is refused with the supported range in the message.
 */
import type { ControlPlaneComponentName } from '../api/types.js';
import { minorKey, type Version } from '../api/version.js';

/** A change a component's flags need when it moves *to* this minor (applied in order). */
export type FlagChange =
  | { kind: 'remove'; flag: string; reason: string }
  | { kind: 'rename'; from: string; to: string; reason: string }
  | { kind: 'set'; flag: string; value: string; reason: string };

export interface MinorRelease {
  /** `1.37` */
  minor: string;
  /** etcd image tag kubeadm pairs with this minor, e.g. `3.6.5-0`. */
  etcdImageTag: string;
  /** pause image tag kubeadm pairs with this minor. */
  pauseImageTag: string;
  /**
   * etcd image tags, published beside the pairings, that an upgrade to this minor steps through
   * when etcd's own rules need them: a member must reach the documented patch floor of its minor
   * (src/plan/etcd.ts ETCD_UPGRADE_FLOORS) before it may enter the next etcd minor. Without one,
   * such an upgrade is refused and the user steps etcd through spec.etcd.version.
   */
  etcdUpgradeVia?: readonly string[];
  /** Flag changes per component when moving to this minor from the previous one. */
  flagChanges: Partial<Record<ControlPlaneComponentName, readonly FlagChange[]>>;
}

/**
 * Oldest first. etcd/pause tags: `images.txt` of each kubeadm fixture (kubeadm v1.35.5, v1.36.4,
 * v1.37.2). Flag changes: the fixtures' static pods differ between these minors only in images,
 * plus kubeadm 1.36 no longer mounting the controller-manager's flexvolume-dir; selfhost keeps the
 * user's volumes as they are, so no entry is needed. The mechanism is exercised with injected
 * tables in tests.
 */
export const RELEASES: readonly MinorRelease[] = [
  { minor: '1.35', etcdImageTag: '3.6.6-0', pauseImageTag: '3.10.1', flagChanges: {} },
  { minor: '1.36', etcdImageTag: '3.6.8-0', pauseImageTag: '3.10.2', flagChanges: {} },
  // 1.36 pairs etcd 3.6.8; etcd 3.7 wants every 3.6 member on 3.6.11 or newer first.
  { minor: '1.37', etcdImageTag: '3.7.0-0', pauseImageTag: '3.10.2', etcdUpgradeVia: ['3.6.11-0'], flagChanges: {} },
];

export function releaseFor(v: Version): MinorRelease | undefined {
  return RELEASES.find((r) => r.minor === minorKey(v));
}

/** Human-readable supported range, for refusals: `v1.35–v1.37`. */
export function supportedRange(): string {
  const first = RELEASES[0];
  const last = RELEASES[RELEASES.length - 1];
  return first && last ? `v${first.minor}–v${last.minor}` : 'none';
}
