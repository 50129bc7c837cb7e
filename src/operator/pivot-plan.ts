/**
 * The pivot planner (pure): from the snapshot and the desired state to each component's progress
 * and the one next action.
 *
 * Decisions come from the world only (files the agent reports, mirror pods, workloads, pods), never
 * from memory, so a pass after a crash at any point computes the same next action. The agent's
 * desired.json is part of that world: it records which files the operator asked to change.
 *
 * Per node, controller-manager and scheduler (leader-elected, a short overlap is harmless):
 *   1. Prepared   the agent rewrites the static manifest with --permit-port-sharing; the kubelet
 *                 restarts the static pod, which now shares its port;
 *   2. workload   apply the Deployment; its pod binds the same port next to the static one;
 *   3. Ready      wait for the self-hosted pod to be Ready;
 *   4. Retired    the agent removes the static manifest; done when the file and the mirror pod are gone.
 * etcd (never two processes on one data dir) and kube-apiserver (a kubeadm apiserver cannot share
 * its port, so the shortest outage is one start; see convert/mutators/handover-gate.ts):
 *   1. workload   apply the DaemonSet; its pod is bound and its handover gate waits;
 *   2. gate       wait until the gate runs on that node (the pod is admitted; no API needed later);
 *   3. Retired    the agent removes the manifest; the static pod stops, the gate opens, the
 *                 self-hosted one starts (etcd on the same data dir); done when the self-hosted
 *                 pod is Ready and the mirror is gone.
 * kube-proxy and the CNI are adopted: apply, done when the rollout completed.
 *
 * Every action that can disrupt something (changing a manifest, applying a workload) first passes
 * the preflight gate: all control-plane nodes Ready, every agent Ready and caught up, every
 * managed component with a Ready instance on every node.
 */
import { type AgentDesired, type ManifestState } from '../api/agent.js';
import type { ComponentMode, ComponentName } from '../api/types.js';
import { formatRefusal } from '../convert/index.js';
import { sha256Hex } from '../convert/hash.js';
import { GATE_CONTAINER, GATE_IN_MAIN_CONTAINER, GATED_COMPONENTS } from '../convert/mutators/handover-gate.js';
import { liveWorkload, type DesiredComponent, type DesiredState } from './desired.js';
import { num, rec, workloadKey, type NodeView, type PodView, type Snapshot } from './snapshot.js';
import { isAppliedSubset } from './subset.js';

export type PivotAction =
  | { readonly type: 'ApplyAgent' }
  | { readonly type: 'ApplyWorkload'; readonly component: ComponentName }
  | {
      readonly type: 'SetManifest';
      readonly component: ComponentName;
      readonly node: string;
      readonly state: ManifestState;
    }
  | { readonly type: 'Wait'; readonly component?: ComponentName; readonly reason: string }
  | { readonly type: 'Blocked'; readonly component?: ComponentName; readonly reason: string }
  | { readonly type: 'Done' };

export interface ComponentProgress {
  readonly name: ComponentName;
  readonly mode: ComponentMode;
  /** The pivot step of this component finished (self-hosted and healthy, nothing static left). */
  readonly done: boolean;
  /** Some part of its handover happened (a manifest changed or a workload exists). */
  readonly started: boolean;
  /** Instances per control-plane node that are Ready (mirror or self-hosted). */
  readonly readyNodes: number;
}

export interface PivotPlan {
  readonly action: PivotAction;
  readonly components: readonly ComponentProgress[];
}

export type FileState = 'Original' | 'Prepared' | 'Absent' | 'Other';

/** What the agent reports for one manifest path. */
export function computeFileState(snap: Snapshot, node: string, c: DesiredComponent): FileState {
  const s = c.staticByNode?.get(node) ?? c.static;
  if (s === undefined) return 'Absent';
  const file = snap.agents.get(node)?.observed?.manifests.find((f) => f.path === s.path);
  if (file === undefined) return 'Absent';
  if (file.sha256 === s.originalSha256) return 'Original';
  if (file.sha256 === s.preparedSha256) return 'Prepared';
  return 'Other';
}

