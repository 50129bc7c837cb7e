/**
 * Test worlds for the operator's pure code: a kubeadm v1.37.2 single control-plane node as the API
 * shows it (nodes, mirror pods, kube-proxy and CNI DaemonSets, the agent's ConfigMap), and a small
 * simulator of what the kubelet and the agent do in answer to each planner action.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { load, loadAll } from 'js-yaml';
import {
  AGENT_DESIRED_KEY,
  AGENT_OBSERVED_KEY,
  agentConfigMapName,
  LABEL_AGENT_NODE,
  parseAgentDesired,
  type AgentObserved,
  type ObservedCheckpoint,
  type ObservedFile,
} from '../../api/agent.js';
import { CONTROL_PLANE_NODE_LABEL, LABEL_COMPONENT } from '../../api/constants.js';
import type { ComponentName, ControlPlane, ControlPlaneSpec } from '../../api/types.js';
import { validateControlPlane } from '../../api/validate.js';
import { sha256Hex } from '../../convert/hash.js';
import { GATE_CONTAINER, GATE_EXEC_PATH, GATE_IN_MAIN_CONTAINER, GATED_COMPONENTS } from '../../convert/mutators/handover-gate.js';
import { kubeadmFixtures, TESTDATA } from '../../convert/testdata/helpers.js';
import type { JsonObject } from '../../kube/client.js';
import { computeDesiredState, computePivotVersion, type DesiredState } from '../desired.js';
import { computeDesiredEtcdVia } from '../etcd-via.js';
import { parseVersion } from '../../api/version.js';
import { releaseFor } from '../../versions/table.js';
import { computePivotPlan, computeWantedStates, type PivotAction, type PivotPlan } from '../pivot-plan.js';
import { computeSnapshot, type RawWorld, type Snapshot } from '../snapshot.js';
import { computeRevisionOf, computeRolloutPlan, type RolloutAction, type RolloutPlan } from '../rollout-plan.js';
import { formatRevisions, parseRevisions, REVISIONS_CONFIGMAP } from '../../api/revisions.js';
import { RECORD } from '../../etcd-snapshot/testing.js';
import { computeAgentDesiredText } from '../reconcile.js';
import { computeRestoreSet } from '../unpivot-desired.js';
import { computeUnpivotPlan, type UnpivotAction, type UnpivotPlan } from '../unpivot-plan.js';

export const IMAGE = 'localhost/selfhost/selfhost:test';
export const NODE = 'cp1';
export const NODE_IP = '192.0.2.10';
const KUBE_SYSTEM = 'kube-system';

export function makeControlPlane(spec: Partial<ControlPlaneSpec> = {}, status?: ControlPlane['status']): ControlPlane {
  const r = validateControlPlane({
    apiVersion: 'selfhost.dev/v1alpha1',
    kind: 'ControlPlane',
    metadata: { name: 'cluster' },
    spec: { version: 'v1.37.2', cni: { namespace: KUBE_SYSTEM, selector: { 'k8s-app': 'selfhost-cni' } }, ...spec },
  });
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return { ...r.value, metadata: { name: 'cluster', uid: 'cp-uid', generation: 1 }, ...(status === undefined ? {} : { status }) };
}

function fixture() {
  const f = kubeadmFixtures().find((x) => x.version === 'v1.37.2');
  if (f?.proxyDaemonSet === undefined) throw new Error('no v1.37.2 fixture with kube-proxy');
  return f;
}

function file(path: string, content: string): ObservedFile {
  return { path, sha256: sha256Hex(content), content };
}

const COMPONENT_FILES: Record<string, ComponentName> = {
  'etcd.yaml': 'etcd',
  'kube-apiserver.yaml': 'kube-apiserver',
  'kube-controller-manager.yaml': 'kube-controller-manager',
  'kube-scheduler.yaml': 'kube-scheduler',
};

function componentOfPath(path: string): ComponentName | undefined {
  return COMPONENT_FILES[path.slice(path.lastIndexOf('/') + 1)];
}

function commandOf(content: string): string[] {
  const pod = load(content) as { spec: { containers: { command?: string[]; image?: string }[] } };
  return pod.spec.containers[0]?.command ?? [];
}
function imageOf(content: string): string {
  const pod = load(content) as { spec: { containers: { image?: string }[] } };
  return pod.spec.containers[0]?.image ?? '';
}

function readyConditions(ready: boolean) {
  return [{ type: 'Ready', status: ready ? 'True' : 'False' }];
}

/** A mutable world the simulator edits; `snapshot()` gives the operator's view of it. */
/** The init container `handover-gate`: etcd's only installs the gate binary; the apiserver's waits. */
function gateState(c: ComponentName, p: { ready: boolean; gate: boolean }): JsonObject {
  if (!p.gate) return { waiting: {} };
  return p.ready || GATE_IN_MAIN_CONTAINER.has(c) ? { terminated: { exitCode: 0 } } : { running: {} };
}

