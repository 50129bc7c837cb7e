/**
 * One reconcile pass of the ControlPlane: observe → plan → act → status.
 *
 * Steps:
 *  1. observe: one snapshot from the informer caches (never re-read during the pass);
 *  2. plan: desired objects and the next pivot action, both pure;
 *  3. act: at most one change (the planner's action), skipped when halted (paused/unsupported);
 *  4. status: computed once and written only when it differs from the stored one;
 *  5. events and metrics for the step transitions this pass saw.
 * A pass that finds nothing to do sends no write request at all.
 */
import type { Logger } from 'pino';
import {
  AGENT_DESIRED_KEY,
  LABEL_AGENT_NODE,
  agentConfigMapName,
  formatAgentDesired,
  parseAgentDesired,
  type DesiredManifest,
  type ManifestState,
} from '../api/agent.js';
import { CONTROL_PLANE_NAME, LABEL_MANAGED_BY, MANAGED_BY_VALUE, SYSTEM_NAMESPACE } from '../api/constants.js';
import { API_GROUP, API_VERSION, KIND, PLURAL, type ControlPlaneStatus, type PlanStep } from '../api/types.js';
import { canonicalJson } from '../convert/hash.js';
import type { ReconcileResult } from '../controller/reconciler.js';
import type { JsonObject, KubeClient } from '../kube/client.js';
import { computeDesiredState, computePivotVersion, type DesiredComponent, type DesiredState } from './desired.js';
import { computeDesiredEtcdVia } from './etcd-via.js';
import {
  computeCurrentAgentDesired,
  computePivotPlan,
  computeWantedStates,
  type PivotAction,
  type PivotPlan,
} from './pivot-plan.js';
import { computeRevisionOf, computeRolloutPlan, type RolloutAction, type RolloutPlan } from './rollout-plan.js';
import { computeSnapshot, type RawWorld, type Snapshot } from './snapshot.js';
import { computeStatus } from './status.js';
import { formatRevisions, LABEL_REVISIONS, REVISIONS_CONFIGMAP, type Revision } from '../api/revisions.js';
import type { CheckpointStatus, ComponentName, LastUpgrade } from '../api/types.js';
import { computeCheckpointPlan, type CheckpointPlan } from './checkpoint-plan.js';
import { CLUSTER_CONFIGURATION_KEY, KUBEADM_CONFIG_PATH } from './kubeadm-config.js';
import { computeRestoreSet } from './unpivot-desired.js';
import { computeDroppedHandback, computeUnpivotPlan, type UnpivotAction } from './unpivot-plan.js';
import { computeHandbackStatus, computeUnpivotStatus, describeUnpivotAction } from './unpivot-status.js';

export interface EventInput {
  type: 'Normal' | 'Warning';
  reason: string;
  action: string;
  note: string;
}

/** Where events go (events.ts's recorder; best-effort, never throws). */
export interface EventSink {
  emit(regarding: JsonObject, event: EventInput): void;
}

/** What the pass reports to metrics. */
export interface PassObserver {
  observe(status: ControlPlaneStatus, finishedSteps: readonly { step: PlanStep; seconds: number }[]): void;
}

export interface ReconcileDeps {
  readonly client: KubeClient;
  /** The world from the informer caches; undefined when the ControlPlane does not exist. */
  readonly readWorld: (name: string) => RawWorld | undefined;
  /** Image of the node agent and the etcd handover gate. */
  readonly image: string;
  readonly events: EventSink;
  readonly observer?: PassObserver;
  readonly now: () => Date;
  /** Requeue delay while something is in progress (ms). */
  readonly progressRequeueMs?: number;
  /** How long every new pod of a rollout must stay Ready before its step passes (ms; default 10 s). */
  readonly settleMs?: number;
  /**
   * The last status this process wrote per object (by uid). The informer cache lags behind our own
   * write, and comparing with it would write again and repeat step events. The operator is the
   * only status writer and a deposed leader exits, so our own last write is the truth.
   */
  readonly written?: Map<string, { uid: string | undefined; status: ControlPlaneStatus }>;
}