/** The agent's desired.json of a node, parsed; empty when none or unreadable. */
export function computeCurrentAgentDesired(text: string | undefined, parse: (t: string) => AgentDesired): AgentDesired {
  if (text === undefined) return { manifests: [] };
  try {
    return parse(text);
  } catch {
    return { manifests: [] };
  }
}

/** Has the agent on this node acted on the operator's latest desired.json? */
export function isAgentSynced(snap: Snapshot, node: string): boolean {
  const agent = snap.agents.get(node);
  if (agent?.observed === undefined) return false;
  const want = agent.desiredText === undefined ? '' : sha256Hex(agent.desiredText);
  return agent.observed.desiredSha256 === want;
}

export function mirrorOf(snap: Snapshot, component: ComponentName, node: string): PodView | undefined {
  return snap.pods.find((p) => p.mirror && p.component === component && p.node === node);
}

function selfPodsOf(snap: Snapshot, component: ComponentName, node: string): PodView[] {
  return snap.pods.filter((p) => !p.mirror && !p.agent && p.component === component && p.node === node && !p.deleting);
}


/** A workload's rollout is complete: observed, all updated, all available. */
export function isRolloutComplete(workload: Record<string, unknown> | undefined): boolean {
  if (workload === undefined) return false;
  const meta = rec(workload['metadata']);
  const spec = rec(workload['spec']);
  const status = rec(workload['status']);
  if (num(status['observedGeneration']) < num(meta['generation'])) return false;
  if (workload['kind'] === 'Deployment') {
    const replicas = typeof spec['replicas'] === 'number' ? spec['replicas'] : 1;
    return (
      num(status['updatedReplicas']) >= replicas &&
      num(status['availableReplicas']) >= replicas &&
      num(status['replicas']) === num(status['updatedReplicas'])
    );
  }
  const desired = num(status['desiredNumberScheduled']);
  return desired > 0 && num(status['updatedNumberScheduled']) === desired && num(status['numberAvailable']) === desired;
}

export function isWorkloadCurrent(snap: Snapshot, c: DesiredComponent): boolean {
  return isAppliedSubset(c.object, liveWorkload(snap, c));
}

/** The self-hosted instance serving this node is Ready and runs the desired template. */
function isSelfReady(snap: Snapshot, c: DesiredComponent, node: string): boolean {
  if (c.kind === 'Deployment') return isWorkloadCurrent(snap, c) && isRolloutComplete(liveWorkload(snap, c));
  return selfPodsOf(snap, c.name, node).some((p) => p.ready && p.templateHash === c.templateHash);
}

/** The pod's gate runs (so the pod needs nothing from the API any more): in its main container or as an init container. */
function isGateWaiting(pod: PodView, component: ComponentName): boolean {
  // etcd's init container only installs the gate; the gate itself then runs as the main container.
  return pod.initStarted.includes(GATE_CONTAINER) && (!GATE_IN_MAIN_CONTAINER.has(component) || pod.mainRunning);
}

export function hasPortSharing(pod: PodView): boolean {
  return pod.commandLine.some((a) => a === '--permit-port-sharing=true' || a === '--permit-port-sharing');
}

function isComponentDoneOn(snap: Snapshot, c: DesiredComponent, node: string): boolean {
  // A recorded revision means the pivot of this component finished and was proven; from then on
  // its template belongs to the rollout planner (upgrades change it), so only a static manifest
  // or mirror pod reappearing on the node makes it a pivot matter again.
  if (snap.revisions.has(c.name)) {
    return c.static === undefined || (computeFileState(snap, node, c) === 'Absent' && mirrorOf(snap, c.name, node) === undefined);
  }
  if (c.static === undefined) return isWorkloadCurrent(snap, c) && isRolloutComplete(liveWorkload(snap, c));
  return (
    computeFileState(snap, node, c) === 'Absent' &&
    mirrorOf(snap, c.name, node) === undefined &&
    isWorkloadCurrent(snap, c) &&
    isSelfReady(snap, c, node)
  );
}

