/**
 * The unpivot planner (pure): spec.mode StaticPods hands every control-plane component back to
 * the kubelet as the static pod kubeadm would write for the version that runs now. The pivot in
 * reverse — etcd, kube-apiserver, kube-controller-manager, kube-scheduler — one change per pass,
 * each disruptive change behind the pivot's preflight gate, every decision from the world (files
 * the agent reports, mirror pods, workloads), so a crash anywhere resumes where it stopped.
 *
 * Steps:
 *  0. the checkpoints go first (they would otherwise take over from a pod the unpivot stops);
 *  1. per component, on every node, the hand-back static pod (convert/restore.ts):
 *     - apiserver, controller-manager, scheduler: the restored manifest with port sharing starts
 *       and becomes Ready beside the self-hosted pod (no gap);
 *     - etcd: the restored manifest behind a gate waiting for etcd's ports; the self-hosted member's
 *       pod is deleted (the DaemonSet's replacement waits in its own gate: the manifest is back),
 *       the gate opens and the static etcd continues on the same data dir;
 *  2. the workload is deleted (its pods were serving beside, or waiting behind, the static ones);
 *  3. per node, one write turns every hand-back variant into the restored manifest (kubeadm's
 *     form: no port sharing, no gate): the kubelet restarts them together, one gap for all;
 *  4. kube-system/kubeadm-config is brought in line with what runs (kubeadm-config.ts);
 *  5. the agents release their nodes (backups removed) and the agent DaemonSet and selfhost's
 *     ConfigMaps are deleted. kube-proxy and the CNI stay DaemonSets (that is how kubeadm runs them).
 */
import { formatAgentDesired, parseAgentDesired, type AgentDesired, type DesiredManifest } from '../api/agent.js';
import { AGENT_NAME } from './agent-daemonset.js';
import { COMPONENTS, type ComponentName } from '../api/types.js';
import { formatRefusal } from '../convert/index.js';
import { GATE_EXEC_PATH } from '../convert/mutators/handover-gate.js';
import { WORKLOAD_SHAPES, workloadName } from '../convert/build.js';
import type { JsonObject } from '../kube/client.js';
import { computeDesiredState, liveWorkload, type DesiredComponent, type DesiredState } from './desired.js';
import { computeKubeadmConfigUpdate, type KubeadmConfigTarget } from './kubeadm-config.js';
import {
  computeCurrentAgentDesired,
  computePreflightFailure,
  computeWantedStates,
  hasPortSharing,
  isAgentSynced,
  isRolloutComplete,
  isWorkloadCurrent,
  mirrorOf,
  type WantedStates,
} from './pivot-plan.js';
import { labelsOf, metaOf, workloadKey, type PodView, type Snapshot } from './snapshot.js';
import { computeRestoreSet, type NodeRestore, type RestoreSet } from './unpivot-desired.js';

/** The components the unpivot hands back, in its order (the pivot's, reversed). */
export const UNPIVOT_ORDER: readonly ComponentName[] = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler'];

export type UnpivotAction =
  | { readonly type: 'WriteAgentDesired'; readonly node: string; readonly text: string; readonly why: string; readonly component?: ComponentName }
  | { readonly type: 'DeletePod'; readonly component: ComponentName; readonly node: string; readonly pod: string }
  | { readonly type: 'DeleteWorkload'; readonly component?: ComponentName; readonly kind: 'DaemonSet' | 'Deployment'; readonly name: string }
  | { readonly type: 'UpdateKubeadmConfig'; readonly text: string; readonly changes: readonly string[] }
  /** Step 4 needs kube-system/kubeadm-config: read it and plan again (never acted on as such). */
  | { readonly type: 'ReadKubeadmConfig' }
  | { readonly type: 'DeleteJobs'; readonly names: readonly string[] }
  | { readonly type: 'DeleteConfigMaps'; readonly names: readonly string[] }
  | { readonly type: 'Wait'; readonly component?: ComponentName; readonly reason: string }
  | { readonly type: 'Blocked'; readonly component?: ComponentName; readonly reason: string }
  | { readonly type: 'Done' };

