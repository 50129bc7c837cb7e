/**
 * ListWatchSource over the real API: list pages and watch streams as wire JSON.
 *
 * Both halves bypass client-node's typed models on purpose: a typed list deserializes into model
 * classes (Dates, camelCase, unknown keys dropped — see docs/design.md) while watch events arrive
 * as raw JSON, so mixing them would give the cache two shapes of one object. Custom resources
 * only exist as wire JSON anyway. Requests still go through client-node's HTTP stack (auth, TLS).
 */
import type { KubeConfig, KubernetesObject, ResponseContext } from '@kubernetes/client-node';
import { ApiException, HttpMethod, IsomorphicFetchHttpLibrary, RequestContext } from '../kube/client-node.js';
import type { ListResult, ListWatchSource, WatchEvent, WatchEventType } from './list-watch.js';

export interface KubeListWatchOptions<T extends KubernetesObject = KubernetesObject> {
  kc: KubeConfig;
  /** Collection path, e.g. `/api/v1/namespaces/kube-system/pods` or `/apis/apps/v1/daemonsets`. */
  path: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Items per list page (default 500, as client-go). */
  pageSize?: number;
  /** Server-side lifetime of one watch, seconds. Default: random in [300, 600) like client-go. */
  watchTimeoutSeconds?: () => number;
  /**
   * What the informer keeps of each listed or watched object (client-go's SetTransform), applied
   * as each list page arrives: only one page of whole objects is alive at a time, not the whole
   * collection (which, at a few thousand pods, grew the operator's heap by tens of MiB that V8
   * then keeps). BOOKMARKs are passed as they are. It must keep metadata.name, namespace and
   * resourceVersion. Default: none.
   */
  transform?: (obj: T) => T;
}

/** A watch ERROR event, carrying the Status' code (410: too old resourceVersion). */
export class WatchStatusError extends Error {
  constructor(
    readonly code: number | undefined,
    readonly reason: string | undefined,
    message: string,
  ) {
    super(message);
    this.name = 'WatchStatusError';
  }
}

const EVENT_TYPES: ReadonlySet<string> = new Set<WatchEventType>(['ADDED', 'MODIFIED', 'DELETED', 'BOOKMARK']);

export function kubeListWatch<T extends KubernetesObject>(opts: KubeListWatchOptions<T>): ListWatchSource<T> {
  const pageSize = opts.pageSize ?? 500;
  const transform = opts.transform ?? ((obj: T): T => obj);
  const selectors: Record<string, string> = {};
  if (opts.labelSelector !== undefined) selectors['labelSelector'] = opts.labelSelector;
  if (opts.fieldSelector !== undefined) selectors['fieldSelector'] = opts.fieldSelector;
  const watchTimeout = opts.watchTimeoutSeconds ?? (() => 300 + Math.floor(Math.random() * 300));

  return {
    async list(signal): Promise<ListResult<T>> {
      const items: T[] = [];
      let resourceVersion: string;
      let next: string | undefined;
      do {
        const query: Record<string, string> = { ...selectors, limit: String(pageSize) };
        if (next !== undefined) query['continue'] = next;
        const page = computeListPage(await getJson(opts.kc, opts.path, query, signal), opts.path);
        for (const item of page.items as T[]) items.push(transform(item));
        resourceVersion = page.resourceVersion;
        next = page.continue;
      } while (next !== undefined);
      return { items, resourceVersion };
    },

    watch(resourceVersion, signal, onEvent, onDone): void {
      // Our own controller, so that the stream is closed however the watch ends (an ERROR event
      // leaves the connection open otherwise), and the caller's signal still closes it.
      const stream = new AbortController();
      const onAbort = (): void => stream.abort();
      signal.addEventListener('abort', onAbort, { once: true });
      let finished = false;
      const finish = (err?: unknown): void => {
        if (finished) return;
        finished = true;
        signal.removeEventListener('abort', onAbort);
        stream.abort();
        if (!signal.aborted) onDone(err);
      };
      const query = {
        ...selectors,
        watch: 'true',
        resourceVersion,
        allowWatchBookmarks: 'true',
        timeoutSeconds: String(watchTimeout()),
      };
      const onLine = (line: string): void => {
        if (finished || stream.signal.aborted) return;
        const event = computeWatchLine(line);
        if (event === undefined) return;
        if (event.type === 'ERROR') finish(computeWatchError(event.object, opts.path));
        else if (event.type === 'BOOKMARK') onEvent(event as WatchEvent<T>);
        else if (EVENT_TYPES.has(event.type)) onEvent({ type: event.type as WatchEventType, object: transform(event.object as T) });
      };
      streamLines(opts.kc, opts.path, query, stream.signal, onLine).then(() => finish(), finish);
    },
  };
}