const CP_PATH = `/apis/${API_GROUP}/${API_VERSION}/${PLURAL}`;

function workloadPath(obj: JsonObject): string {
  const meta = obj['metadata'] as { name?: string; namespace?: string } | undefined;
  const plural = obj['kind'] === 'Deployment' ? 'deployments' : 'daemonsets';
  return `/apis/apps/v1/namespaces/${meta?.namespace ?? SYSTEM_NAMESPACE}/${plural}/${meta?.name ?? ''}`;
}

/** The node's desired.json with one manifest's state changed (pure). */
export function computeAgentDesiredText(
  currentText: string | undefined,
  component: DesiredComponent,
  state: ManifestState,
  node?: string,
): string {
  const current = computeCurrentAgentDesired(currentText, parseAgentDesired);
  const s = (node === undefined ? undefined : component.staticByNode?.get(node)) ?? component.static;
  if (s === undefined) throw new Error(`${component.name} has no static manifest`);
  const entry: DesiredManifest = {
    path: s.path,
    state,
    originalSha256: s.originalSha256,
    ...(state === 'Prepared' && s.preparedContent !== undefined ? { content: s.preparedContent } : {}),
    // What the agent may find there from an earlier Prepared step, and may therefore replace.
    ...(s.preparedSha256 === undefined ? {} : { writtenSha256: [s.preparedSha256] }),
  };
  return formatAgentDesired({ ...current, manifests: [...current.manifests.filter((m) => m.path !== s.path), entry] });
}

function describeAction(a: PivotAction): string {
  switch (a.type) {
    case 'ApplyAgent':
      return 'apply the node agent DaemonSet';
    case 'ApplyWorkload':
      return `apply the ${a.component} workload`;
    case 'SetManifest':
      return `set ${a.component}'s static manifest on ${a.node} to ${a.state}`;
    case 'Wait':
    case 'Blocked':
      return a.reason;
    case 'Done':
      return 'nothing to do';
  }
}

/** Writes a node's desired.json (our field manager owns that key only). */
async function applyAgentDesired(deps: ReconcileDeps, node: string, text: string, signal: AbortSignal): Promise<void> {
  const name = agentConfigMapName(node);
  await deps.client.apply(
    `/api/v1/namespaces/${SYSTEM_NAMESPACE}/configmaps/${name}`,
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name,
        namespace: SYSTEM_NAMESPACE,
        labels: { [LABEL_MANAGED_BY]: MANAGED_BY_VALUE, [LABEL_AGENT_NODE]: node },
      },
      data: { [AGENT_DESIRED_KEY]: text },
    },
    {},
    signal,
  );
}

async function act(deps: ReconcileDeps, snap: Snapshot, desired: DesiredState, action: PivotAction, signal: AbortSignal): Promise<void> {
  switch (action.type) {
    case 'ApplyAgent':
      await deps.client.apply(workloadPath(desired.agentDaemonSet), desired.agentDaemonSet, {}, signal);
      return;
    case 'ApplyWorkload': {
      const c = desired.components.find((d) => d.name === action.component);
      if (c === undefined) throw new Error(`no desired workload for ${action.component}`);
      await deps.client.apply(workloadPath(c.object), c.object, {}, signal);
      return;
    }
    case 'SetManifest': {
      const c = desired.components.find((d) => d.name === action.component);
      if (c === undefined) throw new Error(`no desired state for ${action.component}`);
      const text = computeAgentDesiredText(snap.agents.get(action.node)?.desiredText, c, action.state, action.node);
      await applyAgentDesired(deps, action.node, text, signal);
      return;
    }
    case 'Wait':
    case 'Blocked':
    case 'Done':
      return;
  }
}

