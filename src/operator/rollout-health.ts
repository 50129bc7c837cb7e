/**
 * The health gate of one rollout step (pure): has the component's new template proven itself?
 *
 * Passed: the workload's rollout is complete, every instance runs the new template, is Ready, has
 * stayed Ready for the settle period (not one Ready flash) and has restarted at most once (a lost
 * start-up race; Ready for the settle period since then).
 * Failed: a new pod cannot run (crash loop, image pull, bad config: the kubelet says so), or the
 * step is older than spec.upgrade.healthTimeout without passing. Otherwise: still waiting.
 */
import type { ComponentName } from '../api/types.js';
import { isRolloutComplete } from './pivot-plan.js';
import type { PodView, Snapshot } from './snapshot.js';

export type Health =
  | { readonly state: 'Passed' }
  | { readonly state: 'Failed'; readonly message: string }
  | { readonly state: 'Waiting'; readonly reason: string };

export interface HealthInput {
  readonly snap: Snapshot;
  readonly component: ComponentName;
  readonly kind: 'DaemonSet' | 'Deployment';
  /** The live workload. */
  readonly workload: Record<string, unknown> | undefined;
  /** Template hash of the rollout's target. */
  readonly templateHash: string;
  readonly now: Date;
  /** When the step started (its first apply); the timeout counts from it. */
  readonly startedAt: Date;
  readonly settleMs: number;
  readonly timeoutMs: number;
  /**
   * An adopted DaemonSet (kube-proxy, the CNI): its pods carry neither selfhost's labels nor the
   * template hash, so the gate reads the workload's rollout status only.
   */
  readonly adopted?: boolean;
  /**
   * Container restarts a pod may have had (default 1: one lost start-up race). A restored
   * revision's pods are judged by being Ready now, not by their history (a node reboot restarts
   * every container once): Infinity.
   */
  readonly maxRestarts?: number;
}

function podsOf(snap: Snapshot, component: ComponentName): PodView[] {
  return snap.pods.filter((p) => !p.mirror && !p.agent && p.component === component && !p.deleting);
}

function isSettled(pod: PodView, now: Date, settleMs: number): boolean {
  if (!pod.ready || pod.readySince === undefined) return false;
  return now.getTime() - Date.parse(pod.readySince) >= settleMs;
}

/** What keeps the gate closed now (undefined: it is open). */
function computeWaitingReason(input: HealthInput, pods: readonly PodView[]): string | undefined {
  const { snap, component, kind, workload, templateHash, now, settleMs } = input;
  if (input.adopted === true) return isRolloutComplete(workload) ? undefined : `the ${component} rollout is not complete`;
  const fresh = pods.filter((p) => p.templateHash === templateHash);
  const old = pods.filter((p) => p.templateHash !== templateHash);
  if (!isRolloutComplete(workload)) return `the ${component} rollout is not complete`;
  if (old.length > 0) return `old ${component} pod(s) still run: ${old.map((p) => p.name).join(', ')}`;
  if (kind === 'DaemonSet') {
    const missing = snap.nodes.filter((n) => !fresh.some((p) => p.node === n.name)).map((n) => n.name);
    if (missing.length > 0) return `no new ${component} pod on ${missing.join(', ')} yet`;
  }
  if (fresh.length === 0) return `no new ${component} pod yet`;
  const restarted = fresh.filter((p) => p.restarts > (input.maxRestarts ?? 1));
  if (restarted.length > 0) return `new ${component} pod(s) restarted: ${restarted.map((p) => `${p.name} (${String(p.restarts)})`).join(', ')}`;
  const unsettled = fresh.filter((p) => !isSettled(p, now, settleMs));
  if (unsettled.length > 0) {
    return `new ${component} pod(s) not yet Ready for ${String(Math.round(settleMs / 1000))} s: ${unsettled.map((p) => p.name).join(', ')}`;
  }
  return undefined;
}

export function computeRolloutHealth(input: HealthInput): Health {
  const pods = podsOf(input.snap, input.component);
  // A crash loop counts once the container failed twice: a first start can lose a race (a port
  // still closing, etcd still electing) and the kubelet's next try succeeds. Any other reason
  // (an image that cannot be pulled, a bad config) will not fix itself: it fails at once.
  const broken = pods.find(
    (p) => p.templateHash === input.templateHash && p.failure !== undefined && (p.failureReason !== 'CrashLoopBackOff' || p.restarts >= 2),
  );
  if (broken?.failure !== undefined) return { state: 'Failed', message: `pod ${broken.name}: ${broken.failure}` };
  const reason = computeWaitingReason(input, pods);
  if (reason === undefined) return { state: 'Passed' };
  const elapsed = input.now.getTime() - input.startedAt.getTime();
  if (elapsed > input.timeoutMs) {
    return {
      state: 'Failed',
      message: `not healthy within spec.upgrade.healthTimeout (${String(Math.round(input.timeoutMs / 1000))} s): ${reason}`,
    };
  }
  return { state: 'Waiting', reason };
}
