/**
 * The observed world of one reconcile pass, read once from the informer caches and never
 * re-read during the pass: every decision of the pass is made on this one picture.
 */
import { AGENT_DESIRED_KEY, AGENT_OBSERVED_KEY, parseAgentObserved, type AgentObserved } from '../api/agent.js';
import { ANNOTATION_TEMPLATE_HASH, CONTROL_PLANE_NODE_LABEL, LABEL_CHECKPOINT_OF, LABEL_COMPONENT } from '../api/constants.js';
import { parseRevisions, REVISIONS_CONFIGMAP, type Revisions } from '../api/revisions.js';
import { COMPONENTS, type ComponentName, type ControlPlane } from '../api/types.js';
import type { JsonObject } from '../kube/client.js';

export interface NodeView {
  readonly name: string;
  readonly uid: string;
  readonly ready: boolean;
  /** InternalIP, what the kubelet reports as its pods' hostIP. */
  readonly ip?: string;
}

export interface PodView {
  readonly name: string;
  readonly node?: string;
  readonly component?: ComponentName;
  /** A pod of the node agent's DaemonSet. */
  readonly agent: boolean;
  /** A mirror pod: the API's copy of a static pod. */
  readonly mirror: boolean;
  readonly ready: boolean;
  readonly deleting: boolean;
  /** selfhost.dev/template-hash of a self-hosted pod. */
  readonly templateHash?: string;
  /** Main container's command + args (the first container). */
  readonly commandLine: readonly string[];
  readonly image?: string;
  /** Names of init containers that are running now or finished successfully. */
  readonly initStarted: readonly string[];
  /** The first (main) container is running. */
  readonly mainRunning: boolean;
  /** Restarts of all its containers (init and main): a health gate wants 0 on new pods. */
  readonly restarts: number;
  /** lastTransitionTime of its Ready condition while Ready (the settle period counts from it). */
  readonly readySince?: string;
  /**
   * Why a container cannot run, when it cannot: "container kube-apiserver: CrashLoopBackOff: <the
   * last lines of its termination message>". Undefined while everything runs or starts normally.
   */
  readonly failure?: string;
  /** The kubelet's waiting reason behind `failure` (CrashLoopBackOff, ImagePullBackOff, …). */
  readonly failureReason?: string;
}

/** A checkpoint's mirror pod. */
export interface CheckpointPodView extends PodView {
  readonly checkpointOf: ComponentName;
}

export interface AgentView {
  readonly node: string;
  /** desired.json as stored (the operator's last write). */
  readonly desiredText?: string;
  readonly observed?: AgentObserved;
  /** Why observed.json could not be read. */
  readonly observedError?: string;
}

export interface Snapshot {
  readonly controlPlane: ControlPlane;
  /** Control-plane nodes, sorted by name. */
  readonly nodes: readonly NodeView[];
  readonly agents: ReadonlyMap<string, AgentView>;
  /** kube-system pods of a component (mirror or self-hosted) or of the agent, sorted by name. */
  readonly pods: readonly PodView[];
  /** Every DaemonSet and Deployment in kube-system (raw), keyed `Kind/name`. */
  readonly workloads: ReadonlyMap<string, JsonObject>;
  /** The last known good revision of each component (kube-system/selfhost-revisions). */
  readonly revisions: Revisions;
  /** Pods of the etcd snapshot Jobs (selfhost.dev/component=etcd-snapshot), raw: their status carries the result. */
  readonly snapshotPods: readonly JsonObject[];
  /**
   * Mirror pods of the checkpoints (what the kubelet runs from the agent's checkpoint files), sorted
   * by name: their template hash says which revision the kubelet runs now, not only what is on disk.
   */
  readonly checkpointPods: readonly CheckpointPodView[];
  /** Names of selfhost's ConfigMaps in kube-system (agents, revisions), sorted. */
  readonly configMapNames: readonly string[];
}

export interface RawWorld {
  readonly controlPlane: ControlPlane;
  readonly nodes: readonly JsonObject[];
  readonly configMaps: readonly JsonObject[];
  readonly pods: readonly JsonObject[];
  readonly daemonSets: readonly JsonObject[];
  readonly deployments: readonly JsonObject[];
}

/** The annotation the kubelet puts on a mirror pod (the API's copy of a static pod). */
export const MIRROR_ANNOTATION = 'kubernetes.io/config.mirror';

/** Wire JSON accessors: a missing or mistyped field reads as empty, never throws. */
export function rec(v: unknown): Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}
export function num(v: unknown): number {
  return typeof v === 'number' ? v : 0;
}
export function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}
export function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

export function metaOf(obj: unknown): Record<string, unknown> {
  return rec(rec(obj)['metadata']);
}
export function nameOf(obj: unknown): string {
  return str(metaOf(obj)['name']) ?? '';
}
export function labelsOf(obj: unknown): Record<string, string> {
  return rec(metaOf(obj)['labels']) as Record<string, string>;
}
export function annotationsOf(obj: unknown): Record<string, string> {
  return rec(metaOf(obj)['annotations']) as Record<string, string>;
}

