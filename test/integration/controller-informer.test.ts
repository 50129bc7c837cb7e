/**
 * The supervised informer over a real kube-apiserver: list + watch of ConfigMaps in a namespace of
 * its own turn every create/update/delete into a queue key; the cache holds wire JSON; a silent
 * watch is resumed by the watchdog, a failed one relisted. (410 Gone is unit-tested only: a fresh
 * apiserver's watch cache still holds every revision, so a real one cannot be provoked here.)
 */
import { randomBytes } from 'node:crypto';
import { CoreV1Api, type V1ConfigMap } from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  Informer,
  WorkQueue,
  kubeListWatch,
  readiness,
  type InformerOptions,
  type ListWatchSource,
} from '../../src/controller/index.js';
import { captureLogs } from '../../src/testing/log-lines.js';
import { kubeConfigFrom } from '../support/kube.js';
import { waitFor } from '../support/wait.js';

const kc = kubeConfigFrom(inject('kubeconfig'));
const core = kc.makeApiClient(CoreV1Api);
const namespace = `ctl-inf-${randomBytes(3).toString('hex')}`;
const path = `/api/v1/namespaces/${namespace}/configmaps`;

/** Log lines (JSON) of the informers, to see which recovery path ran. */
const { logger, lines: logLines } = captureLogs();
const logged = (msg: string): number => logLines.filter((l) => l['msg'] === msg).length;

const started: { informer: Informer<V1ConfigMap>; queue: WorkQueue }[] = [];

function startInformer(opts: Partial<InformerOptions<V1ConfigMap>> = {}) {
  const queue = new WorkQueue({ name: `cm-${started.length}` });
  const informer = new Informer<V1ConfigMap>({
    name: 'configmaps',
    source: kubeListWatch<V1ConfigMap>({ kc, path }),
    queue,
    logger,
    ...opts,
  });
  informer.start();
  started.push({ informer, queue });
  return { informer, queue };
}

/** Gets keys (marking each done at once) until want() says enough; fails after timeoutMs. */
async function drain(queue: WorkQueue, want: (keys: Set<string>) => boolean, timeoutMs = 10_000): Promise<Set<string>> {
  const keys = new Set<string>();
  const deadline = Date.now() + timeoutMs;
  // One get() in flight at a time: a get() abandoned to a timeout would swallow the next key.
  let next = pendingGets.get(queue) ?? queue.get();
  while (!want(keys)) {
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`timed out; got ${[...keys].join(', ')}`);
    const got = await Promise.race([next, new Promise<null>((r) => setTimeout(() => r(null), Math.min(left, 100)))]);
    if (got === null) continue;
    if (got === undefined) break;
    keys.add(got);
    queue.done(got);
    next = queue.get();
  }
  pendingGets.set(queue, next);
  return keys;
}
/** A get() left waiting by drain(), reused by the next drain of the same queue. */
const pendingGets = new Map<WorkQueue, Promise<string | undefined>>();

const key = (name: string): string => `${namespace}/${name}`;
/** The controller-manager puts this ConfigMap into every namespace. */
const ROOT_CA = 'kube-root-ca.crt';
const ours = (k: string): boolean => k !== key(ROOT_CA);
const create = (name: string, data: Record<string, string> = { v: '1' }) =>
  core.createNamespacedConfigMap({ namespace, body: { metadata: { name }, data } });

beforeAll(async () => {
  await core.createNamespace({ body: { metadata: { name: namespace } } });
});

afterEach(async () => {
  for (const { informer, queue } of started.splice(0)) {
    await informer.stop();
    queue.shutDown();
  }
  logLines.length = 0;
});

afterAll(async () => {
  await core.deleteNamespace({ name: namespace });
});

