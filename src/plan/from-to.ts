/**
 * Offline planning for `selfhost plan --from --to`: no cluster to observe, so the observed state is
 * the one a settled kubeadm cluster at `from` has — every component at `from`, etcd at the version
 * kubeadm pairs with `from`'s minor.
 */
import { COMPONENTS, type ComponentName } from '../api/types.js';
import { parseVersion } from '../api/version.js';
import { RELEASES, type MinorRelease } from '../versions/table.js';
import { refuse } from './change.js';
import { formatEtcdVersion, parseEtcdVersion } from './etcd-version.js';
import { planVersionChange } from './plan.js';
import { computeSupportedRange, findRelease } from './releases.js';
import type { InProgressOperation, ObservedVersions, PlanResult } from './types.js';

export interface FromToOptions {
  /** Managed components; default all of them. */
  readonly components?: readonly ComponentName[];
  /** Control-plane node names; default one node, `cp1`. */
  readonly controlPlaneNodes?: readonly string[];
  readonly etcdVersionOverride?: string;
  readonly snapshotBeforeUpgrade?: boolean;
  /** Pass `{ operation: 'Upgrade', fromVersion: to }` to plan the abort of an upgrade. */
  readonly inProgress?: InProgressOperation;
  readonly releases?: readonly MinorRelease[];
}

export function planFromTo(from: string, to: string, opts: FromToOptions = {}): PlanResult {
  const releases = opts.releases ?? RELEASES;
  const observed = computeUniformObserved(from, opts.controlPlaneNodes ?? ['cp1'], releases);
  if ('ok' in observed) return observed;
  return planVersionChange(
    {
      observed,
      target: to,
      components: opts.components ?? COMPONENTS,
      ...(opts.etcdVersionOverride !== undefined ? { etcdVersionOverride: opts.etcdVersionOverride } : {}),
      ...(opts.snapshotBeforeUpgrade !== undefined ? { snapshotBeforeUpgrade: opts.snapshotBeforeUpgrade } : {}),
      ...(opts.inProgress ? { inProgress: opts.inProgress } : {}),
    },
    releases,
  );
}

/** Every component at `from` on every node, etcd at `from`'s pairing in the form etcd reports. */
export function computeUniformObserved(
  from: string,
  nodes: readonly string[],
  releases: readonly MinorRelease[],
): ObservedVersions | ReturnType<typeof refuse> {
  const version = parseVersion(from);
  if (!version) {
    return refuse(
      'InvalidVersion',
      `--from ${JSON.stringify(from)} is not a version: want vMAJOR.MINOR.PATCH, e.g. v1.36.4`,
    );
  }
  const release = findRelease(releases, version);
  if (!release) {
    return refuse(
      'UnsupportedVersion',
      `--from ${from} is not supported (its etcd pairing is unknown): ` +
        `selfhost supports ${computeSupportedRange(releases)}`,
    );
  }
  const etcd = parseEtcdVersion(release.etcdImageTag);
  if (!etcd) {
    return refuse(
      'InvalidReleaseTable',
      `the release table pairs v${release.minor} with etcd image tag ${JSON.stringify(release.etcdImageTag)}, ` +
        'which is not an etcd version',
    );
  }
  const at = (v: string) => nodes.map((node) => ({ node, version: v }));
  return {
    etcd: at(formatEtcdVersion(etcd)),
    'kube-apiserver': at(from),
    'kube-controller-manager': at(from),
    'kube-scheduler': at(from),
    'kube-proxy': from,
  };
}