function readyInstancesOn(snap: Snapshot, c: DesiredComponent, node: NodeView): boolean {
  if (c.static === undefined) return isRolloutComplete(liveWorkload(snap, c));
  if (mirrorOf(snap, c.name, node.name)?.ready === true) return true;
  if (c.kind === 'Deployment') return isRolloutComplete(liveWorkload(snap, c));
  return selfPodsOf(snap, c.name, node.name).some((p) => p.ready);
}

export function computeComponentProgress(snap: Snapshot, desired: DesiredState, want: WantedStates): ComponentProgress[] {
  return desired.components.map((c) => {
    const done = snap.nodes.length > 0 && snap.nodes.every((n) => isComponentDoneOn(snap, c, n.name));
    const live = liveWorkload(snap, c);
    const anyStatic = snap.nodes.some(
      (n) => computeFileState(snap, n.name, c) !== 'Absent' || mirrorOf(snap, c.name, n.name) !== undefined,
    );
    const started =
      snap.revisions.has(c.name) ? true : c.static === undefined
        ? live !== undefined && isWorkloadCurrent(snap, c)
        : live !== undefined || snap.nodes.some((n) => (want.get(n.name, c) ?? 'Original') !== 'Original');
    const mode: ComponentMode = done
      ? 'SelfHosted'
      : c.static === undefined
        ? live === undefined
          ? 'Absent'
          : started
            ? 'SelfHosted'
            : 'StaticPod'
        : anyStatic
          ? 'StaticPod'
          : live !== undefined
            ? 'SelfHosted'
            : 'Absent';
    const readyNodes = snap.nodes.filter((n) => readyInstancesOn(snap, c, n)).length;
    return { name: c.name, mode, done, started, readyNodes };
  });
}

/** What the operator asked each node's agent for, per component (from desired.json). */
export interface WantedStates {
  get(node: string, c: DesiredComponent): ManifestState | undefined;
}

export function computeWantedStates(snap: Snapshot, parse: (t: string) => AgentDesired): WantedStates {
  const parsed = new Map(snap.nodes.map((n) => [n.name, computeCurrentAgentDesired(snap.agents.get(n.name)?.desiredText, parse)]));
  return {
    get(node, c) {
      const s = c.static;
      if (s === undefined) return undefined;
      return parsed.get(node)?.manifests.find((m) => m.path === s.path)?.state;
    },
  };
}

/** Why the cluster is not healthy enough for a disruptive step; undefined when it is. */
export function computePreflightFailure(snap: Snapshot, desired: DesiredState): string | undefined {
  const notReady = snap.nodes.filter((n) => !n.ready).map((n) => n.name);
  if (notReady.length > 0) return `node(s) ${notReady.join(', ')} not Ready`;
  for (const n of snap.nodes) {
    if (!snap.pods.some((p) => p.agent && p.node === n.name && p.ready && !p.deleting)) return `the node agent on ${n.name} is not Ready`;
    if (!isAgentSynced(snap, n.name)) return `the node agent on ${n.name} has not caught up with its desired state`;
    const conflicts = snap.agents.get(n.name)?.observed?.conflicts ?? [];
    if (conflicts.length > 0) return `the node agent on ${n.name} reports: ${conflicts.map((c) => c.message).join('; ')}`;
  }
  for (const c of desired.components) {
    const missing = snap.nodes.filter((n) => !readyInstancesOn(snap, c, n)).map((n) => n.name);
    if (missing.length > 0) return `${c.name} has no Ready instance on ${missing.join(', ')}`;
  }
  return undefined;
}

function gated(snap: Snapshot, desired: DesiredState, action: PivotAction): PivotAction {
  const failure = computePreflightFailure(snap, desired);
  if (failure === undefined) return action;
  const component = 'component' in action ? action.component : undefined;
  return { type: 'Wait', ...(component === undefined ? {} : { component }), reason: `preflight: ${failure}` };
}

