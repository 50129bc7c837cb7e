/**
 * Whether a component may be converted from the version it runs to the target version: the
 * source must be a version selfhost knows (its minor is in the release table, its image tag can
 * be read), and the move must obey the rules the upgrade planner obeys.
 *
 * - etcd, kube-apiserver, kube-controller-manager, kube-scheduler: the target is at most one minor
 *   away from what runs (kubeadm's and selfhost's one-minor-per-step rule; one back is a
 *   rollback). etcd's Kubernetes version is the cluster's (see index.ts), and its own tag must be
 *   an etcd version: an etcd of unknown version could be moved anywhere, downgrades included.
 * - kube-proxy: the version skew policy (src/plan/skew.ts): never newer than kube-apiserver, at
 *   most three minors older, both for what runs now and for what it is moved to.
 *
 * A refusal names the field, the value and what is allowed; a cluster older than the table is
 * told which kubeadm upgrades bring it into the supported range.
 */
import type { ComponentName } from '../api/types.js';
import { formatVersion, type Version } from '../api/version.js';
import { describeMinors } from '../plan/format.js';
import { MAX_MINORS_BEHIND_APISERVER } from '../plan/skew.js';
import type { MinorRelease } from '../versions/table.js';
import { parseEtcdTag, parseImageRef } from './images.js';
import { describeRange, releaseForVersion, requireTargetRelease } from './retarget.js';
import { refuse } from './refusal.js';

export interface VersionMove {
  readonly component: ComponentName;
  readonly manifest: string;
  /** The main container's image as found, and where it is (for refusals). */
  readonly image: string;
  readonly imageField: string;
  /** Kubernetes version the source runs (etcd: the cluster's); undefined when unreadable. */
  readonly source: Version | undefined;
  readonly target: Version;
  /** What kube-apiserver runs now, and what it runs once this conversion is applied. */
  readonly apiserverNow: Version | undefined;
  readonly apiserverAfter: Version | undefined;
  readonly releases: readonly MinorRelease[];
  /**
   * spec.overrides.<component>.image is set: the user chose the image. kube-proxy needs nothing
   * else from the version (no flag changes), so its checks are the user's; the control plane's
   * flag changes still depend on what runs.
   */
  readonly imageOverridden: boolean;
}

const ETCD_TAG_ALLOWED = 'an etcd version MAJOR.MINOR.PATCH, optionally with kubeadm\'s -N revision, e.g. 3.7.0-0';

/** The table's minors, oldest first, as numbers (the table's own order is not relied on). */
function tableMinors(releases: readonly MinorRelease[]): { major: number; minor: number }[] {
  return releases
    .flatMap((r) => {
      const m = /^([0-9]+)\.([0-9]+)$/.exec(r.minor);
      return m ? [{ major: Number(m[1]), minor: Number(m[2]) }] : [];
    })
    .sort((a, b) => a.major - b.major || a.minor - b.minor);
}

/**
 * The kubeadm upgrades from `from` to the oldest supported minor: kubeadm moves one minor per
 * `kubeadm upgrade apply`, so each minor in between is one upgrade.
 */
export function describeKubeadmPath(from: Version, oldest: { major: number; minor: number }): string {
  const steps: string[] = [];
  for (let m = from.minor + 1; m <= oldest.minor; m++) steps.push(`v${from.major}.${m}.x`);
  const [first] = steps;
  const last = steps[steps.length - 1];
  if (first === undefined || last === undefined) return '';
  if (steps.length <= 3) return `kubeadm upgrade apply ${steps.join(', then ')}`;
  return `kubeadm upgrade apply ${first}, then each next minor up to ${last} (${steps.length} upgrades)`;
}

/** Refuses a source whose minor the release table does not have, saying how to get into it. */
function requireKnownSource(m: VersionMove, source: Version): void {
  if (releaseForVersion(m.releases, source) !== undefined) return;
  const range = describeRange(m.releases);
  const oldest = tableMinors(m.releases)[0];
  const older = oldest !== undefined && (source.major < oldest.major || (source.major === oldest.major && source.minor < oldest.minor));
  const advice =
    older && oldest.major === source.major
      ? `upgrade the cluster with kubeadm into the supported range first, one minor at a time: ${describeKubeadmPath(source, oldest)}`
      : older
        ? 'upgrade the cluster with kubeadm into the supported range first'
        : `a newer selfhost release is needed for v${source.major}.${source.minor}`;
  const what = m.component === 'etcd' ? `etcd belongs to Kubernetes ${formatVersion(source)} (the kube-apiserver's version)` : `${m.component} runs ${formatVersion(source)}`;
  refuse('UnsupportedVersion', m.manifest, `${what}, and selfhost has release data for ${range} only; ${advice}`, {
    component: m.component,
    field: m.imageField,
    value: m.image,
  });
}

