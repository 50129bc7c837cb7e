/**
 * Version retargeting: which image a component runs at the target version, and which flag
 * changes it needs on the way there.
 *
 * Flag changes come from the release table, one minor at a time: moving from 1.35 to 1.37
 * applies 1.36's changes, then 1.37's. A downgrade undoes them in reverse, which is only defined
 * for renames (a removed flag's old value and a set flag's old value are unknown), so a downgrade
 * across a `remove` or `set` is refused: roll back to the template kept from before the upgrade
 * instead. etcd is never downgraded (kubeadm's pairing only moves forward, and etcd 3.6 data
 * cannot be read by 3.5), so its flags and image stay when the Kubernetes version goes back.
 */
import type { ComponentName, ControlPlaneSpec } from '../api/types.js';
import { formatVersion, minorKey, type Version } from '../api/version.js';
import type { FlagChange, MinorRelease } from '../versions/table.js';
import { isControlPlaneComponent } from './identify.js';
import { compareEtcdTags, etcdImageTagFor, parseEtcdTag, parseImageRef } from './images.js';
import { refuse } from './refusal.js';
import { effectiveImageRepository } from './registry.js';

/** Human-readable supported range of a release table: `v1.35–v1.37`. */
export function describeRange(releases: readonly MinorRelease[]): string {
  const first = releases[0];
  const last = releases[releases.length - 1];
  return first && last ? `v${first.minor}–v${last.minor}` : 'none (the release table is empty)';
}

export function releaseForVersion(releases: readonly MinorRelease[], v: Version): MinorRelease | undefined {
  return releases.find((r) => r.minor === minorKey(v));
}

interface Where {
  readonly manifest: string;
  readonly component: ComponentName;
}

/** The target minor's release, or a refusal naming the supported range. */
export function requireTargetRelease(releases: readonly MinorRelease[], target: Version, where: Where): MinorRelease {
  const release = releaseForVersion(releases, target);
  if (release === undefined) {
    refuse(
      'UnsupportedVersion',
      where.manifest,
      `selfhost has no release data for v${minorKey(target)}; supported: ${describeRange(releases)}`,
      { component: where.component, field: 'spec.version', value: formatVersion(target) },
    );
  }
  return release;
}

/**
 * The flag changes, in the order to apply them, for moving `component` from `source` to `target`.
 * Downgrades yield the inverse renames; see the file comment for what is refused.
 */
export function computeFlagChangeSteps(
  component: ComponentName,
  source: Version | undefined,
  target: Version,
  releases: readonly MinorRelease[],
  where: Where,
): FlagChange[] {
  if (!isControlPlaneComponent(component)) return [];
  if (source === undefined) {
    refuse(
      'UnknownSourceVersion',
      where.manifest,
      `cannot tell which Kubernetes version ${component} runs now (its image tag is not vMAJOR.MINOR.PATCH), so the flag changes up to ${formatVersion(target)} are unknown`,
      { component, field: 'image' },
    );
  }
  if (source.major !== target.major) {
    refuse('UnsupportedVersion', where.manifest, 'moving across a major version is not supported', {
      component,
      field: 'spec.version',
      value: `${formatVersion(source)} → ${formatVersion(target)}`,
    });
  }
  const minorRelease = (minor: number): MinorRelease => {
    const release = releaseForVersion(releases, { major: target.major, minor, patch: 0 });
    if (release === undefined) {
      refuse(
        'UnsupportedVersion',
        where.manifest,
        `the way from ${formatVersion(source)} to ${formatVersion(target)} crosses v${target.major}.${minor}, which has no release data; supported: ${describeRange(releases)}`,
        { component, field: 'spec.version', value: formatVersion(target) },
      );
    }
    return release;
  };

  const steps: FlagChange[] = [];
  if (target.minor > source.minor) {
    for (let m = source.minor + 1; m <= target.minor; m++) steps.push(...(minorRelease(m).flagChanges[component] ?? []));
    return steps;
  }
  if (component === 'etcd') return steps;
  for (let m = source.minor; m > target.minor; m--) {
    const changes = minorRelease(m).flagChanges[component] ?? [];
    for (const change of [...changes].reverse()) {
      if (change.kind !== 'rename') {
        const flag = change.flag;
        refuse(
          'IrreversibleFlagChange',
          where.manifest,
          `going back below v${target.major}.${m} would have to undo "${change.kind} --${flag}" (${change.reason}), and the value before it is unknown; roll back to the template kept from before the upgrade`,
          { component, field: 'spec.version', value: formatVersion(target) },
        );
      }
      steps.push({ kind: 'rename', from: change.to, to: change.from, reason: `undo: ${change.reason}` });
    }
  }
  return steps;
}

