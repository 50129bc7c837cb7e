/**
 * The model behind `selfhost status` (pure): from one snapshot of the cluster — the ControlPlane,
 * the Nodes and the kube-system pods and workloads, read once — to what the command shows, as
 * data. The text view (status-view.ts) and `-o json|yaml` are two renderings of this one model.
 *
 * The ControlPlane's status is the operator's account (phase, conditions, plan, checkpoints,
 * lastUpgrade); the per-node table is read from the pods themselves with the operator's own
 * helpers (src/operator/snapshot.ts, status.ts), so it shows what runs even when the operator is
 * not running or is behind.
 */
import { CONTROL_PLANE_NODE_LABEL, LABEL_COMPONENT, LABEL_MANAGED_BY, MANAGED_BY_VALUE } from '../api/constants.js';
import {
  COMPONENTS,
  type CheckpointStatus,
  type ComponentName,
  type ComponentStatus,
  type Condition,
  type ControlPlane,
  type ControlPlaneMode,
  type LastUpgrade,
  type Operation,
  type Phase,
  type PlanStep,
} from '../api/types.js';
import type { JsonObject } from '../kube/client.js';
import { arr, computeNodeView, computePodRole, computePodView, labelsOf, metaOf, nameOf, rec, str, type PodView } from '../operator/snapshot.js';
import { computePodVersion } from '../operator/status.js';
import { computeSecondsBetween } from './status-table.js';

/** What the live layer read, once (wire JSON as the API returned it). */
export interface StatusSnapshot {
  /** The ControlPlane asked for (--name). */
  readonly name: string;
  /** Undefined: there is no such ControlPlane. */
  readonly controlPlane?: ControlPlane;
  /** Every Node; control-plane nodes carry kubeadm's node-role label. */
  readonly nodes: readonly JsonObject[];
  /** Pods in kube-system. */
  readonly pods: readonly JsonObject[];
  /** DaemonSets and Deployments in kube-system. */
  readonly workloads: readonly JsonObject[];
  readonly now: Date;
}

/**
 * How one instance of a component runs on a node: `static` a kubeadm static pod (its mirror pod),
 * `self-hosted` a pod of selfhost's workload, `checkpoint` the node-local checkpoint standing in
 * for it, `daemonset` a pod of a DaemonSet selfhost has not adopted (yet): kubeadm's kube-proxy,
 * the CNI as installed.
 */
export type InstanceMode = 'static' | 'self-hosted' | 'checkpoint' | 'daemonset';

export interface InstanceModel {
  readonly pod: string;
  readonly mode: InstanceMode;
  readonly version?: string;
  readonly ready: boolean;
  readonly deleting: boolean;
  readonly restarts: number;
  /** Why a container cannot run (CrashLoopBackOff, ImagePullBackOff, ...). */
  readonly failure?: string;
}

export interface NodeComponentModel {
  readonly component: ComponentName;
  /** The instance that serves (or should): Ready first, then self-hosted before the rest. */
  readonly mode: InstanceMode | 'absent';
  readonly version?: string;
  readonly ready: boolean;
  /** Every instance on the node: two while one hands over to the other. */
  readonly instances: readonly InstanceModel[];
}

export interface NodeModel {
  readonly name: string;
  readonly ready: boolean;
  readonly kubeletVersion?: string;
  readonly components: readonly NodeComponentModel[];
}

export interface ConditionModel extends Condition {
  /** Seconds since lastTransitionTime. */
  readonly forSeconds?: number;
}

export interface StepModel extends PlanStep {
  /** 1-based position in the plan. */
  readonly number: number;
  /** finishedAt − startedAt, or now − startedAt while it runs. */
  readonly durationSeconds?: number;
}

export interface PlanModel {
  readonly operation: Operation;
  readonly fromVersion?: string;
  readonly toVersion?: string;
  readonly current?: number;
  readonly steps: readonly StepModel[];
}

export interface CheckpointModel extends CheckpointStatus {
  /** Seconds since the checkpointed template was proven. */
  readonly ageSeconds?: number;
}

export interface LastUpgradeModel extends LastUpgrade {
  /** finishedAt − startedAt, or now − startedAt while it runs. */
  readonly durationSeconds?: number;
}

/** The document `-o json|yaml` prints. */
export interface StatusModel {
  readonly name: string;
  readonly found: boolean;
  readonly observedAt: string;
  readonly spec?: { readonly version: string; readonly mode: ControlPlaneMode; readonly paused: boolean; readonly components: readonly ComponentName[] };
  readonly generation?: number;
  readonly observedGeneration?: number;
  /** The version the control plane runs (status.version: the lowest seen). */
  readonly version?: string;
  readonly phase?: Phase;
  readonly step?: string;
  readonly conditions: readonly ConditionModel[];
  readonly nodes: readonly NodeModel[];
  /** status.components: per component, across nodes (workload, desired/updated/ready). */
  readonly components: readonly ComponentStatus[];
  readonly plan?: PlanModel;
  readonly checkpoints: readonly CheckpointModel[];
  readonly lastUpgrade?: LastUpgradeModel;
}

