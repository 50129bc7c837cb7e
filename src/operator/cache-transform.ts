/**
 * What the operator's informers keep of each object (the transform option of controller/kube-list-watch.ts,
 * client-go's SetTransform). The caches hold every kube-system pod, which in a large cluster means
 * a few pods per node (kube-proxy, the CNI, …); each pass reads only some fields of some of them.
 *
 * - every object: without metadata.managedFields (informer-transform.ts);
 * - a pod no pass reads (isOperatorPod is false): a stub of its identity, kind and labels. It
 *   still changes the informer's resourceVersion and wakes the pass, as the whole pod did;
 * - a component's, the agent's or a checkpoint's (mirror) pod: its metadata, status, node and each container's name,
 *   image, command and args: what computePodView reads. Volumes, env, probes, resources,
 *   tolerations and affinity are dropped;
 * - an etcd snapshot Job's pod: whole (the pass reads it raw).
 * A pod that becomes one the pass reads (adoption labels it) arrives whole in its next event.
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import { computeWithoutManagedFields } from '../controller/informer-transform.js';
import type { JsonObject } from '../kube/client.js';
import { arr, computePodRole, isOperatorPod, metaOf, rec } from './snapshot.js';

/** Container fields computePodView reads. */
const CONTAINER_FIELDS = ['name', 'image', 'command', 'args'] as const;

function pick(obj: Record<string, unknown>, keys: readonly string[]): JsonObject {
  const out: JsonObject = {};
  for (const k of keys) if (obj[k] !== undefined) out[k] = obj[k];
  return out;
}

/** The part of a pod the operator caches (pure; see the file comment). */
export function computeCachedPod(pod: JsonObject): JsonObject {
  const slim = computeWithoutManagedFields(pod as KubernetesObject) as JsonObject;
  const role = computePodRole(pod);
  if (role.etcdSnapshot) return slim;
  const head = pick(slim, ['apiVersion', 'kind']);
  if (!isOperatorPod(role)) {
    return { ...head, metadata: pick(metaOf(slim), ['name', 'namespace', 'uid', 'resourceVersion', 'labels']) };
  }
  const spec = rec(slim['spec']);
  return {
    ...head,
    metadata: slim['metadata'],
    spec: {
      ...pick(spec, ['nodeName']),
      containers: arr(spec['containers']).map((c) => pick(rec(c), CONTAINER_FIELDS)),
    },
    ...(slim['status'] === undefined ? {} : { status: slim['status'] }),
  };
}

/** The transform for the informer of a collection path (what world.ts passes to its sources). */
export function computeCacheTransform(path: string): (obj: KubernetesObject) => KubernetesObject {
  if (path.endsWith('/pods')) return (obj) => computeCachedPod(obj as unknown as JsonObject) as unknown as KubernetesObject;
  return computeWithoutManagedFields;
}

/** computeCacheTransform(path) applied to one object (for figures: bench-memory.ts). */
export function computeCachedObject(path: string, obj: JsonObject): JsonObject {
  return computeCacheTransform(path)(obj as unknown as KubernetesObject) as unknown as JsonObject;
}