/**
 * Kubernetes images are `<imageRepository>/<component>:<version>`, like kubeadm's; the
 * repository is spec.imageRepository when set, else the one the component runs from.
 */
const KUBERNETES_IMAGE_COMPONENTS = new Set<ComponentName>([
  'kube-apiserver',
  'kube-controller-manager',
  'kube-scheduler',
  'kube-proxy',
]);

/**
 * The image the component's main container runs at the target version. An explicit
 * overrides.<component>.image always wins. Returns `current` for components whose image
 * selfhost does not choose (cni, see retargetCniImages).
 */
export function computeTargetImage(
  component: ComponentName,
  current: string,
  spec: ControlPlaneSpec,
  target: Version,
  releases: readonly MinorRelease[],
  where: Where,
): string {
  const override = spec.overrides?.[component]?.image;
  if (override !== undefined) return override;
  const registry = effectiveImageRepository(spec.imageRepository, current);
  if (KUBERNETES_IMAGE_COMPONENTS.has(component)) {
    requireTargetRelease(releases, target, where);
    return `${registry}${component}:${formatVersion(target)}`;
  }
  if (component === 'etcd') return `${registry}etcd:${computeEtcdTag(current, spec, target, releases, where)}`;
  return current;
}

function computeEtcdTag(
  current: string,
  spec: ControlPlaneSpec,
  target: Version,
  releases: readonly MinorRelease[],
  where: Where,
): string {
  const currentTag = parseImageRef(current).tag;
  const currentVersion = currentTag === undefined ? undefined : parseEtcdTag(currentTag);
  const explicit = spec.etcd.version;
  if (explicit !== undefined) {
    const tag = etcdImageTagFor(explicit);
    const wanted = parseEtcdTag(tag);
    if (wanted === undefined) {
      refuse('UnsupportedVersion', where.manifest, 'spec.etcd.version is not an etcd version (MAJOR.MINOR.PATCH)', {
        component: 'etcd',
        field: 'spec.etcd.version',
        value: explicit,
      });
    }
    if (currentVersion !== undefined && currentTag !== undefined && compareEtcdTags(wanted, currentVersion) < 0) {
      refuse(
        'EtcdDowngrade',
        where.manifest,
        `etcd runs ${currentTag} and spec.etcd.version asks for ${tag}; etcd is never downgraded (newer data formats cannot be read back)`,
        { component: 'etcd', field: 'spec.etcd.version', value: explicit },
      );
    }
    return tag;
  }
  const release = requireTargetRelease(releases, target, where);
  const paired = parseEtcdTag(release.etcdImageTag);
  if (paired === undefined) {
    refuse(
      'UnsupportedVersion',
      where.manifest,
      `the release table has no usable etcd image tag for v${release.minor} ("${release.etcdImageTag}")`,
      { component: 'etcd', field: 'spec.version', value: formatVersion(target) },
    );
  }
  // kubeadm's pairing only ever moves etcd forward: an older Kubernetes keeps the newer etcd.
  if (currentVersion !== undefined && currentTag !== undefined && compareEtcdTags(paired, currentVersion) < 0) {
    return currentTag;
  }
  return release.etcdImageTag;
}
