/**
 * `selfhost plan` against the live cluster (pure), in the spirit of `kubeadm upgrade plan`: from
 * what runs (the pods' versions, as the operator observes them), the ControlPlane's spec and the
 * kubelets, which versions the control plane can move to now — each with the steps the operator
 * would take — and, for the others, why not.
 *
 * The candidates come from the release table: a newer patch of the running minor, and every
 * supported minor above it (plus the first unsupported one, to say so). The table knows minors,
 * not patches, so a candidate is `v1.38.x` — any patch of that minor: the skew rules and the
 * etcd pairing are per minor, so one plan holds for all of them (a newer patch of the running
 * minor is planned as the one after the highest patch that runs). `--to vX.Y.Z` plans exactly
 * that version. An upgrade in progress adds its abort (back to where it started).
 *
 * On top of the planner's rules (src/plan): kubelets, which selfhost does not manage, must not
 * be newer than the apiserver nor more than three minors older (the Kubernetes skew policy).
 */
import { applyDefaults } from '../api/defaults.js';
import { API_GROUP, API_VERSION, KIND, type ControlPlane, type Operation, type Phase } from '../api/types.js';
import { formatVersion, minorDelta, parseVersion, type Version } from '../api/version.js';
import type { JsonObject } from '../kube/client.js';
import { computeObservedVersions } from '../operator/rollout-plan.js';
import { computeSnapshot, rec, str } from '../operator/snapshot.js';
import { lowestVersion } from '../operator/status.js';
import { refuse } from '../plan/change.js';
import { planVersionChange } from '../plan/plan.js';
import type { InProgressOperation, ObservedVersions, PlanResult } from '../plan/types.js';
import { RELEASES, type MinorRelease } from '../versions/table.js';

/** Kubernetes version skew policy: a kubelet may be up to three minors older than kube-apiserver. */
export const KUBELET_MAX_MINORS_BEHIND = 3;

export interface LivePlanSnapshot {
  readonly name: string;
  readonly controlPlane?: ControlPlane;
  /** Every Node (kubelet versions). */
  readonly nodes: readonly JsonObject[];
  /** kube-system pods (what runs). */
  readonly pods: readonly JsonObject[];
  /** kube-system DaemonSets and Deployments with their kind (an adopted kube-proxy's version). */
  readonly workloads?: readonly JsonObject[];
}

export interface LivePlanOptions {
  /** Plan exactly this version (--to). */
  readonly to?: string;
  /** What if spec.etcd.version were this (--etcd-version). */
  readonly etcdVersionOverride?: string;
  /** --no-snapshot: as if spec.etcd.snapshotBeforeUpgrade were false. */
  readonly snapshotBeforeUpgrade?: boolean;
  readonly releases?: readonly MinorRelease[];
}

export type CandidateKind = 'patch' | 'minor' | 'abort' | 'requested';

export interface LivePlanCandidate {
  /** What spec.version would be set to: exact (`v1.37.2`) or any patch of a minor (`v1.38.x`). */
  readonly target: string;
  readonly kind: CandidateKind;
  /** The planner's answer (steps or refusal), with `target` in place of the version planned. */
  readonly result: PlanResult;
}

export interface KubeletVersion {
  readonly node: string;
  readonly version: string;
}

export interface LivePlanModel {
  readonly name: string;
  readonly found: boolean;
  readonly spec?: { readonly version: string; readonly mode: string; readonly paused: boolean };
  readonly phase?: Phase;
  /** The lowest kube-apiserver that runs: the cluster's version. */
  readonly running?: string;
  readonly observed: ObservedVersions;
  readonly kubelets: readonly KubeletVersion[];
  readonly inProgress?: { readonly operation: Operation; readonly fromVersion: string; readonly toVersion: string; readonly step?: string };
  readonly candidates: readonly LivePlanCandidate[];
  readonly notes: readonly string[];
}

/** `v1.37.2` of `v1.37.2`, `v1.37.2+k3s1`, `v1.37.2-eks-abc`: kubelets may carry build suffixes. */
export function parseKubeletVersion(text: string): Version | undefined {
  const m = /^v[0-9]+\.[0-9]+\.[0-9]+/.exec(text);
  return m === null ? undefined : parseVersion(m[0]);
}

