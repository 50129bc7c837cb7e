/**
 * A raw-JSON Kubernetes client: the few verbs the operator and the agent need, on wire JSON.
 *
 * Why not client-node's typed APIs: they serialize bodies through generated models, which drop
 * keys they do not know and turn timestamps into Dates (docs/design.md). Server-side apply must
 * send exactly the object we computed, so requests go through client-node's HTTP stack (auth,
 * TLS, in-cluster or kubeconfig) with our own bodies.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { FIELD_MANAGER } from '../api/constants.js';
import { ApiException, HttpMethod, IsomorphicFetchHttpLibrary, RequestContext } from './client-node.js';

export type JsonObject = Record<string, unknown>;

export interface ApplyOptions {
  /** Field manager; default selfhost's. */
  fieldManager?: string;
  /** Take ownership of conflicting fields (true for objects we own). Default true. */
  force?: boolean;
  /** Dry run on the server (nothing persisted). */
  dryRun?: boolean;
}

/** The verbs selfhost uses. Paths are API paths (`/api/v1/namespaces/x/configmaps/y`). */
export interface KubeClient {
  /** GET; undefined on 404. */
  get(path: string, signal?: AbortSignal): Promise<JsonObject | undefined>;
  /** GET of a collection (one page is enough for the small sets selfhost reads directly). */
  list(path: string, query?: Record<string, string>, signal?: AbortSignal): Promise<JsonObject[]>;
  /** Server-side apply (PATCH application/apply-patch+yaml with a JSON body). */
  apply(path: string, body: JsonObject, options?: ApplyOptions, signal?: AbortSignal): Promise<JsonObject>;
  /** POST. */
  create(path: string, body: JsonObject, signal?: AbortSignal): Promise<JsonObject>;
  /** PUT: replaces the object; 409 when body's metadata.resourceVersion is no longer current. */
  replace(path: string, body: JsonObject, signal?: AbortSignal): Promise<JsonObject>;
  /** DELETE; false when it was already gone. */
  delete(path: string, body?: JsonObject, signal?: AbortSignal): Promise<boolean>;
}

/** An HTTP error from the API server, with its status code and the Status' reason. */
export class KubeError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string | undefined,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'KubeError';
  }
}

export function isNotFound(err: unknown): boolean {
  return err instanceof KubeError && err.code === 404;
}

export function isConflict(err: unknown): boolean {
  return err instanceof KubeError && err.code === 409;
}

/** A Status body's message and reason, for errors that read like kubectl's. */
export function computeStatusMessage(text: string): { message: string; reason: string | undefined } {
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'object' && parsed !== null) {
      const s = parsed as Record<string, unknown>;
      const message = typeof s['message'] === 'string' ? s['message'] : text;
      const reason = typeof s['reason'] === 'string' ? s['reason'] : undefined;
      return { message, reason };
    }
  } catch {
    // not JSON: use the text as is
  }
  return { message: text.slice(0, 500), reason: undefined };
}

/** Observes every request (method, path, status code); used for request counting. */
export type RequestObserver = (method: string, path: string, code: number) => void;

/**
 * Default bound on one request. Why: a request whose connection dies without a reset (an
 * apiserver restart behind a proxy, a half-open HTTP/2 stream) would otherwise wait for ever, and
 * the reconcile worker waiting on it would never take the key again (seen in the integration
 * tier's outage case). Every verb here is a small, quick request; 20 s is ample.
 */
export const DEFAULT_REQUEST_TIMEOUT_MS = 20_000;