async function applyRevisions(deps: ReconcileDeps, snap: Snapshot, updates: ReadonlyMap<ComponentName, Revision>, signal: AbortSignal): Promise<void> {
  await deps.client.apply(
    `/api/v1/namespaces/${SYSTEM_NAMESPACE}/configmaps/${REVISIONS_CONFIGMAP}`,
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: REVISIONS_CONFIGMAP,
        namespace: SYSTEM_NAMESPACE,
        labels: { [LABEL_MANAGED_BY]: MANAGED_BY_VALUE, [LABEL_REVISIONS]: 'true' },
      },
      data: formatRevisions(snap.revisions, updates),
    },
    {},
    signal,
  );
}

async function actRollout(deps: ReconcileDeps, snap: Snapshot, action: RolloutAction, signal: AbortSignal): Promise<void> {
  switch (action.type) {
    case 'Apply':
      await deps.client.apply(workloadPath(action.object), action.object, {}, signal);
      return;
    case 'RecordRevision':
      await applyRevisions(deps, snap, new Map([[action.component, action.revision]]), signal);
      return;
    case 'CreateSnapshotJob': {
      const meta = action.job['metadata'] as { name?: string } | undefined;
      await deps.client.apply(`/apis/batch/v1/namespaces/${SYSTEM_NAMESPACE}/jobs/${meta?.name ?? ''}`, action.job, {}, signal);
      return;
    }
    case 'DeletePod':
      await deps.client.delete(`/api/v1/namespaces/${SYSTEM_NAMESPACE}/pods/${action.pod}`, undefined, signal);
      return;
    case 'RecordSnapshot': // status only: lastUpgrade.snapshot
    case 'Fail': // status only: lastUpgrade records the failure, the next pass rolls back
    case 'Wait':
    case 'Blocked':
    case 'Done':
      return;
  }
}

function describeRolloutAction(a: RolloutAction): string {
  switch (a.type) {
    case 'Apply':
      return `apply the ${a.component} workload (${a.why})`;
    case 'RecordRevision':
      return `record ${a.component}'s template ${a.revision.templateHash.slice(0, 12)} as last known good`;
    case 'Fail':
      return `the rollout failed: ${a.message}`;
    case 'CreateSnapshotJob':
      return 'create the etcd snapshot Job';
    case 'RecordSnapshot':
      return `record the verified etcd snapshot ${a.snapshot.path} on ${a.snapshot.node}`;
    case 'DeletePod':
      return `replace ${a.component}'s pod ${a.pod} on ${a.node} (its checkpoint holds the member meanwhile)`;
    case 'Wait':
    case 'Blocked':
      return a.reason;
    case 'Done':
      return 'nothing to do';
  }
}

/** Events for a change of status.lastUpgrade (pure). */
export function computeLastUpgradeEvents(before: LastUpgrade | undefined, after: LastUpgrade | undefined): EventInput[] {
  if (after === undefined) return [];
  if (before?.targetHash === after.targetHash && before.result === after.result) return [];
  const what = `${after.fromVersion ?? '?'} → ${after.toVersion}`;
  switch (after.result) {
    case 'Running':
      return [{ type: 'Normal', reason: 'RolloutStarted', action: 'Upgrade', note: `rollout ${what} started` }];
    case 'Succeeded':
      return [{ type: 'Normal', reason: 'RolloutSucceeded', action: 'Upgrade', note: `rollout ${what} succeeded` }];
    case 'RollingBack':
      return [{ type: 'Warning', reason: 'RollbackStarted', action: 'Rollback', note: `rollout ${what} failed, rolling back: ${after.message ?? ''}`.trim() }];
    case 'RolledBack':
      return [{ type: 'Warning', reason: 'RolledBack', action: 'Rollback', note: `rollout ${what} rolled back: ${after.message ?? ''}`.trim() }];
    case 'Failed':
      return [{ type: 'Warning', reason: 'RolloutFailed', action: 'Upgrade', note: `rollout ${what} failed: ${after.message ?? ''}`.trim() }];
  }
}