/** The kubelet rule for a target apiserver version; undefined when every kubelet fits. */
export function computeKubeletRefusal(kubelets: readonly KubeletVersion[], target: Version, label: string): PlanResult | undefined {
  for (const k of kubelets) {
    const v = parseKubeletVersion(k.version);
    if (v === undefined) continue;
    const behind = minorDelta(v, target);
    if (behind === undefined) {
      return refuse('MajorChange', `the kubelet on ${k.node} runs ${k.version}, another major than ${label}`);
    }
    if (behind < 0) {
      return refuse('SkewViolation', `the kubelet on ${k.node} runs ${k.version}, newer than ${label}: a kubelet must not be newer than kube-apiserver`);
    }
    if (behind > KUBELET_MAX_MINORS_BEHIND) {
      return refuse(
        'SkewViolation',
        `the kubelet on ${k.node} runs ${k.version}, ${behind} minors behind ${label} (at most ${KUBELET_MAX_MINORS_BEHIND}): upgrade the kubelets first`,
      );
    }
  }
  return undefined;
}

/** Puts the candidate's label (`v1.38.x`) where the planned stand-in version (`v1.38.0`) stands. */
function relabel(result: PlanResult, planned: string, label: string): PlanResult {
  if (planned === label) return result;
  if (!result.ok) return { ...result, message: result.message.split(planned).join(label) };
  return {
    ...result,
    toVersion: result.toVersion === planned ? label : result.toVersion,
    steps: result.steps.map((s) => (s.toVersion === planned ? { ...s, toVersion: label } : s)),
  };
}

interface Target {
  readonly planned: string;
  readonly label: string;
  readonly kind: CandidateKind;
}

function parseMinor(text: string): { major: number; minor: number } | undefined {
  const m = /^([0-9]+)\.([0-9]+)$/.exec(text);
  return m === null ? undefined : { major: Number(m[1]), minor: Number(m[2]) };
}

/**
 * The versions worth planning: a newer patch of the running minor, every table minor above it,
 * and the minor after the running one when the table does not have it (to say it is unsupported).
 */
export function computeCandidateTargets(running: Version, highestPatch: number, releases: readonly MinorRelease[]): Target[] {
  const { major, minor } = running;
  const patch = formatVersion({ major, minor, patch: highestPatch + 1 });
  const out: Target[] = [{ planned: patch, label: `v${major}.${minor}.x`, kind: 'patch' }];
  const minors = releases
    .map((r) => parseMinor(r.minor))
    .filter((m): m is { major: number; minor: number } => m !== undefined && m.major === major && m.minor > minor)
    .map((m) => m.minor);
  if (!minors.includes(minor + 1)) minors.push(minor + 1);
  for (const m of [...new Set(minors)].sort((a, b) => a - b)) {
    out.push({ planned: formatVersion({ major, minor: m, patch: 0 }), label: `v${major}.${m}.x`, kind: 'minor' });
  }
  return out;
}

/** What a new ControlPlane gets by default, for a cluster that has none yet. */
function defaultControlPlane(name: string, version: string): ControlPlane {
  return applyDefaults({ apiVersion: `${API_GROUP}/${API_VERSION}`, kind: KIND, metadata: { name }, spec: { version } }) as ControlPlane;
}

function kubeletsOf(nodes: readonly JsonObject[]): KubeletVersion[] {
  return nodes
    .flatMap((n) => {
      const version = str(rec(rec(n['status'])['nodeInfo'])['kubeletVersion']);
      const node = str(rec(n['metadata'])['name']) ?? '';
      return version === undefined ? [] : [{ node, version }];
    })
    .sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0));
}

/** The highest patch of `running`'s minor among the Kubernetes components that run. */
function highestPatchOf(running: Version, observed: ObservedVersions): number {
  const texts = [
    ...(observed['kube-apiserver'] ?? []),
    ...(observed['kube-controller-manager'] ?? []),
    ...(observed['kube-scheduler'] ?? []),
  ].map((i) => i.version);
  if (observed['kube-proxy'] !== undefined) texts.push(observed['kube-proxy']);
  return texts
    .map(parseVersion)
    .filter((v): v is Version => v !== undefined && v.major === running.major && v.minor === running.minor)
    .reduce((max, v) => Math.max(max, v.patch), running.patch);
}

