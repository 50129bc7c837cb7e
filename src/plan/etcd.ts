/**
 * The etcd step of a plan. etcd follows its own versions: the release table pairs one with each
 * Kubernetes minor (kubeadm's pairing), spec.etcd.version overrides it. etcd is only ever
 * upgraded: once every member runs a new minor the cluster cannot return to the old one
 * (etcd.io/docs/v3.6/upgrades/upgrade_3_6/#downgrade), so rollbacks leave it alone.
 */
import type { ComponentName } from '../api/types.js';
import { compareVersions, type Version } from '../api/version.js';
import type { MinorRelease } from '../versions/table.js';
import { refuse, type ComponentChange } from './change.js';
import { formatEtcdVersion, parseEtcdVersion } from './etcd-version.js';
import { describeMinors } from './format.js';
import { describeInstance, highestInstance, lowestInstance, type ParsedState } from './observed.js';
import type { PlanRefused } from './types.js';

/**
 * Before etcd moves to the keyed minor, every member still on the previous minor must run at least
 * this patch (etcd's upgrade guides, "Upgrade checklists").
 *
 * - 3.6: etcd.io/docs/v3.6/upgrades/upgrade_3_6/ ("Update 3.5") has raised the floor over time:
 *   3.5.20 (etcd#19557, voting members reverting to learners: "too many learner member"), 3.5.26
 *   (etcd.io/blog/2025/zombie_members_upgrade, removed members coming back), and since
 *   etcd-io/website#1203 (Aug 2026) 3.5.32 (`--v2-deprecation=write-only-skip-check`, WAL-aware
 *   `etcdutl check v2store`). The newest documented floor wins.
 * - 3.7: etcd.io/docs/v3.7/upgrades/upgrade_3_7/ ("Update 3.6", etcd-io/website#1165/#1168):
 *   3.6.11, as earlier 3.6 patches may not survive a rolling upgrade to 3.7.
 *
 * A member below the floor gets an intermediate step to a published patch at or above the floor
 * when the target minor's release lists one (MinorRelease.etcdUpgradeVia: an image the planner
 * knows exists), then the step into the new minor: one edit of spec.version. The rollout proves
 * the members healthy on the patch (its health gate) before the next minor starts, as the guides
 * want. Without a published patch the plan refuses (EtcdUpgradePath) and the user runs the two
 * phases through spec.etcd.version.
 */
export const ETCD_UPGRADE_FLOORS: Readonly<Record<string, string>> = { '3.6': '3.5.32', '3.7': '3.6.11' };

export interface EtcdInput {
  readonly state: ParsedState;
  readonly managed: ReadonlySet<ComponentName>;
  /** spec.etcd.version, parsed by the caller (already known to be valid). */
  readonly override?: { readonly text: string; readonly version: Version };
  /** The release table's entry for the target minor. */
  readonly release: MinorRelease;
  /** A rollback never touches etcd. */
  readonly isRollback: boolean;
}

export type EtcdOutcome =
  | { readonly ok: true; readonly changes: readonly ComponentChange[]; readonly notes: readonly string[] }
  | PlanRefused;

export function planEtcdChange(input: EtcdInput): EtcdOutcome {
  const { state, managed, override, release, isRollback } = input;
  const lowest = lowestInstance(state.etcd);
  const highest = highestInstance(state.etcd);
  if (!managed.has('etcd')) {
    return { ok: true, changes: [], notes: override ? ['spec.etcd.version is ignored: etcd is not managed by selfhost'] : [] };
  }
  if (!lowest || !highest) return { ok: true, changes: [], notes: [] };

  const desired = override ?? computePairedEtcd(release);
  if (!desired) {
    return refuse(
      'InvalidReleaseTable',
      `the release table pairs v${release.minor} with etcd image tag ${JSON.stringify(release.etcdImageTag)}, ` +
        'which is not an etcd version; fix src/versions/table.ts or set spec.etcd.version',
    );
  }
  if (compareVersions(desired.version, highest.version) < 0) {
    if (override) {
      return refuse(
        'EtcdDowngrade',
        `etcd member ${describeInstance(highest)} is newer than spec.etcd.version ${override.text}; ` +
          `etcd is never downgraded. Allowed: ${highest.text} or newer, or leave spec.etcd.version unset`,
      );
    }
    const note =
      `etcd stays at ${highest.text}: it is newer than ${desired.text}, the version paired with ` +
      `v${release.minor}, and etcd is never downgraded`;
    return { ok: true, changes: [], notes: [note] };
  }
  if (compareVersions(desired.version, lowest.version) === 0) return { ok: true, changes: [], notes: [] };
  if (isRollback) {
    const note =
      `etcd stays at ${lowest.text}: a rollback does not change etcd ` +
      `(${desired.text} waits for the next upgrade)`;
    return { ok: true, changes: [], notes: [note] };
  }

  const path = computeEtcdUpgradePath(state, desired, release);
  if (!path.ok) return path;
  if (path.via === undefined) return { ok: true, changes: [{ component: 'etcd', action: 'Upgrade', from: lowest, to: desired }], notes: [] };
  const via = path.via;
  return {
    ok: true,
    changes: [
      { component: 'etcd', action: 'Upgrade', from: lowest, to: via },
      { component: 'etcd', action: 'Upgrade', from: { node: lowest.node, text: via.text, version: via.version }, to: desired },
    ],
    notes: [`etcd steps through ${via.text} first: etcd ${formatMinor(desired.version)} wants every member on ${via.text} or newer before it starts (etcd's upgrade guide)`],
  };
}

