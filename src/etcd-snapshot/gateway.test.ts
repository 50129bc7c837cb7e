import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeRequestError, httpsGateway, int64Field, parseCount, parseStatus } from './gateway.js';
import { decodeSnapshotStream } from './gateway-stream.js';
import { fakeDb, gatewayLines } from './testing.js';

describe('gateway answers', () => {
  it('reads maintenance/status as etcd 3.7 sends it (int64 as strings)', () => {
    const doc = {
      header: { cluster_id: '324952591200643719', member_id: '3319814642761637952', revision: '82', raft_term: '2' },
      version: '3.7.0',
      dbSize: '6025216',
      dbSizeInUse: '4993024',
    };
    expect(parseStatus(doc)).toEqual({ dbSize: 6025216, version: '3.7.0', revision: 82 });
  });

  it('reads a count_only range, a left-out count being 0', () => {
    expect(parseCount({ header: { revision: '2' }, count: '1' })).toEqual({ keys: 1, revision: 2 });
    expect(parseCount({ header: { revision: '1' } })).toEqual({ keys: 0, revision: 1 });
  });

  it.each([
    [() => parseStatus({}), 'etcd /v3/maintenance/status: response has no header object'],
    [() => parseCount({ header: {}, count: 'many' }), 'etcd /v3/kv/range (count_only): field count is "many", want a non-negative integer'],
    [() => int64Field({ n: '99999999999999999999' }, 'n', 'here'), 'here: field n is "99999999999999999999"'],
  ])('refuses malformed answers (%#)', (f, want) => {
    expect(f).toThrow(want);
  });

  it.each([
    ['ERR_SSL_TLSV1_ALERT_UNKNOWN_CA', 'etcd refused the client certificate (--cert/--key): it is not signed by a CA etcd trusts (boom)'],
    ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', "etcd's serving certificate is not signed by --cacert (boom)"],
    ['ERR_TLS_CERT_ALTNAME_INVALID', "etcd's serving certificate does not name the --endpoint host (boom)"],
    ['ECONNREFUSED', 'boom'],
  ])('explains %s', (code, want) => {
    expect(describeRequestError(Object.assign(new Error('boom\n'), { code }))).toBe(want);
  });
});

describe('httpsGateway (over plain HTTP on loopback)', () => {
  let server: Server;
  let endpoint: string;
  const seen: { path: string; body: string }[] = [];
  let snapshotBody = '';

  beforeAll(async () => {
    server = createServer((req, res) => {
      const parts: Buffer[] = [];
      req.on('data', (d: Buffer) => parts.push(d));
      req.on('end', () => {
        seen.push({ path: req.url ?? '', body: Buffer.concat(parts).toString() });
        if (req.url === '/v3/maintenance/status') res.end('{"header":{"revision":"5"},"version":"3.7.0","dbSize":"20480"}');
        else if (req.url === '/v3/kv/range') res.end('{"header":{"revision":"5"},"count":"3"}');
        else if (req.url === '/v3/maintenance/snapshot') res.end(snapshotBody);
        else if (req.url === '/v3/slow') setTimeout(() => res.end('{}'), 500);
        else {
          res.statusCode = 503;
          res.end('{"code":14,"message":"etcdserver: no leader"}\n');
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const addr = server.address() as AddressInfo;
    endpoint = `http://127.0.0.1:${addr.port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const tls = { ca: Buffer.from(''), cert: Buffer.from(''), key: Buffer.from('') };
  const gw = (timeoutMs = 5000) => httpsGateway(endpoint, tls, { timeoutMs, request: (url, o) => httpRequest(url, o) });

  it('calls status and a count_only range over every key, as JSON POSTs', async () => {
    expect(await gw().status()).toEqual({ dbSize: 20480, version: '3.7.0', revision: 5 });
    expect(await gw().countKeys()).toEqual({ keys: 3, revision: 5 });
    expect(seen.slice(-2)).toEqual([
      { path: '/v3/maintenance/status', body: '{}' },
      { path: '/v3/kv/range', body: '{"key":"AA==","range_end":"AA==","count_only":true}' },
    ]);
  });

  it('streams the snapshot body as it comes', async () => {
    const db = fakeDb(50_000);
    snapshotBody = `${gatewayLines(db).join('\n')}\n`;
    const chunks = [];
    for await (const c of decodeSnapshotStream(await gw().snapshot())) chunks.push(c.blob);
    expect(Buffer.concat(chunks.slice(0, -1)).equals(db)).toBe(true);
  });

  it('reports an HTTP error with the status and etcd’s message', async () => {
    const broken = httpsGateway(`${endpoint}/`, tls, { request: (url, o) => httpRequest(new URL('/v3/other', url), o) });
    await expect(broken.status()).rejects.toThrow(`etcd POST ${endpoint}/v3/maintenance/status: HTTP 503: {"code":14,"message":"etcdserver: no leader"}`);
  });

  it('gives up on a silent etcd after the timeout', async () => {
    const slow = httpsGateway(endpoint, tls, { timeoutMs: 50, request: (url, o) => httpRequest(new URL('/v3/slow', url), o) });
    await expect(slow.status()).rejects.toThrow(/no answer from etcd for 50ms/);
  });

  it('names a connection failure', async () => {
    await expect(httpsGateway('http://127.0.0.1:1', tls, { request: (url, o) => httpRequest(url, o) }).status()).rejects.toThrow(
      'etcd POST http://127.0.0.1:1/v3/maintenance/status: connect ECONNREFUSED 127.0.0.1:1',
    );
  });
});
