/**
 * Transforms for informer caches (the transform option of kube-list-watch.ts): what every cached object
 * can do without.
 */
import type { KubernetesObject } from '@kubernetes/client-node';

/**
 * The object without metadata.managedFields (pure; a shallow copy, the input is left as is).
 * Why: server-side apply's field ownership is often the largest part of an object's metadata (an
 * entry per field manager, each listing every field it set), no controller logic reads it from a
 * cache, and an apply must not send it back anyway. client-go's controllers strip it the same way.
 */
export function computeWithoutManagedFields<T extends KubernetesObject>(obj: T): T {
  const meta = obj.metadata;
  if (meta === undefined || !('managedFields' in meta)) return obj;
  const rest = { ...meta };
  delete rest.managedFields;
  return { ...obj, metadata: rest };
}