/**
 * Who wrote a static manifest that appeared for a self-hosted component, as far as its content
 * tells: kubeadm marks its control-plane manifests (label tier=control-plane, kubeadm.kubernetes.io
 * annotations). `kubeadm upgrade apply` and `kubeadm join --control-plane` write these files; the
 * operator never removes them (the file is nowhere else), it stops and says what to do.
 */
export function computeCollisionReason(snap: Snapshot, node: string, component: ComponentName, path: string): string {
  const content = snap.agents.get(node)?.observed?.manifests.find((f) => f.path === path)?.content ?? '';
  const byKubeadm = /kubeadm\.kubernetes\.io\//.test(content) || /tier:\s*control-plane/.test(content);
  const who = byKubeadm ? 'kubeadm (its labels and annotations; `kubeadm upgrade apply` and `kubeadm join --control-plane` write this file)' : 'someone other than selfhost';
  return `a static manifest ${path} appeared on ${node} for the self-hosted ${component}, written by ${who}: selfhost leaves it alone and changes nothing for ${component}; to go on self-hosted, move the file out of the manifest directory; to go back to kubeadm, set spec.mode StaticPods after moving it (docs/design.md "kubeadm after the pivot")`;
}

/** Before any step on a node: its agent caught up, and no conflict on the component's manifest. */
function computeNodeGuard(snap: Snapshot, c: DesiredComponent, node: string, path: string): PivotAction | undefined {
  const component = c.name;
  if (!isAgentSynced(snap, node)) return { type: 'Wait', component, reason: `the node agent on ${node} is applying its desired state` };
  const conflicts = snap.agents.get(node)?.observed?.conflicts.filter((x) => x.path === path) ?? [];
  if (conflicts.length > 0) {
    const collision = snap.revisions.has(component) ? computeCollisionReason(snap, node, component, path) : undefined;
    return { type: 'Blocked', component, reason: [collision, ...conflicts.map((x) => x.message)].filter((x) => x !== undefined).join('; ') };
  }
  return undefined;
}

/**
 * What makes the static `c` on `node` share its port (its Prepared manifest, then the kubelet's
 * restart with port sharing); undefined once it does, for a component without a port-sharing
 * variant, or where no static manifest is left to prepare.
 */
function computePrepareAction(snap: Snapshot, desired: DesiredState, c: DesiredComponent, node: string, want: ManifestState | undefined): PivotAction | undefined {
  const s = c.staticByNode?.get(node) ?? c.static;
  if (s?.preparedSha256 === undefined) return undefined;
  const component = c.name;
  const file = computeFileState(snap, node, c);
  if (file !== 'Original' && file !== 'Prepared') return undefined;
  if (file === 'Original') {
    if (want === 'Prepared') return { type: 'Wait', component, reason: `the node agent on ${node} is preparing ${s.path}` };
    return gated(snap, desired, { type: 'SetManifest', component, node, state: 'Prepared' });
  }
  const mirror = mirrorOf(snap, component, node);
  if (mirror === undefined || !mirror.ready || !hasPortSharing(mirror)) {
    return { type: 'Wait', component, reason: `waiting for the static ${component} on ${node} to restart with port sharing` };
  }
  return undefined;
}

