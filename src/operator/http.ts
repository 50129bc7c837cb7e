/**
 * The operator's HTTP endpoint: Prometheus scrapes /metrics, the kubelet probes /healthz
 * (liveness) and /readyz (readiness). node:http only; nothing here needs a framework.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';

export interface HttpServerOptions {
  /** 0: an ephemeral port (reported back in HttpServer.port). */
  port: number;
  /** Address to bind; default every interface (a pod's probes and scrapes come from outside it). */
  host?: string;
  registry: Registry;
  /** /readyz: 200 only while this is true. */
  readiness: () => boolean;
  /** Optional detail for a 503 from /readyz (e.g. the informers not synced yet). */
  notReadyReason?: () => string;
  /** /healthz: 200 while this is true; false makes the kubelet restart the container. */
  liveness: () => boolean;
  logger: Logger;
}

export interface HttpServer {
  /** The bound port (the real one when asked for 0). */
  readonly port: number;
  /** Stops listening and resolves when open connections have finished. */
  close(): Promise<void>;
}

const TEXT = 'text/plain; charset=utf-8';

function send(res: ServerResponse, code: number, contentType: string, body: string): void {
  res.writeHead(code, { 'Content-Type': contentType, 'Cache-Control': 'no-store' });
  res.end(body);
}

export async function startHttpServer(options: HttpServerOptions): Promise<HttpServer> {
  const { registry, readiness, liveness, logger } = options;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // Only the path matters: probes and scrapers may add query strings (/readyz?verbose).
    const path = (req.url ?? '/').split('?', 1)[0];
    if (path !== '/metrics' && path !== '/healthz' && path !== '/readyz') {
      send(res, 404, TEXT, 'not found\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      send(res, 405, TEXT, 'method not allowed\n');
      return;
    }
    switch (path) {
      case '/metrics':
        send(res, 200, registry.contentType, await registry.metrics());
        return;
      case '/healthz':
        if (liveness()) send(res, 200, TEXT, 'ok\n');
        else send(res, 500, TEXT, 'not live\n');
        return;
      case '/readyz': {
        if (readiness()) {
          send(res, 200, TEXT, 'ok\n');
          return;
        }
        const reason = options.notReadyReason?.();
        send(res, 503, TEXT, reason === undefined || reason === '' ? 'not ready\n' : `not ready: ${reason}\n`);
        return;
      }
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      // A metric's collect() or a probe callback threw: answer 500 rather than hang the caller.
      logger.error({ err, path: req.url }, 'HTTP handler failed');
      if (!res.headersSent) send(res, 500, TEXT, 'internal error\n');
      else res.destroy();
    });
  });

  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error): void => {
      reject(new Error(`listen on ${options.host ?? '*'}:${options.port}: ${err.message}`, { cause: err }));
    };
    server.once('error', onError);
    const listening = (): void => {
      server.off('error', onError);
      resolve();
    };
    if (options.host === undefined) server.listen(options.port, listening);
    else server.listen(options.port, options.host, listening);
  });
  // After listening, a server error (rare: e.g. EMFILE on accept) must not crash the process.
  server.on('error', (err) => logger.error({ err }, 'HTTP server error'));

  const address = server.address() as AddressInfo;
  logger.info({ address: address.address, port: address.port }, 'serving /metrics, /healthz and /readyz');

  return {
    port: address.port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err === undefined ? resolve() : reject(new Error('closing the HTTP server', { cause: err }))));
        // Scrapers keep connections alive between scrapes; close() alone would wait for them.
        server.closeIdleConnections();
      }),
  };
}