export interface UnpivotInput {
  readonly snap: Snapshot;
  /** The desired state at spec.version (what the workloads run when no rollout is due). */
  readonly desired: DesiredState;
  readonly restore: RestoreSet;
  readonly want: WantedStates;
  /**
   * kube-system/kubeadm-config as read this pass; null when it does not exist; undefined when not
   * read (the planner asks for it with ReadKubeadmConfig only once step 4 is reached, so the passes
   * of steps 0-3 send no request for it).
   */
  readonly kubeadmConfig?: JsonObject | null;
  /**
   * Hand back only these components (dropped from spec.components while the others stay
   * self-hosted): steps 1-3 for them, after their checkpoints are gone; no kubeadm-config change,
   * no clean-up (the agent still serves the others). Absent: the whole unpivot.
   */
  readonly only?: readonly ComponentName[];
}

export interface UnpivotPlan {
  readonly action: UnpivotAction;
  /** Components whose hand-back finished (static, kubeadm's form, Ready on every node, no workload). */
  readonly done: ReadonlySet<ComponentName>;
  /** Components whose hand-back began (a hand-back or restored manifest was asked for somewhere). */
  readonly started: ReadonlySet<ComponentName>;
  /** Nothing of selfhost is left in the cluster. */
  readonly finished: boolean;
}

type FileKind = 'Absent' | 'Handback' | 'Restored' | 'Original' | 'Prepared' | 'Other';

function fileKindOf(snap: Snapshot, node: string, c: DesiredComponent, r: NodeRestore): FileKind {
  const file = snap.agents.get(node)?.observed?.manifests.find((f) => f.path === r.path);
  if (file === undefined) return 'Absent';
  // Restored first: at an unchanged version with no overrides it is byte-identical to the original.
  if (file.sha256 === r.restoredSha256) return 'Restored';
  if (file.sha256 === r.handbackSha256) return 'Handback';
  const s = c.staticByNode?.get(node) ?? c.static;
  if (file.sha256 === s?.originalSha256) return 'Original';
  if (s?.preparedSha256 !== undefined && file.sha256 === s.preparedSha256) return 'Prepared';
  return 'Other';
}

/** Self-hosted pods of the component on the node (deleting ones too: they still hold ports). */
function selfPodsOn(snap: Snapshot, component: ComponentName, node: string): PodView[] {
  return snap.pods.filter((p) => !p.mirror && !p.agent && p.component === component && p.node === node);
}

/** The static pod runs the restored manifest (no gate, no port sharing) and is Ready. */
function isRestoredMirrorReady(snap: Snapshot, component: ComponentName, node: string): boolean {
  const m = mirrorOf(snap, component, node);
  if (m === undefined || !m.ready) return false;
  return component === 'etcd' ? m.commandLine[0] !== GATE_EXEC_PATH : !hasPortSharing(m);
}

/**
 * The component still runs kubeadm's own static pod and selfhost never touched it (no workload, no
 * pod, the original file on every node): there is nothing to hand back, and its version stays.
 */
function isNeverPivoted(input: UnpivotInput, c: DesiredComponent): boolean {
  const { snap } = input;
  if (liveWorkload(snap, c) !== undefined) return false;
  return snap.nodes.every((n) => {
    const r = input.restore.byComponent.get(c.name)?.get(n.name);
    return r !== undefined && fileKindOf(snap, n.name, c, r) === 'Original' && selfPodsOn(snap, c.name, n.name).length === 0 && input.want.get(n.name, c) === undefined;
  });
}

function isComponentHandedBack(input: UnpivotInput, c: DesiredComponent): boolean {
  const { snap } = input;
  const perNode = input.restore.byComponent.get(c.name);
  if (isNeverPivoted(input, c)) return true;
  if (liveWorkload(snap, c) !== undefined) return false;
  return snap.nodes.every((n) => {
    const r = perNode?.get(n.name);
    return r !== undefined && fileKindOf(snap, n.name, c, r) === 'Restored' && isRestoredMirrorReady(snap, c.name, n.name) && selfPodsOn(snap, c.name, n.name).length === 0;
  });
}