/** The next action for one static component on one node; undefined when it is done there. */
function computeStaticNodeAction(
  snap: Snapshot,
  desired: DesiredState,
  c: DesiredComponent,
  node: string,
  want: ManifestState | undefined,
): PivotAction | undefined {
  const s = c.staticByNode?.get(node) ?? c.static;
  if (s === undefined) return undefined;
  if (isComponentDoneOn(snap, c, node)) return undefined;
  const component = c.name;
  const guard = computeNodeGuard(snap, c, node, s.path);
  if (guard !== undefined) return guard;
  const file = computeFileState(snap, node, c);
  const mirror = mirrorOf(snap, component, node);
  const current = isWorkloadCurrent(snap, c);

  if (want === 'Retired') {
    if (file !== 'Absent') return { type: 'Wait', component, reason: `the node agent on ${node} is retiring ${s.path}` };
    if (!current) return { type: 'ApplyWorkload', component };
    if (mirror !== undefined) return { type: 'Wait', component, reason: `the mirror pod ${mirror.name} is still there` };
    return { type: 'Wait', component, reason: `waiting for the self-hosted ${component} on ${node} to become Ready` };
  }
  if (file === 'Other') {
    return {
      type: 'Blocked',
      component,
      reason: `${s.path} on ${node} changed on disk: it is neither the original (sha256 ${s.originalSha256.slice(0, 12)}) nor the port-sharing variant`,
    };
  }
  if (file === 'Absent') {
    return {
      type: 'Blocked',
      component,
      reason: `${s.path} is missing on ${node} and selfhost did not retire it`,
    };
  }

  if (GATED_COMPONENTS.has(component)) {
    if (!current) return gated(snap, desired, { type: 'ApplyWorkload', component });
    const pod = selfPodsOf(snap, component, node).find((p) => p.templateHash === c.templateHash);
    if (pod === undefined) return { type: 'Wait', component, reason: `waiting for the self-hosted ${component} pod to be placed on ${node}` };
    if (!isGateWaiting(pod, component)) {
      return { type: 'Wait', component, reason: `waiting for the handover gate of ${pod.name} to run` };
    }
    return gated(snap, desired, { type: 'SetManifest', component, node, state: 'Retired' });
  }

  const prepare = computePrepareAction(snap, desired, c, node, want);
  if (prepare !== undefined) return prepare;
  if (!current) return gated(snap, desired, { type: 'ApplyWorkload', component });
  if (!isSelfReady(snap, c, node)) {
    return { type: 'Wait', component, reason: `waiting for the self-hosted ${component} on ${node} to become Ready` };
  }
  return gated(snap, desired, { type: 'SetManifest', component, node, state: 'Retired' });
}

function isAgentCurrent(snap: Snapshot, desired: DesiredState): boolean {
  const name = String(rec(desired.agentDaemonSet['metadata'])['name']);
  return isAppliedSubset(desired.agentDaemonSet, snap.workloads.get(workloadKey('DaemonSet', name)));
}

export function computePivotPlan(snap: Snapshot, desired: DesiredState, want: WantedStates): PivotPlan {
  const components = computeComponentProgress(snap, desired, want);
  const plan = (action: PivotAction): PivotPlan => ({ action, components });
  if (!isAgentCurrent(snap, desired)) return plan({ type: 'ApplyAgent' });
  if (desired.waiting !== undefined) return plan({ type: 'Wait', reason: desired.waiting });
  if (desired.refusals.length > 0) {
    return plan({ type: 'Blocked', reason: `cannot convert: ${desired.refusals.map(formatRefusal).join('; ')}` });
  }
  for (const c of desired.components) {
    if (c.static === undefined) {
      if (isComponentDoneOn(snap, c, '')) continue;
      if (!isWorkloadCurrent(snap, c)) return plan(gated(snap, desired, { type: 'ApplyWorkload', component: c.name }));
      return plan({ type: 'Wait', component: c.name, reason: `waiting for the ${c.workloadName} rollout` });
    }
    // A Deployment's replicas (one per control-plane node) start on every node at once: each
    // node's static must share its port before the Deployment exists, or the new pods crash-loop
    // on the port until their node's turn, and the rollout never completes (seen on tier ha: the
    // pivot waited for ever on the scheduler of node 1). Also when the Deployment exists already
    // (a pivot stuck that way by an older operator): preparing a static is always safe.
    if (c.kind === 'Deployment') {
      for (const n of snap.nodes) {
        const s = c.staticByNode?.get(n.name) ?? c.static;
        if (s === undefined || isComponentDoneOn(snap, c, n.name)) continue;
        const prepare = computeNodeGuard(snap, c, n.name, s.path) ?? computePrepareAction(snap, desired, c, n.name, want.get(n.name, c));
        if (prepare !== undefined) return plan(prepare);
      }
    }
    for (const n of snap.nodes) {
      const action = computeStaticNodeAction(snap, desired, c, n.name, want.get(n.name, c));
      if (action !== undefined) return plan(action);
    }
  }
  return plan({ type: 'Done' });
}
