/** Cache and queue keys in client-go's MetaNamespaceKeyFunc form: `namespace/name`, or `name`. */
import type { KubernetesObject } from '@kubernetes/client-node';

export function objectKey(obj: KubernetesObject): string {
  const name = obj.metadata?.name ?? '';
  const namespace = obj.metadata?.namespace;
  return namespace ? `${namespace}/${name}` : name;
}

export interface ObjectRef {
  namespace?: string;
  name: string;
}

/** Inverse of objectKey. */
export function splitKey(key: string): ObjectRef {
  const slash = key.indexOf('/');
  return slash < 0 ? { name: key } : { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}
