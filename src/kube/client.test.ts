import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { KubeError, isConflict, kubeClient } from './client.js';

/** A loopback server that reads requests and answers only those routes it knows. */
async function serve(
  answer: (path: string, method: string, body: string) => { code: number; body: string } | 'never',
): Promise<{ server: Server; kc: KubeConfig }> {
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const a = answer(req.url ?? '', req.method ?? '', body);
      if (a === 'never') return; // holds the request open, as a dead connection would
      res.writeHead(a.code, { 'content-type': 'application/json' }).end(a.body);
    });
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

  it('replace() PUTs the body as JSON; a stale resourceVersion is a KubeError 409', async () => {
    const seen: string[] = [];
    const s = await serve((path, method, body) => {
      seen.push(`${method} ${path} ${body}`);
      const rv = (JSON.parse(body) as { metadata: { resourceVersion: string } }).metadata.resourceVersion;
      return rv === '7'
        ? { code: 200, body: JSON.stringify({ ...(JSON.parse(body) as object), metadata: { resourceVersion: '8' } }) }
        : { code: 409, body: '{"kind":"Status","reason":"Conflict","message":"the object has been modified"}' };
    });
    server = s.server;
    const client = kubeClient(s.kc, undefined, 5_000);
    const path = '/apis/coordination.k8s.io/v1/namespaces/ns/leases/l';
    expect(await client.replace(path, { kind: 'Lease', metadata: { resourceVersion: '7' } })).toEqual({ kind: 'Lease', metadata: { resourceVersion: '8' } });
    const stale = await client.replace(path, { kind: 'Lease', metadata: { resourceVersion: '6' } }).catch((e: unknown) => e);
    expect(stale).toBeInstanceOf(KubeError);
    expect(isConflict(stale)).toBe(true);
    expect((stale as Error).message).toBe(`PUT ${path}: HTTP 409: the object has been modified`);
    expect(seen).toEqual([
      `PUT ${path} {"kind":"Lease","metadata":{"resourceVersion":"7"}}`,
      `PUT ${path} {"kind":"Lease","metadata":{"resourceVersion":"6"}}`,
    ]);
  });
});