/** Conditions users look at first; the rest follow in the order the operator wrote them. */
const CONDITION_ORDER = ['Ready', 'Degraded', 'Progressing', 'SelfHosted', 'EtcdHealthy', 'ComponentsHealthy'];

/** Per-node rows in skew order: what an upgrade moves first comes first. */
const NODE_COMPONENT_ORDER: readonly ComponentName[] = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kube-proxy', 'cni'];

const MODE_RANK: Readonly<Record<InstanceMode, number>> = { 'self-hosted': 0, checkpoint: 1, static: 2, daemonset: 3 };

function isComponent(v: string | undefined): v is ComponentName {
  return v !== undefined && (COMPONENTS as readonly string[]).includes(v);
}

/** The DaemonSet (or ReplicaSet) that owns a pod, by name. */
function ownerOf(pod: JsonObject, kind: string): string | undefined {
  const owner = arr(metaOf(pod)['ownerReferences']).map(rec).find((o) => o['kind'] === kind);
  return str(owner?.['name']);
}

interface DaemonSetOwner {
  readonly component: ComponentName;
  readonly adopted: boolean;
}

/**
 * DaemonSets whose pods are a component's without carrying selfhost's label: the kube-proxy and
 * CNI DaemonSets, named by status.components (their workload) or by selfhost's label on the
 * DaemonSet itself once adopted; kubeadm's `kube-proxy` before anything is known.
 */
function computeDaemonSetOwners(snap: StatusSnapshot): Map<string, DaemonSetOwner> {
  const out = new Map<string, DaemonSetOwner>();
  const statusWorkloads = new Map((snap.controlPlane?.status?.components ?? []).flatMap((c) => (c.workload === undefined ? [] : [[c.workload, c.name] as const])));
  for (const w of snap.workloads) {
    if (w['kind'] !== 'DaemonSet') continue;
    const name = nameOf(w);
    const labels = labelsOf(w);
    const own = labels[LABEL_COMPONENT];
    const component = isComponent(own) ? own : (statusWorkloads.get(name) ?? (name === 'kube-proxy' ? 'kube-proxy' : undefined));
    if (component === undefined) continue;
    out.set(name, { component, adopted: labels[LABEL_MANAGED_BY] === MANAGED_BY_VALUE });
  }
  return out;
}

interface PlacedInstance {
  readonly node: string;
  readonly component: ComponentName;
  readonly instance: InstanceModel;
}

function instanceOf(view: PodView, component: ComponentName, mode: InstanceMode): InstanceModel {
  const version = computePodVersion(component, view.image);
  return {
    pod: view.name,
    mode,
    ...(version === undefined ? {} : { version }),
    ready: view.ready,
    deleting: view.deleting,
    restarts: view.restarts,
    ...(view.failure === undefined ? {} : { failure: view.failure }),
  };
}

/** Every pod that is an instance of a component, with its node and how it runs. */
export function computeInstances(snap: StatusSnapshot): PlacedInstance[] {
  const owners = computeDaemonSetOwners(snap);
  const activeCheckpoints = new Set((snap.controlPlane?.status?.checkpoints ?? []).filter((c) => c.active).map((c) => `${c.node}/${c.component}`));
  const out: PlacedInstance[] = [];
  for (const pod of snap.pods) {
    const role = computePodRole(pod);
    const view = computePodView(pod, role);
    if (view.node === undefined || view.agent) continue;
    const checkpointOf = role.checkpointOf;
    if (checkpointOf !== undefined) {
      // A dormant checkpoint is Ready too (it has no probes): it counts only while it stands in.
      if (activeCheckpoints.has(`${view.node}/${checkpointOf}`)) {
        out.push({ node: view.node, component: checkpointOf, instance: instanceOf(view, checkpointOf, 'checkpoint') });
      }
      continue;
    }
    if (view.component !== undefined) {
      out.push({ node: view.node, component: view.component, instance: instanceOf(view, view.component, view.mirror ? 'static' : 'self-hosted') });
      continue;
    }
    const ds = ownerOf(pod, 'DaemonSet');
    const owner = ds === undefined ? undefined : owners.get(ds);
    if (owner !== undefined) {
      out.push({ node: view.node, component: owner.component, instance: instanceOf(view, owner.component, owner.adopted ? 'self-hosted' : 'daemonset') });
    }
  }
  return out;
}

/** Serving first: Ready, not terminating, self-hosted before checkpoint before static. */
function compareInstances(a: InstanceModel, b: InstanceModel): number {
  return (
    Number(b.ready) - Number(a.ready) ||
    Number(a.deleting) - Number(b.deleting) ||
    MODE_RANK[a.mode] - MODE_RANK[b.mode] ||
    (a.pod < b.pod ? -1 : a.pod > b.pod ? 1 : 0)
  );
}

