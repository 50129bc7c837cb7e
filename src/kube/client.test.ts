import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { kubeClient } from './client.js';

/** A loopback server that reads requests and answers only those routes it knows. */
async function serve(answer: (path: string) => { code: number; body: string } | 'never'): Promise<{ server: Server; kc: KubeConfig }> {
  const server = createServer((req, res) => {
    const a = answer(req.url ?? '');
    if (a === 'never') return; // holds the request open, as a dead connection would
    res.writeHead(a.code, { 'content-type': 'application/json' }).end(a.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
    users: [{ name: 'u' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return { server, kc };
}

describe('kubeClient', () => {
  let server: Server | undefined;
  afterEach(() => {
    server?.closeAllConnections();
    server?.close();
  });

  it('a request the server never answers fails after the request timeout, naming the request', async () => {
    const s = await serve(() => 'never');
    server = s.server;
    const started = Date.now();
    await expect(kubeClient(s.kc, undefined, 300).get('/api/v1/namespaces/x/configmaps/y')).rejects.toThrow(
      'GET /api/v1/namespaces/x/configmaps/y: no answer within 300 ms',
    );
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('the caller can still cancel a request before the timeout', async () => {
    const s = await serve(() => 'never');
    server = s.server;
    const ctl = new AbortController();
    const pending = kubeClient(s.kc, undefined, 60_000).get('/api/v1/x', ctl.signal);
    ctl.abort();
    await expect(pending).rejects.toThrow(/^GET \/api\/v1\/x: /);
  });

  it('answers in time are unaffected: 404 is undefined, 200 is the object', async () => {
    const s = await serve((path) => (path.endsWith('/gone') ? { code: 404, body: '{"kind":"Status","reason":"NotFound"}' } : { code: 200, body: '{"kind":"ConfigMap"}' }));
    server = s.server;
    const client = kubeClient(s.kc, undefined, 300);
    expect(await client.get('/api/v1/gone')).toBeUndefined();
    expect(await client.get('/api/v1/here')).toEqual({ kind: 'ConfigMap' });
  });
});
