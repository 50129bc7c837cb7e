/**
 * What the cluster should look like for the pivot (pure): the workloads of every managed
 * component, converted from the original static manifests the agent reports, the adopted
 * kube-proxy/CNI DaemonSets, and the agent's own DaemonSet.
 *
 * The source is the originals: a manifest's backup when the agent has one (it was changed or
 * retired), else the file as it is. So the same cluster gives byte-identical desired objects on
 * every pass, before, during and after the pivot.
 */
import type { V1DaemonSet } from '@kubernetes/client-node';
import type { AgentObserved, ObservedFile } from '../api/agent.js';
import { SYSTEM_NAMESPACE } from '../api/constants.js';
import { COMPONENTS, type ComponentName } from '../api/types.js';
import {
  computeDesiredAdoptedDaemonSet,
  computeDesiredWorkloads,
  findCniDaemonSet,
  type ConvertedComponent,
  type Refusal,
} from '../convert/index.js';
import { sha256Hex } from '../convert/hash.js';
import { isIgnored, makeRefusal } from '../convert/refusal.js';
import { readRunningVersion } from '../convert/running-version.js';
import { parseStaticPod } from '../convert/parse.js';
import { computePortSharingPrep } from '../convert/port-sharing-prep.js';
import type { JsonObject } from '../kube/client.js';
import { computeDesiredAgentDaemonSet } from './agent-daemonset.js';
import { nameOf, workloadKey, type Snapshot } from './snapshot.js';

export interface StaticSource {
  /** Manifest path on the node. */
  readonly path: string;
  readonly originalContent: string;
  readonly originalSha256: string;
  /** The port-sharing variant, when it differs from the original. */
  readonly preparedContent?: string;
  readonly preparedSha256?: string;
}

export interface DesiredComponent {
  readonly name: ComponentName;
  readonly kind: 'DaemonSet' | 'Deployment';
  readonly workloadName: string;
  readonly object: JsonObject;
  readonly templateHash: string;
  /** Static manifest the workload replaces; absent for adopted DaemonSets. */
  readonly static?: StaticSource;
  /**
   * Each node's own original (and port-sharing variant) of the manifest: apiserver and etcd
   * manifests carry the node's IP and name, so hashes and the prepared file are per node.
   */
  readonly staticByNode?: ReadonlyMap<string, StaticSource>;
}

export interface DesiredState {
  readonly agentDaemonSet: JsonObject;
  /** Node whose manifests are the source. */
  readonly sourceNode?: string;
  /** Kubernetes version the pivot converts at: the one the static control plane runs. */
  readonly version?: string;
  /** Managed components in pivot order. */
  readonly components: readonly DesiredComponent[];
  readonly refusals: readonly Refusal[];
  /** Static pods that are not selfhost's components (kube-vip, a second scheduler, ...): left alone. */
  readonly ignored?: readonly Refusal[];
  /** Why nothing could be computed yet (e.g. no agent report). */
  readonly waiting?: string;
}

export interface DesiredOptions {
  /** Image of the agent and the etcd handover gate. */
  readonly image: string;
  /**
   * Convert at this Kubernetes version (a rollout's target: spec.version) instead of the version
   * the static control plane ran (the pivot never changes a version).
   */
  readonly atVersion?: string;
  /**
   * Run etcd at this version instead of spec.etcd.version or the release's pairing: the published
   * patch an upgrade steps etcd through before the next etcd minor (src/operator/etcd-via.ts).
   */
  readonly etcdVersion?: string;
}

/**
 * The Kubernetes version the pivot's desired state converts at: the proven kube-apiserver
 * revision's once there is one, else undefined (the version the original manifests run). After an
 * upgrade the originals still name the old version, and converting there would judge the
 * upgraded kube-proxy "newer than its apiserver" (seen after v1.36.4 → v1.37.2 on a node).
 */
export function computePivotVersion(snap: Snapshot): string | undefined {
  return snap.revisions.get('kube-apiserver')?.version;
}