function refuseUnreadable(m: VersionMove): never {
  const tag = parseImageRef(m.image).tag;
  if (m.component === 'etcd') {
    refuse(
      'UnknownSourceVersion',
      m.manifest,
      `cannot tell which Kubernetes version etcd belongs to: no kube-apiserver manifest says which runs, and no minor selfhost knows (${describeRange(m.releases)}) pairs with etcd ${JSON.stringify(tag ?? '')}; allowed: an etcd that kubeadm pairs with a supported minor, or convert it together with its kube-apiserver`,
      { component: 'etcd', field: m.imageField, value: m.image },
    );
  }
  refuse(
    'UnknownSourceVersion',
    m.manifest,
    `cannot tell which Kubernetes version ${m.component} runs: its image tag ${tag === undefined ? 'is missing' : JSON.stringify(tag)}${tag === undefined ? '' : ' is not a Kubernetes version'} (allowed: vMAJOR.MINOR.PATCH, e.g. v1.37.2), so whether moving it to ${formatVersion(m.target)} is allowed, and which flag changes it needs, is unknown`,
    { component: m.component, field: m.imageField, value: m.image },
  );
}

function checkEtcdTag(m: VersionMove): void {
  const tag = parseImageRef(m.image).tag;
  if (tag !== undefined && parseEtcdTag(tag) !== undefined) return;
  refuse(
    'UnknownSourceVersion',
    m.manifest,
    `cannot tell which etcd version runs: its image tag ${tag === undefined ? 'is missing' : `${JSON.stringify(tag)} is not an etcd version`} (allowed: ${ETCD_TAG_ALLOWED}), so moving it to the etcd paired with ${formatVersion(m.target)} could be a downgrade or skip an etcd minor; set the manifest's image to the etcd version that runs`,
    { component: 'etcd', field: m.imageField, value: m.image },
  );
}

/** etcd and the kube-* control plane: one minor at a time, never across a major. */
function checkOneMinor(m: VersionMove, source: Version): void {
  const gap = source.major === m.target.major ? Math.abs(m.target.minor - source.minor) : Infinity;
  if (gap <= 1) return;
  const from = m.component === 'etcd' ? `etcd (with Kubernetes ${formatVersion(source)})` : `${m.component} ${formatVersion(source)}`;
  refuse(
    'UnsupportedVersion',
    m.manifest,
    `moving ${from} to ${formatVersion(m.target)} crosses ${describeMinors(gap)}; allowed: the running minor or the one next to it, one minor at a time (first v${source.major}.${source.minor + (m.target.minor > source.minor ? 1 : -1)}.x)`,
    { component: m.component, field: 'spec.version', value: formatVersion(m.target) },
  );
}

/** kube-proxy against kube-apiserver: not newer, at most MAX_MINORS_BEHIND_APISERVER older. */
function checkProxySkew(m: VersionMove, proxy: Version, apiserver: Version | undefined, when: 'runs' | 'would run'): void {
  if (apiserver === undefined) return;
  const maxBehind = MAX_MINORS_BEHIND_APISERVER['kube-proxy'];
  const allowed = `allowed: not newer than kube-apiserver and at most ${describeMinors(maxBehind)} older (Kubernetes version skew policy)`;
  const behind = proxy.major === apiserver.major ? apiserver.minor - proxy.minor : Infinity;
  if (behind >= 0 && behind <= maxBehind) return;
  const relation = behind === Infinity ? 'a different major version than' : behind < 0 ? `${describeMinors(-behind)} newer than` : `${describeMinors(behind)} older than`;
  const fix = when === 'runs' ? '; bring kube-proxy into that range first (kubeadm\'s DaemonSet: kubeadm init phase addon kube-proxy)' : '';
  refuse(
    'UnsupportedVersion',
    m.manifest,
    `kube-proxy ${when} ${formatVersion(proxy)}, ${relation} kube-apiserver ${formatVersion(apiserver)}; ${allowed}${fix}`,
    when === 'runs'
      ? { component: 'kube-proxy', field: m.imageField, value: m.image }
      : { component: 'kube-proxy', field: 'spec.version', value: formatVersion(m.target) },
  );
}

/** Throws a RefusalError when the move is not one selfhost knows and allows (see file comment). */
export function checkVersionMove(m: VersionMove): void {
  if (m.component === 'cni' || (m.component === 'kube-proxy' && m.imageOverridden)) return;
  if (m.component === 'etcd') checkEtcdTag(m);
  const source = m.source;
  if (source === undefined) refuseUnreadable(m);
  if (m.component === 'kube-proxy') {
    checkProxySkew(m, source, m.apiserverNow ?? m.apiserverAfter, 'runs');
    requireKnownSource(m, source);
    requireTargetRelease(m.releases, m.target, m);
    checkProxySkew(m, m.target, m.apiserverAfter, 'would run');
    return;
  }
  requireKnownSource(m, source);
  requireTargetRelease(m.releases, m.target, m);
  checkOneMinor(m, source);
}