describe('Informer over the real apiserver', () => {
  it('syncs after the first list, then enqueues creates, updates and deletes', async () => {
    await create('pre-a');
    await create('pre-b');
    const { informer, queue } = startInformer();
    const ready = readiness([informer]);
    expect(informer.hasSynced()).toBe(false);
    expect(ready.pending()).toEqual(['configmaps']);
    expect(await ready.whenReady()).toBe(true);
    expect(informer.hasSynced()).toBe(true);
    expect(ready.isReady()).toBe(true);
    // The list's objects are keys in the queue and in the cache.
    const listed = await drain(queue, (k) => k.has(key('pre-a')) && k.has(key('pre-b')));
    expect([...listed].filter(ours).sort()).toEqual([key('pre-a'), key('pre-b')]);
    expect(informer.list().map((o) => o.metadata?.name).filter((n) => n !== ROOT_CA).sort()).toEqual(['pre-a', 'pre-b']);
    // Wire JSON, not client-node models: timestamps stay strings.
    expect(typeof informer.get(key('pre-a'))?.metadata?.creationTimestamp).toBe('string');

    await create('made');
    expect(await drain(queue, (k) => k.has(key('made')))).toContain(key('made'));
    expect(informer.get(key('made'))?.data).toEqual({ v: '1' });

    await core.replaceNamespacedConfigMap({
      namespace,
      name: 'made',
      body: { metadata: { name: 'made' }, data: { v: '2' } },
    });
    await drain(queue, (k) => k.has(key('made')));
    await waitFor('the update in the cache', async () => (informer.get(key('made'))?.data?.['v'] === '2' ? true : undefined));

    await core.deleteNamespacedConfigMap({ namespace, name: 'made' });
    await drain(queue, (k) => k.has(key('made')));
    await waitFor('the delete in the cache', async () => (informer.get(key('made')) === undefined ? true : undefined));
  });

  it('lists in pages and keeps every item', async () => {
    for (let i = 0; i < 5; i++) await create(`page-${i}`);
    const source = kubeListWatch<V1ConfigMap>({ kc, path, pageSize: 2 });
    const result = await source.list(new AbortController().signal);
    const names = result.items.map((o) => o.metadata?.name ?? '');
    for (let i = 0; i < 5; i++) expect(names).toContain(`page-${i}`);
    expect(result.resourceVersion).toMatch(/^\d+$/);
  });

  it('maps objects to other keys with keysFor and honours label selectors', async () => {
    await create('labelled-x');
    await core.patchNamespacedConfigMap({
      namespace,
      name: 'labelled-x',
      body: [{ op: 'add', path: '/metadata/labels', value: { team: 'x' } }],
    });
    const { informer, queue } = startInformer({
      source: kubeListWatch<V1ConfigMap>({ kc, path, labelSelector: 'team=x' }),
      keysFor: (cm) => [`team/${cm.metadata?.labels?.['team'] ?? 'none'}`],
    });
    await informer.whenSynced();
    expect(informer.list().map((o) => o.metadata?.name)).toEqual(['labelled-x']);
    expect(await drain(queue, (k) => k.size > 0)).toEqual(new Set(['team/x']));
  });

  it('the watchdog resumes a silent watch from its resourceVersion, losing nothing', async () => {
    const { informer, queue } = startInformer({ watchdogMs: 1000 });
    await informer.whenSynced();
    await drain(queue, () => true);
    // Nothing changes in the namespace: the watch stays silent and the watchdog fires.
    await waitFor('the watchdog to fire twice', async () => (logged('watch silent too long; restarting it') >= 2 ? true : undefined), {
      timeoutMs: 10_000,
    });
    expect(logged('watch failed; relisting')).toBe(0);
    await create('after-silence');
    expect(await drain(queue, (k) => k.has(key('after-silence')))).toContain(key('after-silence'));
    expect(informer.get(key('after-silence'))).toBeDefined();
  });

  it('a failed watch is relisted, and changes made meanwhile arrive', async () => {
    const real = kubeListWatch<V1ConfigMap>({ kc, path });
    let watches = 0;
    let lists = 0;
    // The first watch breaks 300 ms in, as a dropped connection would; a ConfigMap is created
    // while the informer is backing off, so only the relist can see it.
    const flaky: ListWatchSource<V1ConfigMap> = {
      list: (s) => {
        lists++;
        return real.list(s);
      },
      watch: (rv, signal, onEvent, onDone) => {
        if (++watches === 1) {
          setTimeout(() => {
            void create('during-outage').then(() => onDone(Object.assign(new Error('connection reset'), { code: 'ECONNRESET' })));
          }, 300);
          return;
        }
        real.watch(rv, signal, onEvent, onDone);
      },
    };
    const { informer, queue } = startInformer({ source: flaky });
    await informer.whenSynced();
    expect(await drain(queue, (k) => k.has(key('during-outage')))).toContain(key('during-outage'));
    expect(lists).toBe(2);
    expect(logged('watch failed; relisting')).toBe(1);
    expect(informer.get(key('during-outage'))).toBeDefined();
  });

  it('a list refused by the apiserver is retried with backoff, and hasSynced waits for it', async () => {
    // A namespace that does not exist yet: listing it is fine (empty), so use a bad path instead.
    const bad = kubeListWatch<V1ConfigMap>({ kc, path: `/api/v1/namespaces/${namespace}/nosuchresource` });
    const { informer } = startInformer({ source: bad, backoff: { initialMs: 100, maxMs: 400, jitter: 0 } });
    await waitFor('three failed lists', async () => (logged('list failed; retrying') >= 3 ? true : undefined), {
      timeoutMs: 10_000,
    });
    expect(informer.hasSynced()).toBe(false);
    const failure = logLines.find((l) => l['msg'] === 'list failed; retrying');
    expect(JSON.stringify(failure?.['err'])).toContain('404');
  });
});
