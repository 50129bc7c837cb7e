/**
 * The intermediate etcd of an upgrade (pure). etcd enters a new minor only from the documented
 * patch floor of the one before (3.7 from 3.6.11 or newer); when spec.version's release lists a
 * published patch for that (MinorRelease.etcdUpgradeVia), the rollout runs etcd there first:
 *   1. while etcd's proven revision is below the floor, its target is the target at spec.version
 *      with etcd at the published patch (computeDesiredState's etcdVersion): applied, replaced
 *      member by member, health-gated and recorded like any step;
 *   2. once that revision is proven, the floor holds and the target is spec.version's own etcd.
 * Derived from the proven revision alone, so a restarted operator picks the same hop.
 */
import { parseVersion } from '../api/version.js';
import { computeEtcdViaVersion } from '../plan/etcd.js';
import { findRelease } from '../plan/releases.js';
import { RELEASES, type MinorRelease } from '../versions/table.js';
import { computeDesiredState, type DesiredComponent, type DesiredState } from './desired.js';
import type { Snapshot } from './snapshot.js';
import { computePodVersion } from './status.js';

export function computeEtcdVia(snap: Snapshot, target: DesiredState, releases: readonly MinorRelease[] = RELEASES): string | undefined {
  const proven = snap.revisions.get('etcd')?.version;
  const etcd = target.components.find((c) => c.name === 'etcd');
  const spec = etcd === undefined ? undefined : (etcd.object['spec'] as { template?: { spec?: { containers?: { image?: string }[] } } } | undefined);
  const to = computePodVersion('etcd', spec?.template?.spec?.containers?.[0]?.image);
  const version = parseVersion(snap.controlPlane.spec.version);
  const release = version === undefined ? undefined : findRelease(releases, version);
  if (proven === undefined || to === undefined || release === undefined) return undefined;
  return computeEtcdViaVersion([proven], to, release);
}

/** etcd's object at the published patch, when the rollout must step through one (else undefined). */
export function computeDesiredEtcdVia(snap: Snapshot, target: DesiredState, image: string, releases: readonly MinorRelease[] = RELEASES): DesiredComponent | undefined {
  const version = computeEtcdVia(snap, target, releases);
  if (version === undefined) return undefined;
  return computeDesiredState(snap, { image, atVersion: snap.controlPlane.spec.version, etcdVersion: version }).components.find((c) => c.name === 'etcd');
}