/** The originals: backups win over active files with the same path. */
export function computeOriginalManifests(observed: AgentObserved): ObservedFile[] {
  const byPath = new Map<string, ObservedFile>();
  for (const f of observed.manifests) byPath.set(f.path, f);
  for (const b of observed.backups) byPath.set(b.path, b);
  return [...byPath.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

function staticSourceOf(c: ConvertedComponent, originals: readonly ObservedFile[]): StaticSource | undefined {
  const original = originals.find((f) => f.path === c.sourceManifest);
  if (original === undefined) return undefined;
  const prepared = c.portSharingPrep;
  const base = { path: original.path, originalContent: original.content, originalSha256: sha256Hex(original.content) };
  return prepared === undefined || prepared === original.content
    ? base
    : { ...base, preparedContent: prepared, preparedSha256: sha256Hex(prepared) };
}

export function computeDesiredState(snap: Snapshot, options: DesiredOptions): DesiredState {
  const agentDaemonSet = computeDesiredAgentDaemonSet(options.image);
  const asked = snap.controlPlane.spec;
  const spec = options.etcdVersion === undefined ? asked : { ...asked, etcd: { ...asked.etcd, version: options.etcdVersion } };
  const source = snap.nodes.find((n) => snap.agents.get(n.name)?.observed !== undefined);
  const observed = source === undefined ? undefined : snap.agents.get(source.name)?.observed;
  if (source === undefined || observed === undefined) {
    return { agentDaemonSet, components: [], refusals: [], waiting: 'waiting for the node agent to report the static manifests' };
  }
  const originals = computeOriginalManifests(observed);
  const manifests = originals.map((f) => ({ path: f.path, content: f.content }));
  const node = { name: source.name, ...(source.ip === undefined ? {} : { ip: source.ip }) };
  // Pivot at the version that runs (an upgrade is a separate operation), read as `selfhost render`
  // reads it; a rollout converts at its target (atVersion). When the running version cannot be
  // read the apiserver is refused for that reason, which blocks.
  const read = readRunningVersion(manifests);
  const running = options.atVersion ?? (read.ok ? read.version : spec.version);
  const result = computeDesiredWorkloads({
    manifests,
    spec,
    version: running,
    controlPlaneNodes: snap.nodes.length,
    node,
    handoverGateImage: options.image,
  });
  // Other software's static pods are reported, not converted, and do not block (as in render).
  const ignored = result.refusals.filter(isIgnored);
  const refusals: Refusal[] = result.refusals.filter((r) => !isIgnored(r));
  const components: DesiredComponent[] = [];

  const daemonSets = [...snap.workloads.entries()]
    .filter(([key]) => key.startsWith('DaemonSet/'))
    .map(([, ds]) => ds as V1DaemonSet);
  for (const name of COMPONENTS.filter((c) => spec.components.includes(c))) {
    if (name === 'cni' || name === 'kube-proxy') {
      let existing: V1DaemonSet | undefined;
      if (name === 'cni') {
        const found = findCniDaemonSet(daemonSets, spec.cni);
        if (!found.ok) {
          refusals.push(found.refusal);
          continue;
        }
        existing = found.daemonSet;
      } else {
        existing = daemonSets.find((ds) => nameOf(ds) === 'kube-proxy' && ds.metadata?.namespace === SYSTEM_NAMESPACE);
        if (existing === undefined) {
          refusals.push(
            makeRefusal('MissingManifest', `${SYSTEM_NAMESPACE}/kube-proxy`, 'spec.components lists kube-proxy but no kube-proxy DaemonSet runs in kube-system', {
              component: 'kube-proxy',
            }),
          );
          continue;
        }
      }
      const adopted = computeDesiredAdoptedDaemonSet(existing, name, spec, running);
      if (!adopted.ok) {
        refusals.push(adopted.refusal);
        continue;
      }
      components.push({
        name,
        kind: 'DaemonSet',
        workloadName: adopted.daemonSet.metadata?.name ?? '',
        object: adopted.daemonSet as JsonObject,
        templateHash: adopted.templateHash,
      });
      continue;
    }
    const converted = result.components.find((c) => c.name === name);
    const workload = result.workloads.find((w) => w.metadata?.name === converted?.workloadName);
    if (converted === undefined || workload === undefined) continue; // refused: in refusals
    const staticSource = staticSourceOf(converted, originals);
    const staticByNode = new Map<string, StaticSource>();
    for (const n of snap.nodes) {
      const obs = snap.agents.get(n.name)?.observed;
      if (obs === undefined) continue;
      const file = computeOriginalManifests(obs).find((f) => f.path === converted.sourceManifest);
      if (file === undefined) continue;
      const parsed = parseStaticPod({ path: file.path, content: file.content });
      const prep = converted.portSharingPrep === undefined || !parsed.ok ? undefined : computePortSharingPrep(parsed.pod);
      staticByNode.set(n.name, staticSourceOf({ ...converted, ...(prep === undefined ? {} : { portSharingPrep: prep }) }, [file]) ?? { path: file.path, originalContent: file.content, originalSha256: sha256Hex(file.content) });
    }
    components.push({
      name,
      kind: converted.kind,
      workloadName: converted.workloadName,
      object: workload as JsonObject,
      templateHash: converted.templateHash,
      ...(staticSource === undefined ? {} : { static: staticSource, staticByNode }),
    });
  }
  return { agentDaemonSet, sourceNode: source.name, version: running, components, refusals, ignored };
}

export function liveWorkload(snap: Snapshot, c: Pick<DesiredComponent, 'kind' | 'workloadName'>): JsonObject | undefined {
  return snap.workloads.get(workloadKey(c.kind, c.workloadName));
}