/** Waiting reasons that mean a container will not come up by itself. */
const FAILING_WAITING_REASONS = new Set([
  'CrashLoopBackOff',
  'ErrImagePull',
  'ImagePullBackOff',
  'ErrImageNeverPull',
  'InvalidImageName',
  'CreateContainerConfigError',
  'CreateContainerError',
  'RunContainerError',
]);

/** The last lines of a termination message, at most 512 characters (a condition stays readable). */
function tailOf(text: string): string {
  const lines = text.trim().split('\n').slice(-3).join(' | ');
  return lines.length > 512 ? `…${lines.slice(-511)}` : lines;
}

/** Why one of the pod's containers cannot run (pure; see PodView.failure). */
export function computePodFailure(status: Record<string, unknown>): string | undefined {
  return computePodFailureDetail(status)?.message;
}

function computePodFailureDetail(status: Record<string, unknown>): { reason: string; message: string } | undefined {
  const all = [...arr(status['initContainerStatuses']), ...arr(status['containerStatuses'])].map(rec);
  for (const s of all) {
    const waiting = rec(rec(s['state'])['waiting']);
    const reason = str(waiting['reason']);
    if (reason === undefined || !FAILING_WAITING_REASONS.has(reason)) continue;
    const last = rec(rec(s['lastState'])['terminated']);
    const detail = str(last['message']) ?? str(waiting['message']) ?? '';
    const exit = typeof last['exitCode'] === 'number' ? ` (exit code ${String(last['exitCode'])})` : '';
    return { reason, message: `container ${str(s['name']) ?? '?'}: ${reason}${exit}${detail === '' ? '' : `: ${tailOf(detail)}`}` };
  }
  return undefined;
}

function hasTrueCondition(obj: unknown, type: string): boolean {
  return arr(rec(rec(obj)['status'])['conditions']).some((c) => rec(c)['type'] === type && rec(c)['status'] === 'True');
}

export function computeNodeView(node: JsonObject): NodeView {
  const addresses = arr(rec(node['status'])['addresses']).map(rec);
  const ip = str(addresses.find((a) => a['type'] === 'InternalIP')?.['address']);
  return {
    name: nameOf(node),
    uid: str(metaOf(node)['uid']) ?? '',
    ready: hasTrueCondition(node, 'Ready'),
    ...(ip === undefined ? {} : { ip }),
  };
}

function isComponent(v: string | undefined): v is ComponentName {
  return v !== undefined && (COMPONENTS as readonly string[]).includes(v);
}

/**
 * Which component a pod runs: ours carry selfhost.dev/component; kubeadm's static pods carry
 * `component: <name>`; otherwise a mirror pod named `<component>-<node>`.
 */
export function computePodComponent(pod: JsonObject, mirror: boolean, node: string | undefined): ComponentName | undefined {
  const labels = labelsOf(pod);
  const ours = labels[LABEL_COMPONENT];
  if (isComponent(ours)) return ours;
  if (!mirror) return undefined;
  if (isComponent(labels['component'])) return labels['component'];
  const name = nameOf(pod);
  const base = node !== undefined && name.endsWith(`-${node}`) ? name.slice(0, -node.length - 1) : name;
  return isComponent(base) ? base : undefined;
}

/** What a pod is to the operator: the first fields of its PodView, cheap to compute. */
export interface PodRole {
  readonly node?: string;
  readonly mirror: boolean;
  readonly component?: ComponentName;
  /** A pod of the node agent's DaemonSet. */
  readonly agent: boolean;
  /** A pod of an etcd snapshot Job (selfhost.dev/component=etcd-snapshot): read raw. */
  readonly etcdSnapshot: boolean;
  /** A checkpoint's mirror pod (selfhost.dev/checkpoint-of): the component it holds. */
  readonly checkpointOf?: ComponentName;
}

export function computePodRole(pod: JsonObject): PodRole {
  const node = str(rec(pod['spec'])['nodeName']);
  const mirror = annotationsOf(pod)[MIRROR_ANNOTATION] !== undefined;
  const component = computePodComponent(pod, mirror, node);
  const ours = labelsOf(pod)[LABEL_COMPONENT];
  const checkpointOf = labelsOf(pod)[LABEL_CHECKPOINT_OF];
  return {
    ...(node === undefined ? {} : { node }),
    mirror,
    ...(component === undefined ? {} : { component }),
    agent: !mirror && ours === 'agent',
    etcdSnapshot: ours === 'etcd-snapshot',
    ...(mirror && isComponent(checkpointOf) ? { checkpointOf } : {}),
  };
}

/**
 * A pod some pass reads: a component's (mirror or self-hosted), the agent's, or an etcd snapshot
 * Job's. computeSnapshot ignores every other pod, so the informer caches only a stub of it
 * (cache-transform.ts): in a large cluster kube-system holds a few pods per node that are none of
 * these until selfhost adopts them.
 */
export function isOperatorPod(role: PodRole): boolean {
  return role.component !== undefined || role.agent || role.etcdSnapshot || role.checkpointOf !== undefined;
}

