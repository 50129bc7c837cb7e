import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { kubeClient } from './client.js';
import { computePoolKey } from './connection-pool.js';

describe('computePoolKey', () => {
  const base = { server: 'https://10.0.0.1:6443', caFile: '/ca.crt', certFile: '/c.crt', keyFile: '/c.key' };
  const mtimes = (m: Record<string, number>) => (f: string) => m[f];
  const t = { '/ca.crt': 1, '/c.crt': 2, '/c.key': 3 };
  it.each([
    ['the same identity and files', base, t, true],
    ['a rewritten certificate file (rotation)', base, { ...t, '/c.crt': 9 }, false],
    ['a rewritten CA file', base, { ...t, '/ca.crt': 9 }, false],
    ['another server', { ...base, server: 'https://10.0.0.2:6443' }, t, false],
    ['inline certificate data instead of a file', { ...base, certFile: undefined, certData: 'Zm9v' }, t, false],
    ['TLS verification turned off', { ...base, skipTLSVerify: true }, t, false],
  ])('%s → same pool: %s', (_what, id, m, same) => {
    expect(computePoolKey(id, mtimes(m)) === computePoolKey(base, mtimes(t))).toBe(same);
  });
});

describe('kubeClient connections', () => {
  let server: Server | undefined;
  afterEach(() => {
    server?.closeAllConnections();
    server?.close();
  });

  it('sequential requests reuse kept-alive connections (client-node alone opens one per request)', async () => {
    let connections = 0;
    server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"kind":"ConfigMap"}'));
    server.on('connection', () => connections++);
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const kc = new KubeConfig();
    // skipTLSVerify gives client-node TLS options, hence its per-request Agent, even over http.
    kc.loadFromOptions({
      clusters: [{ name: 'c', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
      users: [{ name: 'u', token: 'secret' }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x',
    });
    const client = kubeClient(kc);
    for (let i = 0; i < 20; i++) expect(await client.get('/api/v1/namespaces/x/configmaps/y')).toEqual({ kind: 'ConfigMap' });
    // undici may open a second connection while the first is being released; never one per request.
    expect(connections).toBeLessThanOrEqual(2);
  });
});
