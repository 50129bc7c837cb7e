/**
 * What an informer needs from the API: a consistent list and a watch from its resourceVersion.
 * Abstract so the supervisor is tested against a scripted fake and the real thing
 * (kube-list-watch.ts) stays a thin adapter.
 */
import type { KubernetesObject } from '@kubernetes/client-node';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK';

export interface WatchEvent<T extends KubernetesObject> {
  type: WatchEventType;
  /** For BOOKMARK only metadata.resourceVersion is meaningful. */
  object: T;
}

export interface ListResult<T extends KubernetesObject> {
  items: T[];
  /** The list's resourceVersion: the watch continues from here. */
  resourceVersion: string;
}

export interface ListWatchSource<T extends KubernetesObject> {
  list(signal: AbortSignal): Promise<ListResult<T>>;
  /**
   * Watches from resourceVersion. onEvent for each event; onDone once when the watch ends:
   * undefined when the server closed it normally, else the error (an error whose `code` or
   * `statusCode` is 410 means the resourceVersion is too old: relist). After signal aborts the
   * source may stay silent.
   */
  watch(
    resourceVersion: string,
    signal: AbortSignal,
    onEvent: (event: WatchEvent<T>) => void,
    onDone: (err?: unknown) => void,
  ): void;
}

/**
 * The HTTP status an error from the API carries (ApiException.code, a fetch error's statusCode,
 * a watch Status' code), looking through `cause` when the error was wrapped for context.
 */
export function computeStatusCode(err: unknown): number | undefined {
  for (let e = err, depth = 0; typeof e === 'object' && e !== null && depth < 8; depth++) {
    const fields = e as Record<string, unknown>;
    for (const field of ['code', 'statusCode']) {
      const value = fields[field];
      if (typeof value === 'number') return value;
    }
    e = fields['cause'];
  }
  return undefined;
}

/** "410 Gone": the resourceVersion fell out of the apiserver's window; only a relist helps. */
export function isGone(err: unknown): boolean {
  return computeStatusCode(err) === 410;
}
