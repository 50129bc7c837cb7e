import { createServer } from 'node:net';
import { pino } from 'pino';
import { Counter, Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { startHttpServer, type HttpServer, type HttpServerOptions } from './http.js';

const servers: HttpServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function start(opts: Partial<HttpServerOptions> = {}) {
  const registry = opts.registry ?? new Registry();
  const server = await startHttpServer({
    port: 0,
    host: '127.0.0.1',
    registry,
    readiness: () => true,
    liveness: () => true,
    logger: pino({ level: 'silent' }),
    ...opts,
  });
  servers.push(server);
  const get = (path: string, init?: RequestInit) => fetch(`http://127.0.0.1:${server.port}${path}`, init);
  return { server, registry, get };
}

describe('startHttpServer', () => {
  it('binds an ephemeral port for port 0 and reports it', async () => {
    const { server } = await start();
    expect(server.port).toBeGreaterThan(0);
  });

  it('serves the registry at /metrics with its content type', async () => {
    const registry = new Registry();
    new Counter({ name: 'things_total', help: 'things', registers: [registry] }).inc(3);
    const { get } = await start({ registry });
    const res = await get('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe(registry.contentType);
    expect(await res.text()).toContain('things_total 3');
  });

  it.each<{ name: string; path: string; ready: boolean; live: boolean; reason?: string; status: number; body: string }>([
    { name: 'live', path: '/healthz', ready: false, live: true, status: 200, body: 'ok\n' },
    { name: 'not live', path: '/healthz', ready: true, live: false, status: 500, body: 'not live\n' },
    { name: 'ready', path: '/readyz', ready: true, live: true, status: 200, body: 'ok\n' },
    { name: 'ready, query ignored', path: '/readyz?verbose', ready: true, live: true, status: 200, body: 'ok\n' },
    { name: 'not ready', path: '/readyz', ready: false, live: true, status: 503, body: 'not ready\n' },
    { name: 'not ready with reason', path: '/readyz', ready: false, live: true, reason: 'pods not synced', status: 503, body: 'not ready: pods not synced\n' },
    { name: 'unknown path', path: '/', ready: true, live: true, status: 404, body: 'not found\n' },
    { name: 'near miss', path: '/metricsx', ready: true, live: true, status: 404, body: 'not found\n' },
  ])('$name: GET $path → $status', async ({ path, ready, live, reason, status, body }) => {
    const { get } = await start({
      readiness: () => ready,
      liveness: () => live,
      ...(reason === undefined ? {} : { notReadyReason: () => reason }),
    });
    const res = await get(path);
    expect(res.status).toBe(status);
    expect(await res.text()).toBe(body);
  });

  it('asks readiness and liveness on every request', async () => {
    let ready = false;
    const { get } = await start({ readiness: () => ready });
    expect((await get('/readyz')).status).toBe(503);
    ready = true;
    expect((await get('/readyz')).status).toBe(200);
  });

  it('refuses other methods on known paths', async () => {
    const { get } = await start();
    const res = await get('/metrics', { method: 'POST' });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET, HEAD');
  });

  it('answers 500 when collecting metrics fails, and keeps serving', async () => {
    const registry = new Registry();
    new Counter({
      name: 'broken_total',
      help: 'b',
      registers: [registry],
      collect() {
        throw new Error('collect failed');
      },
    });
    const { get } = await start({ registry });
    expect((await get('/metrics')).status).toBe(500);
    expect((await get('/healthz')).status).toBe(200);
  });

  it('rejects with context when the port is taken', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const address = taken.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    try {
      await expect(
        startHttpServer({
          port: address.port,
          host: '127.0.0.1',
          registry: new Registry(),
          readiness: () => true,
          liveness: () => true,
          logger: pino({ level: 'silent' }),
        }),
      ).rejects.toThrow(`listen on 127.0.0.1:${address.port}: listen EADDRINUSE`);
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });

  it('close() returns even with a kept-alive connection, and the port stops answering', async () => {
    const { server, get } = await start();
    expect((await get('/healthz', { headers: { connection: 'keep-alive' } })).status).toBe(200);
    await servers.splice(servers.indexOf(server), 1)[0]?.close();
    await expect(get('/healthz')).rejects.toThrow();
  });
});
