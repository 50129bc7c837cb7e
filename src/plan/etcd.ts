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
 * A member below the floor makes the plan refuse (EtcdUpgradePath) rather than insert a patch step:
 * the release table only knows kubeadm's paired tags, so the planner cannot know that an image for
 * the floor patch exists in the user's registry, and the guides want the members healthy on the new
 * patch before the next minor starts. The user runs the two phases through spec.etcd.version.
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
  | { readonly ok: true; readonly change?: ComponentChange; readonly notes: readonly string[] }
  | PlanRefused;

export function planEtcdChange(input: EtcdInput): EtcdOutcome {
  const { state, managed, override, release, isRollback } = input;
  const lowest = lowestInstance(state.etcd);
  const highest = highestInstance(state.etcd);
  if (!managed.has('etcd')) {
    return { ok: true, notes: override ? ['spec.etcd.version is ignored: etcd is not managed by selfhost'] : [] };
  }
  if (!lowest || !highest) return { ok: true, notes: [] };

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
    return { ok: true, notes: [note] };
  }
  if (compareVersions(desired.version, lowest.version) === 0) return { ok: true, notes: [] };
  if (isRollback) {
    const note =
      `etcd stays at ${lowest.text}: a rollback does not change etcd ` +
      `(${desired.text} waits for the next upgrade)`;
    return { ok: true, notes: [note] };
  }

  const pathRefusal = checkEtcdUpgradePath(state, desired);
  if (pathRefusal) return pathRefusal;
  return { ok: true, change: { component: 'etcd', action: 'Upgrade', from: lowest, to: desired }, notes: [] };
}

function computePairedEtcd(release: MinorRelease): { text: string; version: Version } | undefined {
  const version = parseEtcdVersion(release.etcdImageTag);
  // Steps speak etcd versions (`3.6.8`), as etcd reports them; the image tag's `-0` build suffix
  // is the converter's business.
  return version ? { text: formatEtcdVersion(version), version } : undefined;
}

/** One etcd minor at a time, and the documented patch floor before entering a minor. */
function checkEtcdUpgradePath(
  state: ParsedState,
  desired: { text: string; version: Version },
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
      `Set spec.etcd.version to a ${floorMinor} patch ≥ ${formatEtcdVersion(floor)}, let it roll out, then clear it`,
  );
}