/** A node's desired.json text with this component's manifest entry set to a hand-back state. */
function withManifest(currentText: string | undefined, node: string, c: DesiredComponent, r: NodeRestore, state: 'Handback' | 'Restored'): string {
  const current = computeCurrentAgentDesired(currentText, parseAgentDesired);
  const s = c.staticByNode?.get(node) ?? c.static;
  const entry: DesiredManifest = {
    path: r.path,
    state,
    originalSha256: s?.originalSha256 ?? '',
    content: state === 'Handback' ? r.handback : r.restored,
    // Every file selfhost may have left at this path, which the agent may therefore replace.
    writtenSha256: [...(s?.preparedSha256 === undefined ? [] : [s.preparedSha256]), r.handbackSha256, r.restoredSha256],
  };
  return formatAgentDesired({ ...current, manifests: [...current.manifests.filter((m) => m.path !== r.path), entry] });
}

type Gate = (action: UnpivotAction) => UnpivotAction;

/** The next action of one component; undefined when its hand-back is complete. */
function computeComponentAction(input: UnpivotInput, c: DesiredComponent, gated: Gate): UnpivotAction | undefined {
  const { snap, want } = input;
  const component = c.name;
  const perNode = input.restore.byComponent.get(component);
  if (isNeverPivoted(input, c)) return undefined;
  // 1. the hand-back static pod on every node (or already the restored one).
  for (const n of snap.nodes) {
    const node = n.name;
    const r = perNode?.get(node);
    if (r === undefined) return { type: 'Wait', component, reason: `waiting for the node agent on ${node} to report ${component}'s manifest` };
    if (!isAgentSynced(snap, node)) return { type: 'Wait', component, reason: `the node agent on ${node} is applying its desired state` };
    const conflicts = snap.agents.get(node)?.observed?.conflicts.filter((x) => x.path === r.path) ?? [];
    if (conflicts.length > 0) return { type: 'Blocked', component, reason: conflicts.map((x) => x.message).join('; ') };
    const kind = fileKindOf(snap, node, c, r);
    if (kind === 'Restored') continue;
    if (kind === 'Other') {
      return {
        type: 'Blocked',
        component,
        reason: `${r.path} on ${node} was written by someone else (neither kubeadm's original, nor a file selfhost wrote): the unpivot stops here; move the file away to let selfhost write the static pod`,
      };
    }
    if (kind !== 'Handback') {
      if (want.get(node, c) === 'Handback') return { type: 'Wait', component, reason: `the node agent on ${node} is writing ${r.path}` };
      return gated({ type: 'WriteAgentDesired', node, component, text: withManifest(snap.agents.get(node)?.desiredText, node, c, r, 'Handback'), why: `hand ${component} back on ${node}: write its static pod beside the self-hosted one` });
    }
    const mirror = mirrorOf(snap, component, node);
    if (component === 'etcd') {
      if (mirror === undefined || !mirror.mainRunning) {
        return { type: 'Wait', component, reason: `waiting for the static etcd on ${node} to start its gate (it waits for the self-hosted member to stop)` };
      }
      const member = selfPodsOn(snap, component, node).find((p) => p.ready && !p.deleting);
      if (member !== undefined) return gated({ type: 'DeletePod', component, node, pod: member.name });
      if (!mirror.ready) return { type: 'Wait', component, reason: `waiting for the static etcd on ${node} to take over the member` };
      continue;
    }
    if (mirror === undefined || !mirror.ready || !hasPortSharing(mirror)) {
      return { type: 'Wait', component, reason: `waiting for the static ${component} on ${node} to become Ready beside the self-hosted one` };
    }
  }
  // 2. the workload goes; its pods were serving beside, or waiting behind, the static ones.
  const live = liveWorkload(snap, c);
  if (live !== undefined && isDeleting(live)) return { type: 'Wait', component, reason: `waiting for ${c.kind} ${c.workloadName} and its pods to go` };
  if (live !== undefined) return gated({ type: 'DeleteWorkload', component, kind: c.kind, name: c.workloadName });
  const left = snap.nodes.flatMap((n) => selfPodsOn(snap, component, n.name));
  if (left.length > 0) return { type: 'Wait', component, reason: `waiting for the self-hosted ${component} pods to go (${left.map((p) => p.name).join(', ')})` };
  return undefined;
}