interface SelfPod {
  ready: boolean;
  templateHash: string;
  gate: boolean;
  image: string;
  readySince?: string;
  restarts?: number;
  /** A waiting reason such as CrashLoopBackOff, with the last termination message. */
  crash?: { reason: string; message: string };
}

export class SimWorld {
  cp: ControlPlane;
  nodeReady = true;
  /** Files in the manifest dir and backups, as the agent would report them. */
  manifests = new Map<string, string>();
  backups = new Map<string, string>();
  desiredText: string | undefined;
  /** sha256 of the desired text the agent acted on; undefined = no report at all. */
  agentActedOn: string | undefined = '';
  agentPodReady = false;
  conflicts: { path: string; message: string }[] = [];
  /** Checkpoints the agent reports (undefined: an agent that reports none). */
  checkpoints: ObservedCheckpoint[] | undefined;
  /**
   * The checkpoints' mirror pods: the template hash of the file the kubelet runs, per component.
   * The kubelet follows the agent's files at once unless `checkpointKubeletPaused` (a kubelet still
   * restarting a rewritten checkpoint); `runCheckpointKubelet` catches up.
   */
  checkpointMirrors = new Map<ComponentName, string>();
  checkpointFiles = new Map<ComponentName, string>();
  checkpointKubeletPaused = false;
  /** Checkpoints whose mirror pod exists but whose supervisor (main container) is not running yet. */
  checkpointNotRunning = new Set<ComponentName>();
  mirrors = new Map<ComponentName, { ready: boolean; command: string[]; image: string }>();
  workloads = new Map<string, JsonObject>();
  selfPods = new Map<ComponentName, SelfPod>();
  /** kube-system/selfhost-revisions' data. */
  revisionsData: Record<string, string> | undefined;
  /** The agent's ConfigMap exists (the unpivot deletes it at the end). */
  agentConfigMap = true;
  /** kube-system/kubeadm-config as kubeadm wrote it (ClusterConfiguration at the source version). */
  kubeadmConfig: JsonObject | undefined;
  /** Pods of etcd snapshot Jobs, as the Job controller and the kubelet leave them. */
  snapshotPods: JsonObject[] = [];
  /** How the next snapshot Job ends: its termination message and exit code. */
  snapshotOutcome: { exitCode: number; message: string } = {
    exitCode: 0,
    message: JSON.stringify({ ok: true, ...RECORD, path: '/var/lib/selfhost/etcd-snapshots/x.db', deleted: [], reused: false }),
  };