function computePairedEtcd(release: MinorRelease): { text: string; version: Version } | undefined {
  const version = parseEtcdVersion(release.etcdImageTag);
  // Steps speak etcd versions (`3.6.8`), as etcd reports them; the image tag's `-0` build suffix
  // is the converter's business.
  return version ? { text: formatEtcdVersion(version), version } : undefined;
}

type EtcdTarget = { readonly text: string; readonly version: Version };

/**
 * One etcd minor at a time, and the documented patch floor before entering a minor: reached
 * through a published patch (`via`) when the release lists one, else refused.
 */
function computeEtcdUpgradePath(
  state: ParsedState,
  desired: EtcdTarget,
  release: MinorRelease,
): { readonly ok: true; readonly via?: EtcdTarget } | PlanRefused {
  const refusal = checkEtcdUpgradePath(state, desired);
  if (refusal === undefined) return { ok: true };
  if (refusal.reason !== 'EtcdUpgradePath') return refusal;
  const via = computeEtcdVia(state, desired, release);
  return via === undefined ? refusal : { ok: true, via };
}

/**
 * The lowest published patch (release.etcdUpgradeVia) at or above the floor of the desired minor,
 * in the minor below it, and not below any member (etcd is never downgraded, not even by a patch).
 */
export function computeEtcdVia(state: ParsedState, desired: EtcdTarget, release: MinorRelease): EtcdTarget | undefined {
  const floorText = ETCD_UPGRADE_FLOORS[formatMinor(desired.version)];
  const floor = floorText === undefined ? undefined : parseEtcdVersion(floorText);
  if (floor === undefined) return undefined;
  const highest = highestInstance(state.etcd);
  return (release.etcdUpgradeVia ?? [])
    .map((tag) => parseEtcdVersion(tag))
    .filter((v): v is Version => v !== undefined)
    .filter((v) => v.major === floor.major && v.minor === floor.minor && compareVersions(v, floor) >= 0)
    .filter((v) => highest === undefined || compareVersions(v, highest.version) >= 0)
    .sort(compareVersions)
    .map((version) => ({ text: formatEtcdVersion(version), version }))[0];
}

function formatMinor(v: Version): string {
  return `${v.major}.${v.minor}`;
}

/** One etcd minor at a time, and the documented patch floor before entering a minor. */
function checkEtcdUpgradePath(
  state: ParsedState,
  desired: EtcdTarget,
): PlanRefused | undefined {
  const to = desired.version;
  for (const member of state.etcd) {
    const gap = member.version.major === to.major ? to.minor - member.version.minor : Infinity;
    if (gap > 1) {
      return refuse(
        'EtcdMinorSkip',
        `etcd member ${describeInstance(member)} cannot move to ${desired.text} (${describeMinors(gap)} ahead): ` +
          'etcd supports upgrades of one minor at a time; set spec.etcd.version to the next minor first',
      );
    }
  }
  const floorText = ETCD_UPGRADE_FLOORS[`${to.major}.${to.minor}`];
  const floor = floorText === undefined ? undefined : parseEtcdVersion(floorText);
  if (!floor) return undefined;
  const short = state.etcd.filter(
    (m) => m.version.minor === to.minor - 1 && compareVersions(m.version, floor) < 0,
  );
  if (short.length === 0) return undefined;
  const floorMinor = `${floor.major}.${floor.minor}`;
  return refuse(
    'EtcdUpgradePath',
    `etcd member(s) ${short.map(describeInstance).join(', ')} must run ${formatEtcdVersion(floor)} or newer ` +
      `before moving to ${desired.text} (etcd's ${floorMinor}→${to.major}.${to.minor} upgrade guide). ` +
      `The release table lists no published ${floorMinor} patch ≥ ${formatEtcdVersion(floor)} to step through: ` +
      `set spec.etcd.version to one, let it roll out, then clear it`,
  );
}

/**
 * The published patch a rollout steps etcd through before `desired` (e.g. `3.6.11` on the way from
 * `3.6.8` to `3.7.0`), or undefined when the members may go straight there (or no published patch
 * is known: the skew planner then refuses). Versions as etcd reports them (`3.6.8`, `3.6.8-0`).
 */
export function computeEtcdViaVersion(members: readonly string[], desired: string, release: MinorRelease): string | undefined {
  const to = parseEtcdVersion(desired);
  const etcd = members.flatMap((text) => {
    const version = parseEtcdVersion(text);
    return version === undefined ? [] : [{ node: '', text, version }];
  });
  if (to === undefined || etcd.length === 0 || etcd.length !== members.length) return undefined;
  const state: ParsedState = { etcd, 'kube-apiserver': [], 'kube-controller-manager': [], 'kube-scheduler': [], 'kube-proxy': [] };
  const target = { text: formatEtcdVersion(to), version: to };
  if (checkEtcdUpgradePath(state, target)?.reason !== 'EtcdUpgradePath') return undefined;
  return computeEtcdVia(state, target, release)?.text;
}