/**
 * 3. kubeadm's form: on each node, one write turns every hand-back variant into the restored
 * manifest, so the kubelet restarts them together: one gap instead of one per component. Why
 * together: a static pod restarted alone while the apiserver is up and etcd is not (etcd's own
 * restart) blocks the kubelet on the mirror pod for up to a minute (requests to an apiserver
 * without etcd hang); restarted with the apiserver, those requests are refused at once.
 */
function computeRestoreAction(input: UnpivotInput, ordered: readonly DesiredComponent[], gated: Gate): UnpivotAction | undefined {
  const { snap, want } = input;
  for (const n of snap.nodes) {
    const node = n.name;
    const pending = ordered.flatMap((c) => {
      const r = input.restore.byComponent.get(c.name)?.get(node);
      return r !== undefined && fileKindOf(snap, node, c, r) === 'Handback' ? [{ c, r }] : [];
    });
    if (pending.length > 0) {
      const first = pending[0]?.c.name;
      if (pending.every(({ c }) => want.get(node, c) === 'Restored')) return { type: 'Wait', ...(first === undefined ? {} : { component: first }), reason: `the node agent on ${node} is writing the restored manifests` };
      let text = snap.agents.get(node)?.desiredText;
      for (const { c, r } of pending) text = withManifest(text, node, c, r, 'Restored');
      const names = pending.map(({ c }) => c.name).join(', ');
      return gated({ type: 'WriteAgentDesired', node, ...(first === undefined ? {} : { component: first }), text: text ?? '', why: `write the static pods of ${names} on ${node} in kubeadm's form (they restart together)` });
    }
    for (const c of ordered) {
      if (isNeverPivoted(input, c)) continue;
      if (!isRestoredMirrorReady(snap, c.name, node)) return { type: 'Wait', component: c.name, reason: `waiting for the static ${c.name} on ${node} to restart in kubeadm's form` };
    }
  }
  return undefined;
}

/** Names of selfhost's etcd snapshot Jobs, from their pods (until their TTL removes them). */
function snapshotJobs(snap: Snapshot): string[] {
  const names = snap.snapshotPods.map((p) => labelsOf(p)['batch.kubernetes.io/job-name'] ?? labelsOf(p)['job-name']).filter((n): n is string => n !== undefined);
  return [...new Set(names)].sort();
}

function isDeleting(obj: JsonObject): boolean {
  return metaOf(obj)['deletionTimestamp'] !== undefined;
}

function hasRelease(snap: Snapshot, node: string): boolean {
  return computeCurrentAgentDesired(snap.agents.get(node)?.desiredText, parseAgentDesired).release === true;
}

/** The workloads of selfhost that still exist (control-plane components and the agent). */
function remainingWorkloads(snap: Snapshot): string[] {
  const names = UNPIVOT_ORDER.map((c) => workloadKey(WORKLOAD_SHAPES[c].kind, workloadName(c)));
  return [...names, workloadKey('DaemonSet', AGENT_NAME)].filter((k) => snap.workloads.has(k));
}

function kubeadmTarget(input: UnpivotInput): KubeadmConfigTarget {
  const spec = input.snap.controlPlane.spec;
  return {
    kubernetesVersion: input.desired.version ?? spec.version,
    ...(spec.etcd.version === undefined ? {} : { etcdImageTag: spec.etcd.version }),
    ...(spec.imageRepository === undefined ? {} : { imageRepository: spec.imageRepository }),
  };
}