  /**
   * `sourceVersion`: the kubeadm v1.37.2 fixture retagged to another version (images only; etcd
   * to the tag the release table pairs with that minor, as kubeadm would).
   */
  constructor(spec: Partial<ControlPlaneSpec> = {}, sourceVersion = 'v1.37.2') {
    this.cp = makeControlPlane(spec);
    const parsed = parseVersion(sourceVersion);
    const etcdTag = (parsed === undefined ? undefined : releaseFor(parsed))?.etcdImageTag ?? '3.7.0-0';
    const retag = (text: string): string => text.replaceAll(':v1.37.2', `:${sourceVersion}`).replaceAll('etcd:3.7.0-0', `etcd:${etcdTag}`);
    for (const m of fixture().manifests) {
      const content = retag(m.content);
      this.manifests.set(m.path, content);
      const c = componentOfPath(m.path);
      if (c !== undefined) this.mirrors.set(c, { ready: true, command: commandOf(content), image: imageOf(content) });
    }
    this.kubeadmConfig = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'kubeadm-config', namespace: KUBE_SYSTEM },
      data: { ClusterConfiguration: `apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\nkubernetesVersion: ${sourceVersion}\nclusterName: selfhost\n` },
    };
    const proxy = JSON.parse(retag(JSON.stringify(fixture().proxyDaemonSet))) as JsonObject;
    this.workloads.set('DaemonSet/kube-proxy', withRolloutDone({ ...proxy, metadata: { ...(proxy['metadata'] as object), namespace: KUBE_SYSTEM, generation: 1 } }));
    const cniDocs = loadAll(readFileSync(join(TESTDATA, '../../../hack/node/manifests/selfhost-cni.yaml'), 'utf8'));
    const cni = cniDocs.find((d) => (d as { kind?: string }).kind === 'DaemonSet');
    if (cni === undefined) throw new Error('no CNI DaemonSet in hack/node/manifests/selfhost-cni.yaml');
    const cniObj = cni as JsonObject;
    this.workloads.set(`DaemonSet/${String((cniObj['metadata'] as { name: string }).name)}`, withRolloutDone({ ...cniObj, metadata: { ...(cniObj['metadata'] as object), generation: 1 } }));
  }

  observed(): AgentObserved | undefined {
    if (this.agentActedOn === undefined) return undefined;
    const sorted = (m: Map<string, string>) => [...m.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([p, c]) => file(p, c));
    return {
      node: NODE,
      desiredSha256: this.agentActedOn,
      manifests: sorted(this.manifests),
      backups: sorted(this.backups),
      conflicts: this.conflicts,
      ...(this.checkpoints === undefined ? {} : { checkpoints: this.checkpoints }),
    };
  }

  snapshot(): Snapshot {
    return computeSnapshot(this.raw(), agentConfigMapName);
  }

  raw(): RawWorld {
    const node = {
      metadata: { name: NODE, uid: 'node-uid', labels: { [CONTROL_PLANE_NODE_LABEL]: '' } },
      status: { conditions: readyConditions(this.nodeReady), addresses: [{ type: 'InternalIP', address: NODE_IP }] },
    };
    const observed = this.observed();
    const data: Record<string, string> = {};
    if (this.desiredText !== undefined) data[AGENT_DESIRED_KEY] = this.desiredText;
    if (observed !== undefined) data[AGENT_OBSERVED_KEY] = JSON.stringify(observed);
    const cm = { metadata: { name: agentConfigMapName(NODE), namespace: KUBE_SYSTEM, labels: { [LABEL_AGENT_NODE]: NODE } }, data };
    const pods: JsonObject[] = [];
    for (const [c, m] of this.mirrors) {
      pods.push({
        metadata: { name: `${c}-${NODE}`, namespace: KUBE_SYSTEM, labels: { component: c }, annotations: { 'kubernetes.io/config.mirror': 'x' } },
        spec: { nodeName: NODE, containers: [{ name: c, command: m.command, image: m.image }] },
        status: { conditions: readyConditions(m.ready), containerStatuses: [{ name: c, restartCount: 0, state: { running: {} } }] },
      });
    }
    for (const [c, p] of this.selfPods) {
      pods.push({
        metadata: { name: `selfhost-${c}-abcde`, namespace: KUBE_SYSTEM, labels: { [LABEL_COMPONENT]: c }, annotations: { 'selfhost.dev/template-hash': p.templateHash } },
        spec: { nodeName: NODE, containers: [{ name: c, image: p.image }] },
        status: {
          conditions: p.ready ? [{ type: 'Ready', status: 'True', lastTransitionTime: p.readySince ?? '2026-11-25T09:00:00Z' }] : readyConditions(false),
          ...(GATED_COMPONENTS.has(c) ? { initContainerStatuses: [{ name: GATE_CONTAINER, state: gateState(c, p) }] } : {}),
          // etcd's gate waits inside the etcd container, which therefore runs before it is Ready.
          containerStatuses: [
            {
              name: c,
              restartCount: p.restarts ?? 0,
              state:
                p.crash !== undefined
                  ? { waiting: { reason: p.crash.reason } }
                  : p.ready || (p.gate && GATE_IN_MAIN_CONTAINER.has(c))
                    ? { running: {} }
                    : { waiting: {} },
              ...(p.crash === undefined ? {} : { lastState: { terminated: { exitCode: 1, message: p.crash.message } } }),
            },
          ],
        },
      });
    }
    if (this.workloads.has('DaemonSet/selfhost-agent')) {
      pods.push({
        metadata: { name: 'selfhost-agent-xyz', namespace: KUBE_SYSTEM, labels: { [LABEL_COMPONENT]: 'agent' } },
        spec: { nodeName: NODE, containers: [{ name: 'agent', image: IMAGE }] },
        status: { conditions: readyConditions(this.agentPodReady) },
      });
    }
    const all = [...this.workloads.values()];
    return {
      controlPlane: this.cp,
      nodes: [node],
      configMaps: [
        ...(this.agentConfigMap ? [cm] : []),
        ...(this.revisionsData === undefined
          ? []
          : [{ metadata: { name: REVISIONS_CONFIGMAP, namespace: KUBE_SYSTEM, labels: { 'app.kubernetes.io/managed-by': 'selfhost' } }, data: this.revisionsData }]),
      ],
      pods: [...pods, ...this.checkpointMirrorPods(), ...this.snapshotPods],
      daemonSets: all.filter((w) => w['kind'] === 'DaemonSet'),
      deployments: all.filter((w) => w['kind'] === 'Deployment'),
    };
  }

  /** The pivot's desired state, as reconcile computes it (at the proven apiserver's version). */
  desired(): DesiredState {
    const snap = this.snapshot();
    const atVersion = computePivotVersion(snap);
    return computeDesiredState(snap, { image: IMAGE, ...(atVersion === undefined ? {} : { atVersion }) });
  }

  plan(): PivotPlan {
    const snap = this.snapshot();
    return computePivotPlan(snap, this.desired(), computeWantedStates(snap, parseAgentDesired));
  }

  /** The unpivot planner's view (spec.mode should be StaticPods). */
  unpivot(): UnpivotPlan {
    const snap = this.snapshot();
    const desired = computeDesiredState(snap, { image: IMAGE, atVersion: snap.controlPlane.spec.version });
    return computeUnpivotPlan({ snap, desired, restore: computeRestoreSet(snap, desired, IMAGE), want: computeWantedStates(snap, parseAgentDesired), kubeadmConfig: this.kubeadmConfig ?? null });
  }

  /** Performs an unpivot action the way the API, the controllers, the agent and the kubelet would. */
  applyUnpivot(action: UnpivotAction): void {
    switch (action.type) {
      case 'WriteAgentDesired':
        this.desiredText = action.text;
        this.runAgent();
        this.runKubelet();
        return;
      case 'DeletePod': {
        // The DaemonSet's replacement waits in its gate (the static manifest is back).
        const pod = this.selfPods.get(action.component);
        if (pod !== undefined) this.selfPods.set(action.component, { ...pod, ready: false, gate: true });
        this.runKubelet();
        return;
      }
      case 'DeleteWorkload':
        this.workloads.delete(`${action.kind}/${action.name}`);
        if (action.component !== undefined) this.selfPods.delete(action.component);
        if (action.name === 'selfhost-agent') this.agentPodReady = false;
        this.runKubelet();
        return;
      case 'UpdateKubeadmConfig':
        this.kubeadmConfig = { ...(this.kubeadmConfig ?? {}), data: { ClusterConfiguration: action.text } };
        return;
      case 'DeleteJobs':
        this.snapshotPods = [];
        return;
      case 'DeleteConfigMaps':
        this.agentConfigMap = false;
        this.desiredText = undefined;
        this.revisionsData = undefined;
        return;
      default:
        return;
    }
  }

  /** What reconcile does once the pivot is done: record every pivoted workload as proven. */
  proveAll(now = new Date('2026-11-25T09:00:00Z')): void {
    const d = this.desired();
    this.revisionsData = formatRevisions(new Map(), new Map(d.components.map((c) => [c.name, computeRevisionOf(c, now)])));
  }

  target(): DesiredState {
    const snap = this.snapshot();
    return computeDesiredState(snap, { image: IMAGE, atVersion: snap.controlPlane.spec.version });
  }

  rollout(now: Date, stepStartedAt: (c: ComponentName) => Date | undefined = () => undefined, settleMs = 10_000): RolloutPlan {
    const snap = this.snapshot();
    const target = this.target();
    const etcdVia = computeDesiredEtcdVia(snap, target, IMAGE);
    return computeRolloutPlan({ snap, target, now, stepStartedAt, settleMs, image: IMAGE, ...(etcdVia === undefined ? {} : { etcdVia }) });
  }

  /**
   * Performs a rollout action as the API, the workload controllers and the kubelet would: the new
   * template's pods start Ready at `readySince` unless `crash` says the new pod crash-loops.
   */
  applyRollout(action: RolloutAction, opts: { readySince?: string; crash?: { reason: string; message: string } } = {}): void {
    if (action.type === 'RecordRevision') {
      this.revisionsData = formatRevisions(parseRevisions(this.revisionsData ?? {}), new Map([[action.component, action.revision]]));
      return;
    }
    if (action.type === 'CreateSnapshotJob') {
      const meta = action.job['metadata'] as { name: string };
      this.snapshotPods.push({
        metadata: { name: `${meta.name}-x1`, namespace: KUBE_SYSTEM, labels: { 'selfhost.dev/component': 'etcd-snapshot', 'batch.kubernetes.io/job-name': meta.name } },
        spec: { nodeName: NODE },
        status: {
          phase: this.snapshotOutcome.exitCode === 0 ? 'Succeeded' : 'Failed',
          containerStatuses: [{ name: 'etcd-snapshot', state: { terminated: { exitCode: this.snapshotOutcome.exitCode, message: this.snapshotOutcome.message } } }],
        },
      });
      return;
    }
    if (action.type === 'DeletePod') {
      // The DaemonSet controller replaces the deleted pod with one of its current template.
      const key = 'DaemonSet/selfhost-etcd';
      const ds = this.workloads.get(key);
      const pod = this.selfPods.get('etcd');
      const template = (ds?.['spec'] as { template: { metadata: { annotations?: Record<string, string> }; spec: { containers: { image: string }[] } } } | undefined)?.template;
      const hash = template?.metadata.annotations?.['selfhost.dev/template-hash'];
      if (ds === undefined || pod === undefined || hash === undefined) return;
      this.workloads.set(key, withRolloutDone(ds));
      this.selfPods.set('etcd', { ...pod, templateHash: hash, image: template?.spec.containers[0]?.image ?? pod.image, ready: true, restarts: 0, ...(opts.readySince === undefined ? {} : { readySince: opts.readySince }) });
      return;
    }
    if (action.type !== 'Apply') return;
    const obj = structuredClone(action.object);
    const meta = obj['metadata'] as { name: string };
    const kind = String(obj['kind']);
    if (action.component === 'etcd') {
      // OnDelete: the template changes, no pod does until one is deleted.
      this.workloads.set(`${kind}/${meta.name}`, { ...obj, status: { desiredNumberScheduled: 1, currentNumberScheduled: 1, numberReady: 1, updatedNumberScheduled: 0, numberAvailable: 1, observedGeneration: 1 } });
      const pod = this.selfPods.get('etcd');
      const hash = (obj['spec'] as { template: { metadata: { annotations?: Record<string, string> } } }).template.metadata.annotations?.['selfhost.dev/template-hash'];
      if (pod !== undefined && hash === pod.templateHash) this.workloads.set(`${kind}/${meta.name}`, withRolloutDone(obj));
      return;
    }
    this.workloads.set(`${kind}/${meta.name}`, withRolloutDone(obj));
    const pod = this.selfPods.get(action.component);
    const template = (obj['spec'] as { template: { metadata: { annotations?: Record<string, string> }; spec: { containers: { image: string }[] } } }).template;
    const hash = template.metadata.annotations?.['selfhost.dev/template-hash'];
    if (pod !== undefined && hash !== undefined) {
      const crash = opts.crash;
      this.selfPods.set(action.component, {
        ...pod,
        templateHash: hash,
        image: template.spec.containers[0]?.image ?? pod.image,
        ready: crash === undefined,
        ...(opts.readySince === undefined ? {} : { readySince: opts.readySince }),
        restarts: crash === undefined ? 0 : 3,
        ...(crash === undefined ? {} : { crash }),
      });
      if (crash !== undefined) {
        // The surge pod fails; the rollout never completes.
        const w = this.workloads.get(`${kind}/${meta.name}`);
        if (w !== undefined) this.workloads.set(`${kind}/${meta.name}`, { ...w, status: { ...(w['status'] as object), updatedNumberScheduled: 0, updatedReplicas: 0 } });
      } else {
        const next = this.selfPods.get(action.component);
        if (next !== undefined) delete next.crash;
      }
    }
  }

  /** The agent's loop: act on desired.json as src/agent does, then report. */
  runAgent(): void {
    if (this.desiredText === undefined) {
      this.agentActedOn = '';
      return;
    }
    for (const m of parseAgentDesired(this.desiredText).manifests) {
      const active = this.manifests.get(m.path);
      if (!this.backups.has(m.path) && active !== undefined && sha256Hex(active) === m.originalSha256) this.backups.set(m.path, active);
      if (m.state === 'Retired') this.manifests.delete(m.path);
      if ((m.state === 'Prepared' || m.state === 'Handback' || m.state === 'Restored') && m.content !== undefined) this.manifests.set(m.path, m.content);
      const backup = this.backups.get(m.path);
      if (m.state === 'Original' && backup !== undefined) this.manifests.set(m.path, backup);
    }
    const parsed = parseAgentDesired(this.desiredText);
    if (parsed.release === true) {
      for (const path of [...this.backups.keys()]) if (!parsed.manifests.some((m) => m.path === path)) this.backups.delete(path);
    }
    const checkpoints = parsed.checkpoints;
    if (checkpoints !== undefined) {
      this.checkpoints = checkpoints.map((c) => ({ component: c.component, sha256: sha256Hex(c.content), active: false, standby: c.standby }));
      this.checkpointFiles = new Map(checkpoints.map((c) => [c.component as ComponentName, c.content]));
      if (!this.checkpointKubeletPaused) this.runCheckpointKubelet();
    }
    this.agentActedOn = sha256Hex(this.desiredText);
  }

  /** The kubelet for the checkpoint files: each runs as a static pod whose mirror carries its template hash. */
  runCheckpointKubelet(): void {
    this.checkpointMirrors = new Map(
      // A line match, not a YAML parse: simulator-heavy tests call this on every agent pass.
      [...this.checkpointFiles].map(([c, content]) => [c, /^\s+selfhost\.dev\/template-hash: '?([^'\s]+)'?$/m.exec(content)?.[1] ?? '']),
    );
  }

  private checkpointMirrorPods(): JsonObject[] {
    return [...this.checkpointMirrors].map(([c, hash]) => ({
      metadata: {
        name: `selfhost-checkpoint-${c}-${NODE}`,
        namespace: KUBE_SYSTEM,
        labels: { 'selfhost.dev/checkpoint-of': c },
        annotations: { 'kubernetes.io/config.mirror': 'x', 'selfhost.dev/template-hash': hash },
      },
      spec: { nodeName: NODE, containers: [{ name: c, image: IMAGE }] },
      status: {
        conditions: readyConditions(!this.checkpointNotRunning.has(c)),
        containerStatuses: [{ name: c, restartCount: 0, state: this.checkpointNotRunning.has(c) ? { waiting: { reason: 'ContainerCreating' } } : { running: {} } }],
      },
    }));
  }

  /** The kubelet: static pods follow the files; a handover gate opens when its static pod is gone. */
  runKubelet(): void {
    for (const [path, content] of [...this.manifests.entries()]) {
      const c = componentOfPath(path);
      if (c === undefined) continue;
      const command = commandOf(content);
      // A static etcd behind the hand-back gate waits while the self-hosted member holds the ports.
      const waiting = command[0] === GATE_EXEC_PATH && this.selfPods.get(c)?.ready === true;
      this.mirrors.set(c, { ready: !waiting, command, image: imageOf(content) });
    }
    for (const c of [...this.mirrors.keys()]) {
      if (![...this.manifests.keys()].some((p) => componentOfPath(p) === c)) this.mirrors.delete(c);
    }
    for (const c of GATED_COMPONENTS) {
      const pod = this.selfPods.get(c);
      if (pod !== undefined && !this.mirrors.has(c)) this.selfPods.set(c, { ...pod, ready: true });
    }
  }

  /** Performs a planner action the way the API, the agent and the kubelet would. */
  apply(action: PivotAction): void {
    const desired = this.desired();
    switch (action.type) {
      case 'ApplyAgent':
        this.workloads.set('DaemonSet/selfhost-agent', withRolloutDone(structuredClone(desired.agentDaemonSet)));
        this.agentPodReady = true;
        if (this.agentActedOn === undefined) this.agentActedOn = '';
        return;
      case 'ApplyWorkload': {
        const c = desired.components.find((d) => d.name === action.component);
        if (c === undefined) throw new Error(`no desired ${action.component}`);
        this.workloads.set(`${c.kind}/${c.workloadName}`, withRolloutDone(structuredClone(c.object)));
        if (c.static !== undefined && c.kind === 'DaemonSet') {
          const image = imageOf(c.static.originalContent);
          const gate = GATED_COMPONENTS.has(c.name);
          this.selfPods.set(c.name, { ready: !(gate && this.mirrors.has(c.name)), templateHash: c.templateHash, gate, image });
        }
        if (c.static !== undefined && c.kind === 'Deployment') {
          this.selfPods.set(c.name, { ready: true, templateHash: c.templateHash, gate: false, image: imageOf(c.static.originalContent) });
        }
        return;
      }
      case 'SetManifest': {
        const c = desired.components.find((d) => d.name === action.component);
        if (c === undefined) throw new Error(`no desired ${action.component}`);
        this.desiredText = computeAgentDesiredText(this.desiredText, c, action.state);
        this.runAgent();
        this.runKubelet();
        return;
      }
      default:
        return;
    }
  }
}