/** One line of a watch stream; undefined for a line that is not a JSON event. */
export function computeWatchLine(line: string): { type: string; object: unknown } | undefined {
  if (line.trim() === '') return undefined;
  try {
    const parsed: unknown = JSON.parse(line);
    if (typeof parsed !== 'object' || parsed === null) return undefined;
    const { type, object } = parsed as Record<string, unknown>;
    return typeof type === 'string' ? { type, object } : undefined;
  } catch {
    return undefined;
  }
}

/** The Status of a watch ERROR event as an error. */
export function computeWatchError(status: unknown, path: string): WatchStatusError {
  const s = typeof status === 'object' && status !== null ? (status as Record<string, unknown>) : {};
  const code = typeof s['code'] === 'number' ? s['code'] : undefined;
  const reason = typeof s['reason'] === 'string' ? s['reason'] : undefined;
  const message = typeof s['message'] === 'string' ? s['message'] : JSON.stringify(status);
  return new WatchStatusError(code, reason, `watch ${path}: ${message}`);
}

interface ListPage {
  items: unknown[];
  resourceVersion: string;
  continue: string | undefined;
}

/** Checks the parts of a list response the informer relies on. */
export function computeListPage(body: unknown, path: string): ListPage {
  const b = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : undefined;
  const meta = typeof b?.['metadata'] === 'object' && b['metadata'] !== null ? (b['metadata'] as Record<string, unknown>) : {};
  if (b === undefined || !Array.isArray(b['items'])) throw new Error(`list ${path}: response has no items array`);
  const cont = meta['continue'];
  // List items carry no apiVersion/kind (watch events do): add them so cached objects look alike.
  const listKind = typeof b['kind'] === 'string' ? b['kind'].replace(/List$/, '') : undefined;
  const apiVersion = typeof b['apiVersion'] === 'string' ? b['apiVersion'] : undefined;
  const items = (b['items'] as unknown[]).map((it) =>
    typeof it === 'object' && it !== null && listKind !== undefined && apiVersion !== undefined
      ? { apiVersion, kind: listKind, ...(it as Record<string, unknown>) }
      : it,
  );
  return {
    items,
    resourceVersion: typeof meta['resourceVersion'] === 'string' ? meta['resourceVersion'] : '',
    continue: typeof cont === 'string' && cont !== '' ? cont : undefined,
  };
}

/** A GET through client-node's HTTP stack (auth, TLS); non-2xx becomes an ApiException. */
async function send(
  kc: KubeConfig,
  verb: 'list' | 'watch',
  path: string,
  query: Record<string, string>,
  signal: AbortSignal,
): Promise<ResponseContext> {
  const cluster = kc.getCurrentCluster();
  if (cluster === null) throw new Error(`${verb} ${path}: the kubeconfig has no current cluster`);
  const ctx = new RequestContext(cluster.server + path, HttpMethod.GET);
  for (const [k, v] of Object.entries(query)) ctx.setQueryParam(k, v);
  ctx.setHeaderParam('Accept', 'application/json');
  await kc.applySecurityAuthentication(ctx);
  ctx.setSignal(signal);
  const res = await new IsomorphicFetchHttpLibrary().send(ctx).toPromise();
  if (res.httpStatusCode < 200 || res.httpStatusCode > 299) {
    const text = await res.body.text();
    throw new ApiException(res.httpStatusCode, `${verb} ${path}: HTTP ${res.httpStatusCode}: ${text}`, text, res.headers);
  }
  return res;
}

/**
 * Streams a watch, calling onLine per line; resolves when the server ends the stream. Our own
 * reader rather than client-node's Watch: that one aborts any stream quiet for 30 s with a
 * private, fixed timer, which would fight the informer's watchdog on healthy quiet watches.
 */
async function streamLines(
  kc: KubeConfig,
  path: string,
  query: Record<string, string>,
  signal: AbortSignal,
  onLine: (line: string) => void,
): Promise<void> {
  const res = await send(kc, 'watch', path, query, signal);
  const body = res.body.stream();
  if (body === null) return;
  const decoder = new TextDecoder();
  let buffered = '';
  for await (const chunk of body) {
    buffered += decoder.decode(chunk, { stream: true });
    for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
      onLine(buffered.slice(0, nl));
      buffered = buffered.slice(nl + 1);
    }
  }
  onLine(buffered + decoder.decode());
}

/**
 * Bound on one list page. Why: a page whose connection dies silently would hold the informer
 * unsynced for ever; a page of 500 objects answers in well under a second even at scale.
 */
const LIST_PAGE_TIMEOUT_MS = 60_000;

async function getJson(kc: KubeConfig, path: string, query: Record<string, string>, signal: AbortSignal): Promise<unknown> {
  const res = await send(kc, 'list', path, query, AbortSignal.any([signal, AbortSignal.timeout(LIST_PAGE_TIMEOUT_MS)]));
  const text = await res.body.text();
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new Error(`list ${path}: response is not JSON`, { cause: err });
  }
}