/** Events for checkpoints that started or stopped running their component (pure). */
export function computeCheckpointEvents(before: readonly CheckpointStatus[] | undefined, after: readonly CheckpointStatus[] | undefined): EventInput[] {
  const out: EventInput[] = [];
  for (const c of after ?? []) {
    const prev = before?.find((b) => b.node === c.node && b.component === c.component);
    if ((prev?.active ?? false) === c.active) continue;
    out.push(
      c.active
        ? { type: 'Warning', reason: 'CheckpointActivated', action: 'Checkpoint', note: `${c.component} on ${c.node} runs from its checkpoint (${c.version ?? c.templateHash.slice(0, 12)}): no self-hosted pod runs there` }
        : { type: 'Normal', reason: 'CheckpointStoodAside', action: 'Checkpoint', note: `${c.component} on ${c.node}: the self-hosted pod runs again; the checkpoint stood aside` },
    );
  }
  return out;
}

/** gitVersion of GET /version; undefined when it cannot be read (the gate then keeps waiting). */
async function readServedVersion(deps: ReconcileDeps, signal: AbortSignal): Promise<string | undefined> {
  try {
    const v = await deps.client.get('/version', signal);
    return typeof v?.['gitVersion'] === 'string' ? v['gitVersion'] : undefined;
  } catch {
    return undefined;
  }
}

function regardingOf(snap: Snapshot): JsonObject {
  const m = snap.controlPlane.metadata;
  return { apiVersion: `${API_GROUP}/${API_VERSION}`, kind: KIND, name: m.name ?? '', ...(m.uid === undefined ? {} : { uid: m.uid }) };
}

/** Events for steps whose state changed between the stored and the new status (pure). */
export function computeStepEvents(before: ControlPlaneStatus | undefined, after: ControlPlaneStatus): EventInput[] {
  const out: EventInput[] = [];
  for (const step of after.plan?.steps ?? []) {
    const prev = before?.plan?.steps.find((s) => s.component === step.component);
    if (prev?.state === step.state) continue;
    const what = `${step.action} ${step.component}`;
    if (step.state === 'Running') out.push({ type: 'Normal', reason: `${step.action}Started`, action: step.action, note: `${what} started: ${step.message ?? ''}`.trim() });
    if (step.state === 'Succeeded') out.push({ type: 'Normal', reason: `${step.action}Succeeded`, action: step.action, note: `${what} succeeded` });
    if (step.state === 'Failed') out.push({ type: 'Warning', reason: `${step.action}Failed`, action: step.action, note: `${what} failed: ${step.message ?? ''}`.trim() });
  }
  return out;
}

function stepSeconds(step: PlanStep): number {
  if (step.startedAt === undefined || step.finishedAt === undefined) return 0;
  return Math.max(0, (Date.parse(step.finishedAt) - Date.parse(step.startedAt)) / 1000);
}

export interface PassResult {
  readonly plan: PivotPlan;
  /** The rollout planner's result; undefined while the pivot is not done and proven. */
  readonly rollout?: RolloutPlan;
  readonly status: ControlPlaneStatus;
  readonly wrote: boolean;
}

/** Writes the status when it differs from the stored one; step events follow a write. */
async function writeStatus(deps: ReconcileDeps, name: string, snap: Snapshot, status: ControlPlaneStatus, signal: AbortSignal): Promise<boolean> {
  const before = snap.controlPlane.status;
  if (canonicalJson(before ?? {}) === canonicalJson(status)) return false;
  await deps.client.apply(
    `${CP_PATH}/${name}/status`,
    { apiVersion: `${API_GROUP}/${API_VERSION}`, kind: KIND, metadata: { name }, status: status as unknown as JsonObject },
    {},
    signal,
  );
  deps.written?.set(name, { uid: snap.controlPlane.metadata.uid, status });
  for (const e of computeStepEvents(before, status)) deps.events.emit(regardingOf(snap), e);
  return true;
}

/** kube-system/kubeadm-config, or null when the cluster has none (not made by kubeadm). */
async function readKubeadmConfig(deps: ReconcileDeps, signal: AbortSignal): Promise<JsonObject | null> {
  return (await deps.client.get(KUBEADM_CONFIG_PATH, signal)) ?? null;
}