/** The live plan model of one snapshot (pure). */
export function computeLivePlan(snap: LivePlanSnapshot, options: LivePlanOptions = {}): LivePlanModel {
  const releases = options.releases ?? RELEASES;
  const cp = snap.controlPlane ?? defaultControlPlane(snap.name, 'v0.0.0');
  const workloads = snap.workloads ?? [];
  const snapshot = computeSnapshot(
    {
      controlPlane: cp,
      nodes: snap.nodes,
      configMaps: [],
      pods: snap.pods,
      daemonSets: workloads.filter((w) => w['kind'] === 'DaemonSet'),
      deployments: workloads.filter((w) => w['kind'] === 'Deployment'),
    },
    () => '',
  );
  const observed = computeObservedVersions(snapshot);
  const running = lowestVersion((observed['kube-apiserver'] ?? []).map((i) => i.version));
  const kubelets = kubeletsOf(snap.nodes);
  const spec = cp.spec;
  const st = snap.controlPlane?.status;
  const last = st?.lastUpgrade;
  const inProgressOp: InProgressOperation | undefined =
    last?.result === 'Running' && last.fromVersion !== undefined ? { operation: 'Upgrade', fromVersion: last.fromVersion } : undefined;
  const notes: string[] = [];

  const runningVersion = running === undefined ? undefined : parseVersion(running);
  const targets: Target[] =
    options.to !== undefined
      ? [{ planned: options.to, label: options.to, kind: 'requested' }]
      : runningVersion === undefined
        ? []
        : [
            ...(inProgressOp === undefined ? [] : [{ planned: inProgressOp.fromVersion, label: inProgressOp.fromVersion, kind: 'abort' as const }]),
            ...computeCandidateTargets(runningVersion, highestPatchOf(runningVersion, observed), releases),
          ];
  const etcdOverride = options.etcdVersionOverride ?? spec.etcd.version;
  const candidates = targets.map((t): LivePlanCandidate => {
    const planned = planVersionChange(
      {
        observed,
        target: t.planned,
        components: spec.components,
        ...(etcdOverride === undefined ? {} : { etcdVersionOverride: etcdOverride }),
        snapshotBeforeUpgrade: options.snapshotBeforeUpgrade ?? spec.etcd.snapshotBeforeUpgrade,
        ...(inProgressOp === undefined ? {} : { inProgress: inProgressOp }),
      },
      releases,
    );
    const target = parseVersion(t.planned);
    const kubelet = planned.ok && target !== undefined ? computeKubeletRefusal(kubelets, target, t.label) : undefined;
    return { target: t.label, kind: t.kind, result: relabel(kubelet ?? planned, t.planned, t.label) };
  });

  if (snap.controlPlane === undefined) {
    notes.push(`no ControlPlane "${snap.name}": planned with the defaults a new one gets (every component managed, an etcd snapshot before upgrades)`);
  } else {
    if (spec.mode === 'StaticPods') notes.push('spec.mode is StaticPods: selfhost hands the control plane back to kubeadm and upgrades nothing (use kubeadm upgrade plan)');
    if (spec.paused) notes.push('spec.paused is true: nothing moves until it is false');
    const phase = st?.phase;
    if (phase === 'Pending' || phase === 'Pivoting' || phase === 'StaticPods') {
      notes.push(`the pivot has not finished (phase ${phase}): an upgrade starts once every component is self-hosted`);
    }
    if (running !== undefined && spec.version !== running && inProgressOp === undefined) {
      notes.push(`spec.version is ${spec.version} while the control plane runs ${running}: the operator is moving it there, or refused to (see the status)`);
    }
  }
  if (running === undefined) notes.push('no kube-apiserver pod found in kube-system: the running version is unknown, so nothing can be planned');
  const unknown = kubelets.filter((k) => parseKubeletVersion(k.version) === undefined);
  if (unknown.length > 0) notes.push(`kubelet version not understood on ${unknown.map((k) => `${k.node} (${JSON.stringify(k.version)})`).join(', ')}: not checked`);
  if (candidates.some((c) => c.result.ok && c.kind !== 'patch' && c.kind !== 'abort')) {
    notes.push(
      `kubelets are not selfhost's: after a minor upgrade, upgrade each node's kubelet yourself; it may stay up to ${KUBELET_MAX_MINORS_BEHIND} minors behind the apiserver`,
    );
  }

  return {
    name: snap.name,
    found: snap.controlPlane !== undefined,
    ...(snap.controlPlane === undefined ? {} : { spec: { version: spec.version, mode: spec.mode, paused: spec.paused } }),
    ...(st?.phase === undefined ? {} : { phase: st.phase }),
    ...(running === undefined ? {} : { running }),
    observed,
    kubelets,
    ...(inProgressOp === undefined || last === undefined
      ? {}
      : { inProgress: { operation: inProgressOp.operation, fromVersion: inProgressOp.fromVersion, toVersion: last.toVersion, ...(st?.step === undefined ? {} : { step: st.step }) } }),
    candidates,
    notes,
  };
}
