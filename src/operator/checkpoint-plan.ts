/**
 * The checkpoint planner (pure): which checkpoint each control-plane node keeps, whether it must
 * stand by, and the one agent ConfigMap write that brings a node in line.
 *
 * Rules (docs/design.md "Checkpoints"):
 *  - a checkpoint exists for etcd, kube-apiserver, kube-controller-manager and kube-scheduler once
 *    the component has a proven revision (the pivot finished, or a rollout passed its gate): the
 *    checkpoint is that revision, never a template that has not passed a gate;
 *  - it stands by while the real pod runs on the node: etcd as soon as its container runs (its own
 *    gate then waits for the checkpoint's etcd to stop: never two on one data directory), the others
 *    once Ready (they share their port, so the checkpoint keeps serving until the real pod does);
 *  - with no real pod (deleted, evicted, its workload gone, stuck Pending for want of a scheduler)
 *    the standby is lifted and the checkpoint takes over as soon as the component's ports are free;
 *  - spec.mode StaticPods, or a component dropped from spec.components: no checkpoint;
 *  - one node per pass, in name order; nothing is written when every node is in line.
 */
import { formatAgentDesired, parseAgentDesired, type DesiredCheckpoint } from '../api/agent.js';
import type { Revision } from '../api/revisions.js';
import type { CheckpointStatus, ComponentName } from '../api/types.js';
import { canonicalJson, sha256Hex } from '../convert/hash.js';
import { CHECKPOINTED, computeDesiredCheckpointPod } from './checkpoint-pod.js';
import { computeCurrentAgentDesired } from './pivot-plan.js';
import { metaOf, rec, str, type NodeView, type Snapshot } from './snapshot.js';
import { ANNOTATION_TEMPLATE_HASH } from '../api/constants.js';
import { workloadName } from '../convert/build.js';

export interface CheckpointPlan {
  /** The next write: one node's desired.json with its checkpoints in line; undefined when all are. */
  readonly sync?: { readonly node: string; readonly text: string };
  /** What each node keeps, sorted by node then component. */
  readonly statuses: readonly CheckpointStatus[];
}

/**
 * A self-hosted pod of the component runs on the node (the checkpoint must stand by). For etcd
 * only a pod of the workload's current template counts: an outdated one (OnDelete) is about to be
 * replaced, and its checkpoint must be free to hold the member meanwhile (its ports stay busy, so
 * it does not start while the old pod runs).
 */
export function isRealInstanceRunning(snap: Snapshot, component: ComponentName, node: string): boolean {
  const current = component === 'etcd' ? liveTemplateHash(snap.workloads.get(`DaemonSet/${workloadName('etcd')}`)) : undefined;
  return snap.pods.some(
    (p) =>
      p.component === component &&
      p.node === node &&
      !p.mirror &&
      !p.deleting &&
      (component === 'etcd' ? p.mainRunning && (current === undefined || p.templateHash === current) : p.ready),
  );
}

function liveTemplateHash(workload: unknown): string | undefined {
  return str(rec(metaOf(rec(rec(workload)['spec'])['template'])['annotations'])[ANNOTATION_TEMPLATE_HASH]);
}

/** The checkpoints a node should keep (sorted by component), each with the revision it is of. */
function computeNodeCheckpoints(snap: Snapshot, node: NodeView): { desired: DesiredCheckpoint; component: ComponentName; revision: Revision }[] {
  if (snap.controlPlane.spec.mode !== 'SelfHosted') return [];
  return [...CHECKPOINTED].sort().flatMap((component) => {
    const revision = snap.revisions.get(component);
    if (revision === undefined || !snap.controlPlane.spec.components.includes(component)) return [];
    const desired = { component, content: computeDesiredCheckpointPod(component, revision, node), standby: isRealInstanceRunning(snap, component, node.name) };
    return [{ desired, component, revision }];
  });
}

/** The checkpoints a node should keep (sorted by component). */
export function computeDesiredCheckpoints(snap: Snapshot, node: NodeView): DesiredCheckpoint[] {
  return computeNodeCheckpoints(snap, node).map((c) => c.desired);
}

export function computeCheckpointPlan(snap: Snapshot, now: Date): CheckpointPlan {
  const previous = snap.controlPlane.status?.checkpoints ?? [];
  const statuses: CheckpointStatus[] = [];
  let sync: CheckpointPlan['sync'];
  for (const node of snap.nodes) {
    const kept = computeNodeCheckpoints(snap, node);
    const desired = kept.map((c) => c.desired);
    const agent = snap.agents.get(node.name);
    const current = computeCurrentAgentDesired(agent?.desiredText, parseAgentDesired);
    if (sync === undefined && canonicalJson(current.checkpoints ?? []) !== canonicalJson(desired)) {
      sync = { node: node.name, text: formatAgentDesired({ ...current, checkpoints: desired }) };
    }
    for (const { desired: d, component, revision } of kept) {
      const seen = agent?.observed?.checkpoints?.find((c) => c.component === component);
      const active = seen?.active ?? false;
      const before = previous.find((p) => p.node === node.name && p.component === component);
      const since = before !== undefined && before.active === active ? before.lastTransitionTime : now.toISOString();
      statuses.push({
        node: node.name,
        component,
        ...(revision.version === undefined ? {} : { version: revision.version }),
        templateHash: revision.templateHash,
        provenAt: revision.provenAt,
        saved: seen?.sha256 === sha256Hex(d.content),
        active,
        ...(since === undefined ? {} : { lastTransitionTime: since }),
      });
    }
  }
  return { ...(sync === undefined ? {} : { sync }), statuses };
}