async function actUnpivot(deps: ReconcileDeps, action: UnpivotAction, signal: AbortSignal): Promise<void> {
  switch (action.type) {
    case 'WriteAgentDesired':
      return applyAgentDesired(deps, action.node, action.text, signal);
    case 'DeletePod':
      await deps.client.delete(`/api/v1/namespaces/${SYSTEM_NAMESPACE}/pods/${action.pod}`, undefined, signal);
      return;
    case 'DeleteWorkload': {
      const plural = action.kind === 'Deployment' ? 'deployments' : 'daemonsets';
      // Foreground: the workload object stays until its pods are gone, so no pass sees neither.
      await deps.client.delete(`/apis/apps/v1/namespaces/${SYSTEM_NAMESPACE}/${plural}/${action.name}`, { apiVersion: 'v1', kind: 'DeleteOptions', propagationPolicy: 'Foreground' }, signal);
      return;
    }
    case 'UpdateKubeadmConfig':
      await deps.client.apply(
        KUBEADM_CONFIG_PATH,
        { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'kubeadm-config', namespace: SYSTEM_NAMESPACE }, data: { [CLUSTER_CONFIGURATION_KEY]: action.text } },
        {},
        signal,
      );
      return;
    case 'DeleteJobs':
      for (const n of action.names) {
        await deps.client.delete(`/apis/batch/v1/namespaces/${SYSTEM_NAMESPACE}/jobs/${n}`, { apiVersion: 'v1', kind: 'DeleteOptions', propagationPolicy: 'Background' }, signal);
      }
      return;
    case 'DeleteConfigMaps':
      for (const n of action.names) await deps.client.delete(`/api/v1/namespaces/${SYSTEM_NAMESPACE}/configmaps/${n}`, undefined, signal);
      return;
    case 'ReadKubeadmConfig':
    case 'Wait':
    case 'Blocked':
    case 'Done':
      return;
  }
}

/** A pass in spec.mode StaticPods: the unpivot planner instead of the pivot and rollout planners. */
async function reconcileUnpivot(deps: ReconcileDeps, name: string, snap: Snapshot, signal: AbortSignal, logger: Logger): Promise<PassResult> {
  const spec = snap.controlPlane.spec;
  const now = deps.now();
  const desired = computeDesiredState(snap, { image: deps.image, atVersion: spec.version });
  const want = computeWantedStates(snap, parseAgentDesired);
  const restore = computeRestoreSet(snap, desired, deps.image);
  const input = { snap, desired, restore, want };
  let unpivot = computeUnpivotPlan(input);
  if (unpivot.action.type === 'ReadKubeadmConfig') unpivot = computeUnpivotPlan({ ...input, kubeadmConfig: await readKubeadmConfig(deps, signal) });
  const what = describeUnpivotAction(unpivot.action) ?? 'nothing to do';
  logger.debug({ action: unpivot.action.type, what }, 'planned');
  const acts = !['Wait', 'Done', 'Blocked', 'ReadKubeadmConfig'].includes(unpivot.action.type);
  if (acts && !spec.paused) {
    logger.info({ action: unpivot.action.type, what }, 'acting');
    await actUnpivot(deps, unpivot.action, signal);
  }
  const status = computeUnpivotStatus({ snap, desired, unpivot, now, paused: spec.paused });
  const before = snap.controlPlane.status;
  const wrote = await writeStatus(deps, name, snap, status, signal);
  if (wrote && unpivot.action.type === 'Blocked' && before?.phase !== 'Degraded') {
    deps.events.emit(regardingOf(snap), { type: 'Warning', reason: 'Blocked', action: 'Unpivot', note: unpivot.action.reason });
  }
  if (wrote && unpivot.finished && before?.phase !== 'StaticPods') {
    deps.events.emit(regardingOf(snap), { type: 'Normal', reason: 'UnpivotSucceeded', action: 'Unpivot', note: 'every control-plane component runs as a static pod again; nothing of selfhost is left on the nodes' });
  }
  deps.observer?.observe(status, []);
  const a = unpivot.action;
  const plan: PivotPlan = { action: a.type === 'Done' ? { type: 'Done' } : a.type === 'Blocked' ? { type: 'Blocked', reason: a.reason } : { type: 'Wait', reason: what }, components: [] };
  return { plan, status, wrote };
}

