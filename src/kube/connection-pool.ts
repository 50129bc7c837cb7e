/**
 * One connection pool per client, instead of one per request.
 *
 * Why: client-node's `applySecurityAuthentication` builds a new undici Agent for every request, so
 * every request paid a TCP and TLS handshake (with a client certificate) and left its socket to
 * idle out. At 1000 nodes the operator renews its Lease and reconciles several times a second; the
 * handshakes added to the event loop's lag, and the leader lost its Lease mid-pivot in a few bench
 * runs (docs/testbed.md "Operator memory"). Reusing the first Agent keeps connections alive
 * between requests, as client-go does.
 *
 * Credentials stay per request: headers (bearer tokens, exec plugins, the ServiceAccount token that
 * the kubelet rotates) are still applied by client-node on every request. Only the TLS material
 * lives in the pool, so it is keyed on it: the cluster's server and CA, the user's certificate and
 * key, and the files' modification times. A rotated certificate file gives a new pool; the old one
 * closes once its requests (watches included) end.
 */
import { statSync } from 'node:fs';
import type { KubeConfig } from '@kubernetes/client-node';
import type { RequestContext } from './client-node.js';

type Dispatcher = NonNullable<ReturnType<RequestContext['getDispatcher']>>;

/** What a pool's connections depend on; a change means a new pool. */
export interface TlsIdentity {
  readonly server?: string | undefined;
  readonly caFile?: string | undefined;
  readonly caData?: string | undefined;
  readonly skipTLSVerify?: boolean | undefined;
  readonly tlsServerName?: string | undefined;
  readonly proxyUrl?: string | undefined;
  readonly certFile?: string | undefined;
  readonly certData?: string | undefined;
  readonly keyFile?: string | undefined;
  readonly keyData?: string | undefined;
}

/** The pool's key: the identity and the modification time of each file it names (pure). */
export function computePoolKey(id: TlsIdentity, mtimeOf: (file: string) => number | undefined): string {
  const files = [id.caFile, id.certFile, id.keyFile].filter((f): f is string => f !== undefined && f !== '');
  return JSON.stringify([id.server, id.caFile, id.caData, id.skipTLSVerify, id.tlsServerName, id.proxyUrl, id.certFile, id.certData, id.keyFile, id.keyData, files.map((f) => mtimeOf(f) ?? -1)]);
}

function fileMtime(file: string): number | undefined {
  return statSync(file, { throwIfNoEntry: false })?.mtimeMs;
}

export interface RequestAuthenticator {
  /** client-node's authentication (headers, TLS options), with this client's pool. */
  authenticate(ctx: RequestContext): Promise<void>;
}

export function createRequestAuthenticator(kc: KubeConfig, mtimeOf: (file: string) => number | undefined = fileMtime): RequestAuthenticator {
  let pool: { key: string; dispatcher: Dispatcher } | undefined;
  return {
    async authenticate(ctx) {
      const cluster = kc.getCurrentCluster();
      const user = kc.getCurrentUser();
      const key = computePoolKey({ ...cluster, ...(user === null ? {} : { certFile: user.certFile, certData: user.certData, keyFile: user.keyFile, keyData: user.keyData }) }, mtimeOf);
      await kc.applySecurityAuthentication(ctx);
      // The Agent client-node just made has opened nothing yet (undici connects on dispatch).
      const fresh = ctx.getDispatcher();
      if (fresh === undefined) return; // plain HTTP without TLS options: fetch's global pool
      if (pool?.key === key) {
        ctx.setDispatcher(pool.dispatcher);
        return;
      }
      const old = pool;
      pool = { key, dispatcher: fresh };
      // Graceful: waits for the old pool's requests (watches too) to end.
      old?.dispatcher.close().catch(() => undefined);
    },
  };
}