export function computePodView(pod: JsonObject, role: PodRole = computePodRole(pod)): PodView {
  const spec = rec(pod['spec']);
  const status = rec(pod['status']);
  const { node, mirror, component, agent } = role;
  const main = rec(arr(spec['containers'])[0]);
  const commandLine = [...arr(main['command']), ...arr(main['args'])].filter((s): s is string => typeof s === 'string');
  const initStarted = arr(status['initContainerStatuses'])
    .map(rec)
    .filter((s) => {
      const state = rec(s['state']);
      return state['running'] !== undefined || rec(state['terminated'])['exitCode'] === 0;
    })
    .map((s) => str(s['name']) ?? '');
  const mainName = str(main['name']);
  const mainRunning = arr(status['containerStatuses'])
    .map(rec)
    .some((s) => str(s['name']) === mainName && rec(s['state'])['running'] !== undefined);
  const templateHash = annotationsOf(pod)[ANNOTATION_TEMPLATE_HASH];
  const image = str(main['image']);
  const restarts = [...arr(status['initContainerStatuses']), ...arr(status['containerStatuses'])]
    .map(rec)
    .reduce((sum, s) => sum + num(s['restartCount']), 0);
  const readyCondition = arr(status['conditions']).map(rec).find((c) => c['type'] === 'Ready' && c['status'] === 'True');
  const readySince = str(readyCondition?.['lastTransitionTime']);
  const failureDetail = computePodFailureDetail(status);
  const failure = failureDetail?.message;
  return {
    name: nameOf(pod),
    ...(node === undefined ? {} : { node }),
    ...(component === undefined ? {} : { component }),
    agent,
    mirror,
    ready: hasTrueCondition(pod, 'Ready'),
    deleting: metaOf(pod)['deletionTimestamp'] !== undefined,
    ...(templateHash === undefined ? {} : { templateHash }),
    commandLine,
    ...(image === undefined ? {} : { image }),
    initStarted,
    mainRunning,
    restarts,
    ...(readySince === undefined ? {} : { readySince }),
    ...(failure === undefined ? {} : { failure }),
    ...(failureDetail === undefined ? {} : { failureReason: failureDetail.reason }),
  };
}

export function computeAgentView(node: string, cm: JsonObject | undefined): AgentView {
  const data = rec(cm?.['data']);
  const desiredText = str(data[AGENT_DESIRED_KEY]);
  const observedText = str(data[AGENT_OBSERVED_KEY]);
  let observed: AgentObserved | undefined;
  let observedError: string | undefined;
  if (observedText !== undefined) {
    try {
      observed = parseAgentObserved(observedText);
    } catch (err) {
      observedError = err instanceof Error ? err.message : String(err);
    }
  }
  return {
    node,
    ...(desiredText === undefined ? {} : { desiredText }),
    ...(observed === undefined ? {} : { observed }),
    ...(observedError === undefined ? {} : { observedError }),
  };
}

const byName = <T extends { name: string }>(a: T, b: T): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

export function workloadKey(kind: string, name: string): string {
  return `${kind}/${name}`;
}

/** The snapshot of a pass, from the raw objects (pure). */
export function computeSnapshot(world: RawWorld, agentConfigMapName: (node: string) => string): Snapshot {
  const nodes = world.nodes
    .filter((n) => labelsOf(n)[CONTROL_PLANE_NODE_LABEL] !== undefined)
    .map(computeNodeView)
    .sort(byName);
  const cms = new Map(world.configMaps.map((cm) => [nameOf(cm), cm]));
  const agents = new Map(nodes.map((n) => [n.name, computeAgentView(n.name, cms.get(agentConfigMapName(n.name)))]));
  const workloads = new Map<string, JsonObject>();
  for (const ds of world.daemonSets) workloads.set(workloadKey('DaemonSet', nameOf(ds)), ds);
  for (const d of world.deployments) workloads.set(workloadKey('Deployment', nameOf(d)), d);
  const revisions = parseRevisions(rec(cms.get(REVISIONS_CONFIGMAP)?.['data']));
  // One pass over kube-system's pods (thousands in a large cluster): each pod's role decides which
  // of the three lists reads it; pods of none of them (the informer's stubs) get no view at all.
  const pods: PodView[] = [];
  const snapshotPods: JsonObject[] = [];
  const checkpointPods: CheckpointPodView[] = [];
  for (const raw of world.pods) {
    const role = computePodRole(raw);
    if (role.etcdSnapshot) snapshotPods.push(raw);
    if (role.component === undefined && !role.agent && role.checkpointOf === undefined) continue;
    const view = computePodView(raw, role);
    if (view.component !== undefined || view.agent) pods.push(view);
    if (role.checkpointOf !== undefined) checkpointPods.push({ ...view, checkpointOf: role.checkpointOf });
  }
  pods.sort(byName);
  checkpointPods.sort(byName);
  snapshotPods.sort((a, b) => (nameOf(a) < nameOf(b) ? -1 : 1));
  const configMapNames = [...cms.keys()].sort();
  return { controlPlane: world.controlPlane, nodes, agents, pods, workloads, revisions, snapshotPods, checkpointPods, configMapNames };
}