/** One pass; exported for tests that drive it directly. */
export async function reconcilePass(deps: ReconcileDeps, name: string, signal: AbortSignal, logger: Logger): Promise<PassResult | undefined> {
  const raw = deps.readWorld(name);
  if (raw === undefined) return undefined;
  const memo = deps.written?.get(name);
  const world = memo !== undefined && memo.uid === raw.controlPlane.metadata.uid ? { ...raw, controlPlane: { ...raw.controlPlane, status: memo.status } } : raw;
  const snap = computeSnapshot(world, agentConfigMapName);
  const spec = snap.controlPlane.spec;
  const halted =
    name !== CONTROL_PLANE_NAME
      ? { reason: 'Unsupported' as const, message: `only controlplane/${CONTROL_PLANE_NAME} is acted on; this object is ignored` }
      : spec.paused
        ? { reason: 'Paused' as const, message: 'spec.paused is true: no step starts' }
        : undefined;
  if (spec.mode === 'StaticPods' && name === CONTROL_PLANE_NAME) return reconcileUnpivot(deps, name, snap, signal, logger);
  const pivotVersion = computePivotVersion(snap);
  const desired = computeDesiredState(snap, { image: deps.image, ...(pivotVersion === undefined ? {} : { atVersion: pivotVersion }) });
  const plan = computePivotPlan(snap, desired, computeWantedStates(snap, parseAgentDesired));
  const now = deps.now();
  // Components dropped from spec.components after their pivot are handed back alone, first.
  const handback = name === CONTROL_PLANE_NAME ? computeDroppedHandback(snap, deps.image) : undefined;

  // The pivot first; once it is done, its objects become the first proven revisions; from then on
  // the rollout planner owns the templates (upgrades, overrides, drift, rollback).
  const unproven = plan.action.type === 'Done' ? desired.components.filter((c) => !snap.revisions.has(c.name)) : [];
  let rollout: RolloutPlan | undefined;
  if (plan.action.type === 'Done' && unproven.length === 0) {
    const target = computeDesiredState(snap, { image: deps.image, atVersion: spec.version });
    // etcd below the floor of the target's etcd minor runs the published patch first (etcd-via.ts).
    const etcdVia = computeDesiredEtcdVia(snap, target, deps.image);
    const previousSteps = snap.controlPlane.status?.plan?.steps ?? [];
    const input = {
      snap,
      target,
      now,
      settleMs: deps.settleMs ?? 10_000,
      image: deps.image,
      ...(etcdVia === undefined ? {} : { etcdVia }),
      stepStartedAt: (component: ComponentName) => {
        const step = previousSteps.find((s) => s.component === component && s.state === 'Running' && s.action !== 'Pivot' && s.action !== 'Adopt');
        return step?.startedAt === undefined ? undefined : new Date(step.startedAt);
      },
    };
    rollout = computeRolloutPlan(input);
    // The last check of an apiserver step: the API itself serves the new version.
    if (rollout.action.type === 'RecordRevision' && rollout.action.component === 'kube-apiserver') {
      const served = await readServedVersion(deps, signal);
      rollout = computeRolloutPlan({ ...input, servedVersion: served ?? 'unknown (GET /version failed)' });
    }
  }

  // Checkpoints are kept in line whenever neither planner has a change to make: they never wait
  // for a preflight (they are the node's safety net), yet they never starve a repair either (a
  // deleted workload is re-applied first; the standby its lost pods lift follows in the next pass).
  const checkpoints: CheckpointPlan = name === CONTROL_PLANE_NAME ? computeCheckpointPlan(snap, now) : { statuses: [] };
  const acts = (a: { type: string }): boolean => a.type !== 'Wait' && a.type !== 'Done' && a.type !== 'Blocked';
  if (halted === undefined) {
    logger.debug({ action: plan.action.type, what: describeAction(plan.action) }, 'planned');
    if (handback !== undefined && acts(handback.plan.action)) {
      logger.info({ action: handback.plan.action.type, what: describeUnpivotAction(handback.plan.action), components: handback.components }, 'acting');
      await actUnpivot(deps, handback.plan.action, signal);
    } else if (acts(plan.action)) {
      logger.info({ action: plan.action.type, what: describeAction(plan.action) }, 'acting');
      await act(deps, snap, desired, plan.action, signal);
    } else if (unproven.length > 0) {
      logger.info({ components: unproven.map((c) => c.name) }, 'recording the pivoted workloads as last known good');
      await applyRevisions(deps, snap, new Map(unproven.map((c) => [c.name, computeRevisionOf(c, now)])), signal);
    } else if (rollout !== undefined && acts(rollout.action)) {
      logger.info({ action: rollout.action.type, what: describeRolloutAction(rollout.action) }, 'acting');
      await actRollout(deps, snap, rollout.action, signal);
    } else if (checkpoints.sync !== undefined) {
      logger.info({ node: checkpoints.sync.node }, "bringing the node's checkpoints in line");
      await applyAgentDesired(deps, checkpoints.sync.node, checkpoints.sync.text, signal);
    }
  }

  const pivotStatus = computeStatus({ snap, desired, plan, now, ...(halted === undefined ? {} : { halted }), ...(rollout === undefined ? {} : { rollout }) });
  const computed = handback === undefined ? pivotStatus : computeHandbackStatus(pivotStatus, handback, now);
  const status: ControlPlaneStatus = checkpoints.statuses.length === 0 ? computed : { ...computed, checkpoints: [...checkpoints.statuses] };
  const before = snap.controlPlane.status;
  const wrote = await writeStatus(deps, name, snap, status, signal);
  if (wrote) {
    const regarding = regardingOf(snap);
    for (const e of computeLastUpgradeEvents(before?.lastUpgrade, status.lastUpgrade)) deps.events.emit(regarding, e);
    for (const e of computeCheckpointEvents(before?.checkpoints, status.checkpoints)) deps.events.emit(regarding, e);
    if (plan.action.type === 'Blocked' && before?.phase !== 'Degraded') {
      deps.events.emit(regarding, { type: 'Warning', reason: 'Blocked', action: 'Pivot', note: plan.action.reason });
    }
    if (rollout?.action.type === 'Blocked' && before?.phase !== 'Degraded') {
      deps.events.emit(regarding, { type: 'Warning', reason: rollout.action.refusal ?? 'Blocked', action: 'Upgrade', note: rollout.action.reason });
    }
  }
  if (halted === undefined && rollout?.action.type === 'Apply' && rollout.action.why === 'Drift') {
    deps.events.emit(regardingOf(snap), { type: 'Normal', reason: 'DriftReverted', action: 'Apply', note: `${rollout.action.component}: the workload differed from its proven template; put it back` });
  }
  const finished = (status.plan?.steps ?? [])
    .filter((s) => s.state === 'Succeeded' && before?.plan?.steps.find((p) => p.component === s.component)?.state !== 'Succeeded')
    .map((step) => ({ step, seconds: stepSeconds(step) }));
  deps.observer?.observe(status, finished);
  return { plan, ...(rollout === undefined ? {} : { rollout }), status, wrote };
}

/** The controller's Reconcile for ControlPlane keys. */
export function makeReconcile(depsIn: ReconcileDeps) {
  const deps: ReconcileDeps = { written: new Map(), ...depsIn };
  return async (key: string, ctx: { logger: Logger; signal: AbortSignal }): Promise<ReconcileResult> => {
    const result = await reconcilePass(deps, key, ctx.signal, ctx.logger);
    if (result === undefined) return {};
    const a = result.rollout?.action ?? result.plan.action;
    if (a.type === 'Done' || a.type === 'Blocked') return {};
    return { requeueAfter: deps.progressRequeueMs ?? 2000 };
  };
}