/** Steps 0-3 for `ordered`; undefined when they are all handed back. */
function computeComponentsAction(input: UnpivotInput, ordered: readonly DesiredComponent[], started: ReadonlySet<ComponentName>): UnpivotAction | undefined {
  const { snap, desired } = input;
  if (desired.waiting !== undefined) return { type: 'Wait', reason: desired.waiting };
  const names = new Set(ordered.map((c) => c.name));
  const refusals = [...desired.refusals, ...input.restore.refusals].filter((r) => input.only === undefined || (r.component !== undefined && names.has(r.component)));
  if (refusals.length > 0) return { type: 'Blocked', reason: `cannot hand back: ${refusals.map(formatRefusal).join('; ')}` };
  const gated: Gate = (action) => {
    const failure = computePreflightFailure(snap, desired);
    if (failure === undefined) return action;
    return { type: 'Wait', ...('component' in action && action.component !== undefined ? { component: action.component } : {}), reason: `preflight: ${failure}` };
  };
  // What runs must be what spec asks for: the unpivot writes spec.version's manifests.
  for (const c of ordered) {
    if (started.has(c.name) || liveWorkload(snap, c) === undefined) continue;
    if (!isWorkloadCurrent(snap, c)) {
      return {
        type: 'Blocked',
        component: c.name,
        reason: `${c.name} does not run what spec asks for (spec.version ${snap.controlPlane.spec.version}): the unpivot hands back what runs once it is what spec says; set spec.mode back to SelfHosted to let the rollout finish (or spec.version back to the running version), then unpivot`,
      };
    }
    if (!isRolloutComplete(liveWorkload(snap, c))) return { type: 'Wait', component: c.name, reason: `waiting for the ${c.workloadName} rollout to finish before handing it back` };
  }
  // 0. checkpoints first (one component alone: the checkpoint planner drops its checkpoint, as it
  // drops every component not in spec.components; wait for the agent to have removed it).
  for (const n of snap.nodes) {
    const current = computeCurrentAgentDesired(snap.agents.get(n.name)?.desiredText, parseAgentDesired);
    const onDisk = (snap.agents.get(n.name)?.observed?.checkpoints ?? []).filter((k) => input.only === undefined || names.has(k.component as ComponentName));
    if (input.only === undefined && ((current.checkpoints?.length ?? 0) > 0 || (current.checkpoints === undefined && onDisk.length > 0))) {
      return { type: 'WriteAgentDesired', node: n.name, text: formatAgentDesired({ ...current, checkpoints: [] }), why: `remove the checkpoints on ${n.name} before handing components back` };
    }
    if (onDisk.length > 0) return { type: 'Wait', reason: `the node agent on ${n.name} is removing the checkpoint(s) of ${onDisk.map((k) => k.component).join(', ')}` };
  }
  // 1-2. each component.
  for (const c of ordered) {
    const action = computeComponentAction(input, c, gated);
    if (action !== undefined) return action;
  }
  // 3. all of them into kubeadm's form at once.
  return computeRestoreAction(input, ordered, gated);
}