export function computeNodeComponent(component: ComponentName, instances: readonly InstanceModel[]): NodeComponentModel {
  const sorted = [...instances].sort(compareInstances);
  const primary = sorted[0];
  return {
    component,
    mode: primary?.mode ?? 'absent',
    ...(primary?.version === undefined ? {} : { version: primary.version }),
    ready: primary?.ready === true,
    instances: sorted,
  };
}

function computeNodes(snap: StatusSnapshot): NodeModel[] {
  const managed = snap.controlPlane?.spec.components ?? COMPONENTS;
  const placed = computeInstances(snap);
  return snap.nodes
    .filter((n) => labelsOf(n)[CONTROL_PLANE_NODE_LABEL] !== undefined)
    .map((n) => {
      const view = computeNodeView(n);
      const kubeletVersion = str(rec(rec(n['status'])['nodeInfo'])['kubeletVersion']);
      const here = placed.filter((p) => p.node === view.name);
      const components = NODE_COMPONENT_ORDER.filter((c) => managed.includes(c) || here.some((p) => p.component === c)).map((c) =>
        computeNodeComponent(
          c,
          here.filter((p) => p.component === c).map((p) => p.instance),
        ),
      );
      return { name: view.name, ready: view.ready, ...(kubeletVersion === undefined ? {} : { kubeletVersion }), components };
    })
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function conditionRank(type: string): number {
  const i = CONDITION_ORDER.indexOf(type);
  return i < 0 ? CONDITION_ORDER.length : i;
}

export function computeConditions(conditions: readonly Condition[], now: Date): ConditionModel[] {
  return conditions
    .map((c, i) => ({ c, i }))
    .sort((a, b) => conditionRank(a.c.type) - conditionRank(b.c.type) || a.i - b.i)
    .map(({ c }) => {
      const forSeconds = computeSecondsBetween(c.lastTransitionTime, now);
      return { ...c, ...(forSeconds === undefined ? {} : { forSeconds }) };
    });
}

export function computeStepModel(step: PlanStep, index: number, now: Date): StepModel {
  const end = step.finishedAt ?? (step.state === 'Running' ? now : undefined);
  const durationSeconds = computeSecondsBetween(step.startedAt, end);
  return { ...step, number: index + 1, ...(durationSeconds === undefined ? {} : { durationSeconds }) };
}

function computeLastUpgrade(last: LastUpgrade | undefined, now: Date): LastUpgradeModel | undefined {
  if (last === undefined) return undefined;
  const end = last.finishedAt ?? (last.result === 'Running' || last.result === 'RollingBack' ? now : undefined);
  const durationSeconds = computeSecondsBetween(last.startedAt, end);
  return { ...last, ...(durationSeconds === undefined ? {} : { durationSeconds }) };
}

/** The status model of one snapshot (pure). */
export function computeStatusModel(snap: StatusSnapshot): StatusModel {
  const cp = snap.controlPlane;
  const observedAt = snap.now.toISOString();
  if (cp === undefined) {
    return { name: snap.name, found: false, observedAt, conditions: [], nodes: computeNodes(snap), components: [], checkpoints: [] };
  }
  const st = cp.status ?? {};
  const plan = st.plan;
  const lastUpgrade = computeLastUpgrade(st.lastUpgrade, snap.now);
  return {
    name: snap.name,
    found: true,
    observedAt,
    spec: { version: cp.spec.version, mode: cp.spec.mode, paused: cp.spec.paused, components: cp.spec.components },
    ...(cp.metadata.generation === undefined ? {} : { generation: cp.metadata.generation }),
    ...(st.observedGeneration === undefined ? {} : { observedGeneration: st.observedGeneration }),
    ...(st.version === undefined ? {} : { version: st.version }),
    ...(st.phase === undefined ? {} : { phase: st.phase }),
    ...(st.step === undefined ? {} : { step: st.step }),
    conditions: computeConditions(st.conditions ?? [], snap.now),
    nodes: computeNodes(snap),
    components: st.components ?? [],
    ...(plan === undefined
      ? {}
      : {
          plan: {
            operation: plan.operation,
            ...(plan.fromVersion === undefined ? {} : { fromVersion: plan.fromVersion }),
            ...(plan.toVersion === undefined ? {} : { toVersion: plan.toVersion }),
            ...(plan.current === undefined ? {} : { current: plan.current }),
            steps: plan.steps.map((s, i) => computeStepModel(s, i, snap.now)),
          },
        }),
    checkpoints: [...(st.checkpoints ?? [])]
      .sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : NODE_COMPONENT_ORDER.indexOf(a.component) - NODE_COMPONENT_ORDER.indexOf(b.component)))
      .map((c) => {
        const ageSeconds = computeSecondsBetween(c.provenAt, snap.now);
        return { ...c, ...(ageSeconds === undefined ? {} : { ageSeconds }) };
      }),
    ...(lastUpgrade === undefined ? {} : { lastUpgrade }),
  };
}
