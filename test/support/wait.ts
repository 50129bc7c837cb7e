import { AppsV1Api, CoreV1Api, type KubeConfig, type V1Node } from '@kubernetes/client-node';

/** Polls `probe` until it returns a value other than undefined, or fails with what it last saw. */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  { timeoutMs = 30_000, intervalMs = 200 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
      last = 'not yet';
    } catch (err) {
      // A probe that knows the thing it waits for is gone says so with `fatal`.
      if (err instanceof Error && err.name === 'FatalWait') throw err;
      last = err;
    }
    if (Date.now() > deadline) {
      const detail = last instanceof Error ? last.message : String(last);
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last: ${detail}`, {
        cause: last,
      });
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** A probe result that says why it is not done yet (shown when waitFor times out). */
function notYet(reason: string): never {
  throw new Error(reason);
}

/** Taints the node lifecycle controller keeps on a node that is not (yet) usable. */
const UNUSABLE_TAINTS = ['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable'];

/** Ready=True and without the not-ready/unreachable taints (so ordinary pods can be scheduled). */
export function nodeIsReady(node: V1Node): boolean {
  const ready = node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
  const tainted = node.spec?.taints?.some((t) => UNUSABLE_TAINTS.includes(t.key)) ?? false;
  return ready && !tainted;
}

export interface WaitOptions {
  timeoutMs?: number;
  intervalMs?: number;
}

/**
 * Waits until `count` nodes exist (matching `labelSelector` when given) and every one of them is
 * Ready and untainted by the node lifecycle controller. Resolves to the nodes' names.
 */
export async function waitForNodesReady(
  kc: KubeConfig,
  count: number,
  {
    labelSelector,
    timeoutMs = 60_000,
    intervalMs = 500,
    onProgress,
    progressEveryMs = 10_000,
    onStatus,
  }: WaitOptions & {
    labelSelector?: string;
    /** Called at most every `progressEveryMs` with counts (for big clusters). */
    onProgress?: (line: string) => void;
    progressEveryMs?: number;
    /** Called on every poll: how many nodes exist, have Ready=True, and are fully Ready. */
    onStatus?: (s: { exist: number; readyCondition: number; ready: number }) => void;
  } = {},
): Promise<string[]> {
  const core = kc.makeApiClient(CoreV1Api);
  let lastProgress = Date.now();
  return waitFor(`${count} nodes Ready${labelSelector ? ` (${labelSelector})` : ''}`, async () => {
    // resourceVersion 0: served from the watch cache, cheap even with thousands of nodes.
    const list = await core.listNode({ resourceVersion: '0', ...(labelSelector ? { labelSelector } : {}) });
    const notReady = list.items.filter((n) => !nodeIsReady(n));
    const names = notReady.map((n) => n.metadata?.name ?? '?');
    const noCondition = notReady.filter((n) => !n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).length;
    onStatus?.({ exist: list.items.length, readyCondition: list.items.length - noCondition, ready: list.items.length - notReady.length });
    const status = (): string =>
      `${list.items.length - notReady.length}/${count} Ready (${noCondition} without Ready=True, ` +
      `${notReady.length - noCondition} Ready=True but still tainted not-ready/unreachable)`;
    if (onProgress && Date.now() - lastProgress >= progressEveryMs) {
      lastProgress = Date.now();
      onProgress(status());
    }
    if (list.items.length < count) notYet(`${list.items.length}/${count} nodes exist`);
    if (notReady.length > 0) notYet(`${status()}; e.g. ${names.slice(0, 5).join(', ')}`);
    return list.items.map((n) => n.metadata?.name ?? '');
  }, { timeoutMs, intervalMs });
}

export interface RolloutStatus {
  desired: number;
  updated: number;
  available: number;
}

/**
 * Waits until a DaemonSet or Deployment has observed its latest spec and every desired pod is
 * updated and available (old pods gone), like `kubectl rollout status`.
 */
export async function waitForRollout(
  kc: KubeConfig,
  kind: 'DaemonSet' | 'Deployment',
  namespace: string,
  name: string,
  { timeoutMs = 60_000, intervalMs = 300 }: WaitOptions = {},
): Promise<RolloutStatus> {
  const apps = kc.makeApiClient(AppsV1Api);
  return waitFor(`${kind} ${namespace}/${name} rolled out`, async () => {
    if (kind === 'DaemonSet') {
      const ds = await apps.readNamespacedDaemonSet({ namespace, name });
      const s = ds.status;
      const generation = ds.metadata?.generation ?? 0;
      if (!s || (s.observedGeneration ?? 0) < generation) notYet(`generation ${generation} not observed yet`);
      const desired = s.desiredNumberScheduled;
      const updated = s.updatedNumberScheduled ?? 0;
      const available = s.numberAvailable ?? 0;
      const status = `desired ${desired}, updated ${updated}, available ${available}, scheduled ${s.currentNumberScheduled}, unavailable ${s.numberUnavailable ?? 0}`;
      if (updated < desired || available < desired || (s.numberUnavailable ?? 0) > 0) notYet(status);
      return { desired, updated, available };
    }
    const d = await apps.readNamespacedDeployment({ namespace, name });
    const s = d.status;
    const generation = d.metadata?.generation ?? 0;
    if (!s || (s.observedGeneration ?? 0) < generation) notYet(`generation ${generation} not observed yet`);
    const desired = d.spec?.replicas ?? 1;
    const updated = s.updatedReplicas ?? 0;
    const available = s.availableReplicas ?? 0;
    const total = s.replicas ?? 0;
    const status = `desired ${desired}, updated ${updated}, available ${available}, total ${total}`;
    if (updated < desired || available < desired || total > updated) notYet(status);
    return { desired, updated, available };
  }, { timeoutMs, intervalMs });
}