export function computeUnpivotPlan(input: UnpivotInput): UnpivotPlan {
  const { snap, desired } = input;
  const handedBack = desired.components.filter((c) => c.static !== undefined && UNPIVOT_ORDER.includes(c.name) && (input.only === undefined || input.only.includes(c.name)));
  const ordered = UNPIVOT_ORDER.flatMap((name) => handedBack.filter((c) => c.name === name));
  const done = new Set(ordered.filter((c) => isComponentHandedBack(input, c)).map((c) => c.name));
  const started = new Set(
    ordered.filter((c) => done.has(c.name) || snap.nodes.some((n) => ['Handback', 'Restored'].includes(input.want.get(n.name, c) ?? ''))).map((c) => c.name),
  );
  const finished =
    input.only === undefined && remainingWorkloads(snap).length === 0 && snap.configMapNames.length === 0 && !snap.pods.some((p) => p.agent) && snapshotJobs(snap).length === 0;
  const plan = (action: UnpivotAction): UnpivotPlan => ({ action, done, started, finished });
  if (finished) return plan({ type: 'Done' });
  if (input.only !== undefined) return plan(computeComponentsAction(input, ordered, started) ?? { type: 'Done' });

  const released = snap.nodes.length > 0 && snap.nodes.every((n) => hasRelease(snap, n.name));
  if (!released) {
    const action = computeComponentsAction(input, ordered, started);
    if (action !== undefined) return plan(action);
    // 4. kubeadm's record.
    if (input.kubeadmConfig === undefined) return plan({ type: 'ReadKubeadmConfig' });
    const update = computeKubeadmConfigUpdate(input.kubeadmConfig ?? undefined, kubeadmTarget(input));
    if (update.kind === 'Update') return plan({ type: 'UpdateKubeadmConfig', text: update.text, changes: update.changes });
  }
  // 5. release the nodes, then remove the agent and selfhost's ConfigMaps.
  for (const n of snap.nodes) {
    if (hasRelease(snap, n.name)) continue;
    const release: AgentDesired = { manifests: [], checkpoints: [], release: true };
    return plan({ type: 'WriteAgentDesired', node: n.name, text: formatAgentDesired(release), why: `release ${n.name}: nothing there is self-hosted any more (the agent removes its backups)` });
  }
  for (const n of snap.nodes) {
    const agentRuns = snap.pods.some((p) => p.agent && p.node === n.name && !p.deleting);
    if (agentRuns && (!isAgentSynced(snap, n.name) || (snap.agents.get(n.name)?.observed?.backups.length ?? 0) > 0)) {
      return plan({ type: 'Wait', reason: `the node agent on ${n.name} is removing what selfhost left on the node` });
    }
  }
  const leftovers = remainingWorkloads(snap);
  const agentKey = workloadKey('DaemonSet', AGENT_NAME);
  const stray = leftovers.filter((k) => k !== agentKey);
  if (stray.length > 0) return plan({ type: 'Blocked', reason: `${stray.join(', ')} still exist(s) after the hand-back` });
  const agentSet = snap.workloads.get(agentKey);
  if (agentSet !== undefined && isDeleting(agentSet)) return plan({ type: 'Wait', reason: `waiting for DaemonSet ${AGENT_NAME} and its pods to go` });
  if (agentSet !== undefined) return plan({ type: 'DeleteWorkload', kind: 'DaemonSet', name: AGENT_NAME });
  if (snap.pods.some((p) => p.agent)) return plan({ type: 'Wait', reason: 'waiting for the node agent pods to go' });
  // The pre-upgrade snapshot Jobs (their files stay on the node: docs/etcd-snapshot.md).
  const jobs = snapshotJobs(snap);
  if (jobs.length > 0) return plan({ type: 'DeleteJobs', names: jobs });
  return plan({ type: 'DeleteConfigMaps', names: snap.configMapNames });
}

/** The hand-back of components dropped from spec.components (spec.mode SelfHosted). */
export interface DroppedHandback {
  readonly components: readonly ComponentName[];
  readonly plan: UnpivotPlan;
}

/**
 * Components dropped from spec.components after their pivot (a workload of theirs exists, or their
 * hand-back has begun) and the unpivot plan for them alone; undefined when there are none.
 */
export function computeDroppedHandback(snap: Snapshot, image: string): DroppedHandback | undefined {
  const spec = snap.controlPlane.spec;
  // Cheap first (this runs on every pass): a workload of an unlisted component, or a hand-back
  // state in some node's desired.json. Only then the conversion of every component.
  const candidates = UNPIVOT_ORDER.filter((c) => !spec.components.includes(c));
  const handingBack = snap.nodes.some((n) =>
    computeCurrentAgentDesired(snap.agents.get(n.name)?.desiredText, parseAgentDesired).manifests.some((m) => m.state === 'Handback' || m.state === 'Restored'),
  );
  if (!handingBack && !candidates.some((c) => snap.workloads.has(workloadKey(WORKLOAD_SHAPES[c].kind, workloadName(c))))) return undefined;
  // The desired state of every component, so the dropped ones have their sources and manifests.
  const all: Snapshot = { ...snap, controlPlane: { ...snap.controlPlane, spec: { ...spec, components: [...COMPONENTS] } } };
  const desired = computeDesiredState(all, { image, atVersion: spec.version });
  const want = computeWantedStates(all, parseAgentDesired);
  const only = candidates.filter((name) => {
    const c = desired.components.find((d) => d.name === name);
    if (c === undefined) return false;
    return liveWorkload(snap, c) !== undefined || snap.nodes.some((n) => ['Handback', 'Restored'].includes(want.get(n.name, c) ?? ''));
  });
  if (only.length === 0) return undefined;
  const plan = computeUnpivotPlan({ snap: all, desired, restore: computeRestoreSet(all, desired, image), want, only });
  return { components: only, plan };
}
