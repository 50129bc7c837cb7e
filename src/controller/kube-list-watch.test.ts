import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApiException, KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { computeListPage, computeWatchError, computeWatchLine, kubeListWatch, WatchStatusError } from './kube-list-watch.js';
import type { WatchEvent } from './list-watch.js';

/** A scripted stand-in for the apiserver on loopback: routes by path, records requests. */
let server: Server;
let base = '';
const requests: { url: URL; auth: string | undefined }[] = [];
let route: (url: URL, res: ServerResponse) => void = (_u, res) => res.end();

beforeAll(async () => {
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://x');
    requests.push({ url, auth: req.headers.authorization });
    route(url, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

function kubeconfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    // client-node allows plain HTTP only with skipTLSVerify.
    clusters: [{ name: 'c', server: base, skipTLSVerify: true }],
    users: [{ name: 'u', token: 't0ken' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return kc;
}

const json = (res: ServerResponse, status: number, body: unknown): void => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};

const cm = (name: string, rv: string): KubernetesObject => ({ metadata: { name, namespace: 'ns', resourceVersion: rv } });
const path = '/api/v1/namespaces/ns/configmaps';

interface Watched {
  events: WatchEvent<KubernetesObject>[];
  done: Promise<unknown>;
}

function watch(rv: string, signal = new AbortController().signal, opts: { labelSelector?: string } = {}): Watched {
  const events: WatchEvent<KubernetesObject>[] = [];
  const source = kubeListWatch({ kc: kubeconfig(), path, watchTimeoutSeconds: () => 321, ...opts });
  const done = new Promise<unknown>((resolve) => source.watch(rv, signal, (e) => events.push(e), (err) => resolve(err ?? 'closed')));
  return { events, done };
}

describe('kubeListWatch.list', () => {
  it('follows continue tokens, sends selectors and the bearer token, returns wire JSON', async () => {
    requests.length = 0;
    route = (url, res) =>
      url.searchParams.get('continue') === 'p2'
        ? json(res, 200, { metadata: { resourceVersion: '11' }, items: [cm('c', '9')] })
        : json(res, 200, {
            metadata: { resourceVersion: '10', continue: 'p2' },
            items: [{ ...cm('a', '5'), metadata: { ...cm('a', '5').metadata, creationTimestamp: '2030-01-01T00:00:00Z' } }, cm('b', '6')],
          });
    const source = kubeListWatch({ kc: kubeconfig(), path, pageSize: 2, labelSelector: 'app=x', fieldSelector: 'metadata.name!=z' });
    const result = await source.list(new AbortController().signal);
    expect(result.items.map((o) => o.metadata?.name)).toEqual(['a', 'b', 'c']);
    expect(result.resourceVersion).toBe('11');
    expect(typeof result.items[0]?.metadata?.creationTimestamp).toBe('string');
    expect(requests).toHaveLength(2);
    const first = requests[0];
    expect(first?.auth).toBe('Bearer t0ken');
    expect(Object.fromEntries(first?.url.searchParams ?? [])).toEqual({
      limit: '2',
      labelSelector: 'app=x',
      fieldSelector: 'metadata.name!=z',
    });
  });

  it('applies the transform to each item of each page (after apiVersion and kind are filled in)', async () => {
    route = (url, res) =>
      url.searchParams.get('continue') === 'p2'
        ? json(res, 200, { apiVersion: 'v1', kind: 'ConfigMapList', metadata: { resourceVersion: '11' }, items: [{ ...cm('c', '9'), data: { big: 'x' } }] })
        : json(res, 200, { apiVersion: 'v1', kind: 'ConfigMapList', metadata: { resourceVersion: '10', continue: 'p2' }, items: [{ ...cm('a', '5'), data: { big: 'x' } }] });
    const seen: string[] = [];
    const slim = (o: KubernetesObject): KubernetesObject => (seen.push(`${String(o.kind)} ${String(o.metadata?.name)}`), { ...(o.kind === undefined ? {} : { kind: o.kind }), ...(o.metadata === undefined ? {} : { metadata: o.metadata }) });
    const result = await kubeListWatch({ kc: kubeconfig(), path, pageSize: 1, transform: slim }).list(new AbortController().signal);
    expect(result.items).toEqual([
      { kind: 'ConfigMap', metadata: cm('a', '5').metadata },
      { kind: 'ConfigMap', metadata: cm('c', '9').metadata },
    ]);
    expect(seen).toEqual(['ConfigMap a', 'ConfigMap c']);
    expect(result.resourceVersion).toBe('11');
  });

  it('turns a refusal into an ApiException carrying the status code', async () => {
    route = (_u, res) => json(res, 403, { kind: 'Status', code: 403, message: 'configmaps is forbidden' });
    const err: unknown = await kubeListWatch({ kc: kubeconfig(), path })
      .list(new AbortController().signal)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiException);
    expect((err as ApiException<string>).code).toBe(403);
    expect((err as Error).message).toContain('forbidden');
  });

  it('rejects a body that is not JSON or has no items', async () => {
    route = (_u, res) => res.end('<html>proxy error</html>');
    await expect(kubeListWatch({ kc: kubeconfig(), path }).list(new AbortController().signal)).rejects.toThrow(/not JSON/);
    route = (_u, res) => json(res, 200, { kind: 'Status' });
    await expect(kubeListWatch({ kc: kubeconfig(), path }).list(new AbortController().signal)).rejects.toThrow(/no items/);
  });

  it('needs a current cluster', async () => {
    const kc = new KubeConfig();
    kc.loadFromOptions({ clusters: [], users: [], contexts: [], currentContext: '' });
    await expect(kubeListWatch({ kc, path }).list(new AbortController().signal)).rejects.toThrow(/no current cluster/);
  });
});

describe('kubeListWatch.watch', () => {
  it('asks for bookmarks from the resourceVersion and delivers the event lines', async () => {
    requests.length = 0;
    route = (_u, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write(`${JSON.stringify({ type: 'ADDED', object: cm('a', '11') })}\n`);
      res.write('not json\n\n');
      res.write(`${JSON.stringify({ type: 'SOMETHING', object: {} })}\n${JSON.stringify([1])}\n`);
      // One event split across two writes.
      const line = JSON.stringify({ type: 'MODIFIED', object: cm('a', '12') });
      res.write(line.slice(0, 10));
      setTimeout(() => {
        res.write(`${line.slice(10)}\n`);
        res.end(JSON.stringify({ type: 'BOOKMARK', object: { metadata: { resourceVersion: '13' } } }));
      }, 20);
    };
    const w = watch('10', undefined, { labelSelector: 'app=x' });
    expect(await w.done).toBe('closed');
    expect(w.events.map((e) => [e.type, e.object.metadata?.resourceVersion])).toEqual([
      ['ADDED', '11'],
      ['MODIFIED', '12'],
      ['BOOKMARK', '13'],
    ]);
    expect(Object.fromEntries(requests[0]?.url.searchParams ?? [])).toEqual({
      watch: 'true',
      resourceVersion: '10',
      allowWatchBookmarks: 'true',
      timeoutSeconds: '321',
      labelSelector: 'app=x',
    });
  });

  it('applies the transform to ADDED, MODIFIED and DELETED objects, not to BOOKMARKs', async () => {
    route = (_u, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      for (const type of ['ADDED', 'MODIFIED', 'DELETED']) res.write(`${JSON.stringify({ type, object: { ...cm('a', '11'), data: { big: 'x' } } })}\n`);
      res.end(JSON.stringify({ type: 'BOOKMARK', object: { kind: 'ConfigMap', metadata: { resourceVersion: '13' } } }));
    };
    const events: WatchEvent<KubernetesObject>[] = [];
    const source = kubeListWatch({ kc: kubeconfig(), path, transform: (o) => ({ metadata: { ...o.metadata, labels: { slim: 'yes' } } }) });
    await new Promise((resolve) => source.watch('10', new AbortController().signal, (e) => events.push(e), resolve));
    expect(events).toEqual([
      ...['ADDED', 'MODIFIED', 'DELETED'].map((type) => ({ type, object: { metadata: { ...cm('a', '11').metadata, labels: { slim: 'yes' } } } })),
      { type: 'BOOKMARK', object: { kind: 'ConfigMap', metadata: { resourceVersion: '13' } } },
    ]);
  });

  it('an ERROR event ends the watch with its Status code (410: relist)', async () => {
    let closed: () => void = () => undefined;
    const connectionClosed = new Promise<void>((r) => (closed = r));
    route = (_u, res) => {
      res.on('close', closed);
      res.writeHead(200);
      res.write(`${JSON.stringify({ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired', message: 'too old resource version: 1 (200)' } })}\n`);
      res.write(`${JSON.stringify({ type: 'ADDED', object: cm('late', '300') })}\n`);
      // …and the server leaves the stream open: the client must close it.
    };
    const w = watch('1');
    const err = await w.done;
    expect(err).toBeInstanceOf(WatchStatusError);
    expect((err as WatchStatusError).code).toBe(410);
    expect((err as WatchStatusError).reason).toBe('Expired');
    expect((err as Error).message).toContain('too old resource version');
    expect(w.events).toEqual([]);
    await connectionClosed;
  });

  it('a refused watch ends with an ApiException', async () => {
    route = (_u, res) => json(res, 500, { kind: 'Status', code: 500, message: 'etcdserver: leader changed' });
    const err = await watch('5').done;
    expect(err).toBeInstanceOf(ApiException);
    expect((err as ApiException<string>).code).toBe(500);
  });

  it('after the signal aborts, the source stays silent', async () => {
    route = (_u, res) => {
      res.writeHead(200);
      res.write(`${JSON.stringify({ type: 'ADDED', object: cm('a', '11') })}\n`);
    };
    const ac = new AbortController();
    const w = watch('10', ac.signal);
    const outcome = await Promise.race([w.done, new Promise((r) => setTimeout(() => r('open'), 100))]);
    expect(outcome).toBe('open');
    expect(w.events).toHaveLength(1);
    ac.abort();
    expect(await Promise.race([w.done, new Promise((r) => setTimeout(() => r('silent'), 100))])).toBe('silent');
  });
});

describe('pure helpers', () => {
  it('computeWatchLine parses event lines and skips anything else', () => {
    expect(computeWatchLine('{"type":"ADDED","object":{"a":1}}')).toEqual({ type: 'ADDED', object: { a: 1 } });
    expect(computeWatchLine('  ')).toBeUndefined();
    expect(computeWatchLine('{oops')).toBeUndefined();
    expect(computeWatchLine('42')).toBeUndefined();
    expect(computeWatchLine('{"object":{}}')).toBeUndefined();
  });

  it('computeWatchError reads what the Status has', () => {
    const full = computeWatchError({ code: 410, reason: 'Expired', message: 'gone' }, '/p');
    expect([full.code, full.reason, full.message]).toEqual([410, 'Expired', 'watch /p: gone']);
    const bare = computeWatchError('weird', '/p');
    expect([bare.code, bare.reason, bare.message]).toEqual([undefined, undefined, 'watch /p: "weird"']);
  });

  it('computeListPage tolerates missing metadata', () => {
    expect(computeListPage({ items: [] }, '/p')).toEqual({ items: [], resourceVersion: '', continue: undefined });
    expect(computeListPage({ items: [], metadata: { resourceVersion: '3', continue: '' } }, '/p').continue).toBeUndefined();
    expect(() => computeListPage(null, '/p')).toThrow(/no items/);
  });
});