function withRolloutDone(obj: JsonObject): JsonObject {
  const meta = { generation: 1, ...(obj['metadata'] as object) } as { generation: number };
  const status =
    obj['kind'] === 'Deployment'
      ? { observedGeneration: meta.generation, replicas: 1, updatedReplicas: 1, readyReplicas: 1, availableReplicas: 1 }
      : { observedGeneration: meta.generation, desiredNumberScheduled: 1, updatedNumberScheduled: 1, numberAvailable: 1, numberReady: 1 };
  return { ...obj, metadata: meta, status };
}

/** Runs the unpivot planner against the simulator until Done (or a limit), returning the actions taken. */
export function runUnpivotToCompletion(world: SimWorld, limit = 100): UnpivotAction[] {
  const taken: UnpivotAction[] = [];
  for (let i = 0; i < limit; i++) {
    const { action } = world.unpivot();
    taken.push(action);
    if (action.type === 'Done' || action.type === 'Blocked') return taken;
    if (action.type === 'Wait') throw new Error(`stuck: ${action.reason}`);
    world.applyUnpivot(action);
  }
  throw new Error(`no convergence after ${limit} actions: ${JSON.stringify(taken.slice(-5))}`);
}

/** Runs the planner against the simulator until Done (or a limit), returning the actions taken. */
export function runToCompletion(world: SimWorld, limit = 100): PivotAction[] {
  const taken: PivotAction[] = [];
  for (let i = 0; i < limit; i++) {
    const { action } = world.plan();
    taken.push(action);
    if (action.type === 'Done' || action.type === 'Blocked') return taken;
    if (action.type === 'Wait') throw new Error(`stuck: ${action.reason}`);
    world.apply(action);
  }
  throw new Error(`no convergence after ${limit} actions: ${JSON.stringify(taken.slice(-5))}`);
}