export function kubeClient(kc: KubeConfig, observe?: RequestObserver, requestTimeoutMs = DEFAULT_REQUEST_TIMEOUT_MS): KubeClient {
  const http = new IsomorphicFetchHttpLibrary();

  async function send(
    method: HttpMethod,
    path: string,
    query: Record<string, string>,
    body: string | undefined,
    contentType: string | undefined,
    signal: AbortSignal | undefined,
  ): Promise<{ code: number; text: string }> {
    const cluster = kc.getCurrentCluster();
    if (cluster === null) throw new Error(`${method} ${path}: the kubeconfig has no current cluster`);
    const ctx = new RequestContext(cluster.server + path, method);
    for (const [k, v] of Object.entries(query)) ctx.setQueryParam(k, v);
    ctx.setHeaderParam('Accept', 'application/json');
    if (body !== undefined) {
      ctx.setHeaderParam('Content-Type', contentType ?? 'application/json');
      ctx.setBody(body);
    }
    await kc.applySecurityAuthentication(ctx);
    const timeout = AbortSignal.timeout(requestTimeoutMs);
    ctx.setSignal(signal === undefined ? timeout : AbortSignal.any([signal, timeout]));
    let code: number;
    let text: string;
    try {
      const res = await http.send(ctx).toPromise();
      code = res.httpStatusCode;
      text = await res.body.text();
    } catch (err) {
      observe?.(method, path, 0);
      const why = timeout.aborted ? `no answer within ${requestTimeoutMs} ms` : err instanceof Error ? err.message : String(err);
      throw new Error(`${method} ${path}: ${why}`, { cause: err });
    }
    observe?.(method, path, code);
    return { code, text };
  }

  function parse(method: string, path: string, text: string): JsonObject {
    try {
      const parsed: unknown = JSON.parse(text);
      if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) return parsed as JsonObject;
    } catch (err) {
      throw new Error(`${method} ${path}: response is not JSON`, { cause: err });
    }
    throw new Error(`${method} ${path}: response is not a JSON object`);
  }

  function fail(method: string, path: string, code: number, text: string): never {
    const { message, reason } = computeStatusMessage(text);
    throw new KubeError(code, reason, `${method} ${path}: HTTP ${code}: ${message}`, {
      cause: new ApiException(code, message, text, {}),
    });
  }

  const ok = (code: number): boolean => code >= 200 && code <= 299;

  return {
    async get(path, signal) {
      const { code, text } = await send(HttpMethod.GET, path, {}, undefined, undefined, signal);
      if (code === 404) return undefined;
      if (!ok(code)) fail('GET', path, code, text);
      return parse('GET', path, text);
    },
    async list(path, query = {}, signal) {
      const { code, text } = await send(HttpMethod.GET, path, query, undefined, undefined, signal);
      if (!ok(code)) fail('GET', path, code, text);
      const items = parse('GET', path, text)['items'];
      if (!Array.isArray(items)) throw new Error(`GET ${path}: response has no items array`);
      return items as JsonObject[];
    },
    async apply(path, body, options = {}, signal) {
      const query: Record<string, string> = {
        fieldManager: options.fieldManager ?? FIELD_MANAGER,
        force: String(options.force ?? true),
      };
      if (options.dryRun === true) query['dryRun'] = 'All';
      const { code, text } = await send(
        HttpMethod.PATCH,
        path,
        query,
        JSON.stringify(body),
        'application/apply-patch+yaml',
        signal,
      );
      if (!ok(code)) fail('APPLY', path, code, text);
      return parse('APPLY', path, text);
    },
    async create(path, body, signal) {
      const { code, text } = await send(HttpMethod.POST, path, {}, JSON.stringify(body), 'application/json', signal);
      if (!ok(code)) fail('POST', path, code, text);
      return parse('POST', path, text);
    },
    async replace(path, body, signal) {
      const { code, text } = await send(HttpMethod.PUT, path, {}, JSON.stringify(body), 'application/json', signal);
      if (!ok(code)) fail('PUT', path, code, text);
      return parse('PUT', path, text);
    },
    async delete(path, body, signal) {
      const { code, text } = await send(
        HttpMethod.DELETE,
        path,
        {},
        body === undefined ? undefined : JSON.stringify(body),
        'application/json',
        signal,
      );
      if (code === 404) return false;
      if (!ok(code)) fail('DELETE', path, code, text);
      return true;
    },
  };
}
