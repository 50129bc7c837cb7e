import type { KubernetesObject } from '@kubernetes/client-node';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { FakeClock, flushMicrotasks } from './fake-clock.js';
import { Informer, type InformerOptions } from './informer.js';
import type { ListResult, ListWatchSource, WatchEvent, WatchEventType } from './list-watch.js';
import { readiness } from './readiness.js';
import { captureLogs } from '../testing/log-lines.js';

interface Obj extends KubernetesObject {
  metadata: { name: string; namespace?: string; resourceVersion?: string; labels?: Record<string, string> };
}

interface WatchCall {
  rv: string;
  signal: AbortSignal;
  onEvent: (e: WatchEvent<Obj>) => void;
  onDone: (err?: unknown) => void;
}

/** An in-memory API: objects with resourceVersions, list, and one watch stream at a time. */
class FakeServer implements ListWatchSource<Obj> {
  objects = new Map<string, Obj>();
  rv = 100;
  lists = 0;
  watches: WatchCall[] = [];
  /** Errors the next list() calls throw, in order. */
  listFailures: unknown[] = [];
  /** When set, list() waits for this promise. */
  listGate: Promise<void> | undefined;

  async list(): Promise<ListResult<Obj>> {
    this.lists++;
    if (this.listGate) await this.listGate;
    const failure = this.listFailures.shift();
    if (failure !== undefined) throw failure;
    return { items: [...this.objects.values()].map((o) => structuredClone(o)), resourceVersion: String(this.rv) };
  }

  watch(rv: string, signal: AbortSignal, onEvent: (e: WatchEvent<Obj>) => void, onDone: (err?: unknown) => void): void {
    this.watches.push({ rv, signal, onEvent, onDone });
  }

  get current(): WatchCall | undefined {
    const w = this.watches.at(-1);
    return w && !w.signal.aborted ? w : undefined;
  }

  /** Changes the store and tells the open watch, if any (a closed one misses it, as in life). */
  put(name: string, labels?: Record<string, string>, ns = 'ns'): Obj {
    const type: WatchEventType = this.objects.has(`${ns}/${name}`) ? 'MODIFIED' : 'ADDED';
    const obj: Obj = { metadata: { name, namespace: ns, resourceVersion: String(++this.rv), ...(labels ? { labels } : {}) } };
    this.objects.set(`${ns}/${name}`, obj);
    this.current?.onEvent({ type, object: structuredClone(obj) });
    return obj;
  }

  remove(name: string, ns = 'ns'): void {
    const obj = this.objects.get(`${ns}/${name}`);
    if (!obj) return;
    this.objects.delete(`${ns}/${name}`);
    this.current?.onEvent({
      type: 'DELETED',
      object: { metadata: { ...obj.metadata, resourceVersion: String(++this.rv) } },
    });
  }

  bookmark(): void {
    this.current?.onEvent({ type: 'BOOKMARK', object: { metadata: { name: '', resourceVersion: String(++this.rv) } } });
  }
}

/** Synced, and the watch that follows the list has started. */
async function watching(informer: Informer<Obj>): Promise<void> {
  await informer.whenSynced();
  await flushMicrotasks();
}

function setup(opts: Partial<InformerOptions<Obj>> = {}) {
  const clock = new FakeClock(0);
  const server = new FakeServer();
  const keys: string[] = [];
  const { logger, lines } = captureLogs();
  const informer = new Informer<Obj>({
    name: 'things',
    source: server,
    queue: { add: (k) => keys.push(k) },
    logger,
    clock,
    random: () => 0,
    backoff: { initialMs: 500, maxMs: 4000, jitter: 0 },
    watchdogMs: 1000,
    resyncMs: 0,
    ...opts,
  });
  const take = (): string[] => keys.splice(0);
  const logged = (msg: string): number => lines.filter((l) => l['msg'] === msg).length;
  return { clock, server, informer, take, logged };
}

describe('Informer: list, then watch', () => {
  it('has synced only after the first list; enqueues and caches what was listed', async () => {
    const { server, informer, take } = setup();
    server.put('a');
    server.put('b');
    let release: () => void = () => undefined;
    server.listGate = new Promise((r) => (release = r));
    informer.start();
    informer.start(); // idempotent
    const synced = informer.whenSynced();
    await flushMicrotasks();
    expect(informer.hasSynced()).toBe(false);
    release();
    expect(await synced).toBe(true);
    expect(informer.hasSynced()).toBe(true);
    expect(await informer.whenSynced()).toBe(true);
    expect(take().sort()).toEqual(['ns/a', 'ns/b']);
    expect(informer.list().map((o) => o.metadata.name).sort()).toEqual(['a', 'b']);
    expect(informer.get('ns/a')?.metadata.resourceVersion).toBe('101');
    expect(server.watches.map((w) => w.rv)).toEqual(['102']);
    expect(server.lists).toBe(1);
    await informer.stop();
  });

  it('applies ADDED / MODIFIED / DELETED to the cache and enqueues each; BOOKMARK only moves the resourceVersion', async () => {
    const { server, informer, take } = setup({ watchdogMs: 0 });
    informer.start();
    await watching(informer);
    server.put('a');
    expect(take()).toEqual(['ns/a']);
    server.put('a');
    expect(take()).toEqual(['ns/a']);
    expect(informer.get('ns/a')?.metadata.resourceVersion).toBe('102');
    server.remove('a');
    expect(take()).toEqual(['ns/a']);
    expect(informer.get('ns/a')).toBeUndefined();
    server.bookmark();
    expect(take()).toEqual([]);
    // The next watch resumes from the bookmark's resourceVersion.
    server.current?.onDone();
    await flushMicrotasks();
    expect(server.watches.map((w) => w.rv)).toEqual(['100', '104']);
    expect(server.lists).toBe(1);
    await informer.stop();
  });

  it('keysFor maps objects to keys; a change enqueues the keys of the old and the new state', async () => {
    const { server, informer, take } = setup({
      keysFor: (o) => [`team/${o.metadata.labels?.['team'] ?? 'none'}`],
    });
    server.put('a', { team: 'x' });
    informer.start();
    await watching(informer);
    expect(take()).toEqual(['team/x']);
    server.put('a', { team: 'y' });
    expect(take().sort()).toEqual(['team/x', 'team/y']);
    await informer.stop();
  });
});

describe('Informer: recovery', () => {
  it('resumes a watch the server closed after events at once, from its resourceVersion, without relisting', async () => {
    const { server, informer } = setup();
    informer.start();
    await watching(informer);
    server.put('a');
    server.current?.onDone();
    await flushMicrotasks();
    expect(server.watches.map((w) => w.rv)).toEqual(['100', '101']);
    expect(server.lists).toBe(1);
    await informer.stop();
  });

  it('a watch closed without any event counts as a failure: resumed after backoff', async () => {
    const { clock, server, informer } = setup({ watchdogMs: 0 });
    informer.start();
    await watching(informer);
    server.current?.onDone();
    await clock.advance(499);
    expect(server.watches).toHaveLength(1);
    await clock.advance(1);
    expect(server.watches).toHaveLength(2);
    server.current?.onDone();
    await clock.advance(999);
    expect(server.watches).toHaveLength(2);
    await clock.advance(1);
    expect(server.watches).toHaveLength(3);
    expect(server.lists).toBe(1);
    await informer.stop();
  });

  it('a watch error relists after backoff, enqueuing only what changed meanwhile', async () => {
    const { clock, server, informer, take, logged } = setup({ watchdogMs: 0 });
    server.put('same');
    server.put('changed');
    server.put('gone');
    informer.start();
    await watching(informer);
    take();
    server.current?.onDone(new Error('ECONNRESET'));
    // While disconnected: one change, one new, one deleted — the watch sees none of them.
    server.put('changed');
    server.put('new');
    server.remove('gone');
    await clock.advance(500);
    expect(server.lists).toBe(2);
    expect(take().sort()).toEqual(['ns/changed', 'ns/gone', 'ns/new']);
    expect(informer.list().map((o) => o.metadata.name).sort()).toEqual(['changed', 'new', 'same']);
    expect(logged('watch failed; relisting')).toBe(1);
    expect(server.watches.at(-1)?.rv).toBe(String(server.rv));
    await informer.stop();
  });

  it('a source whose watch() throws is treated like a failed watch', async () => {
    const { clock, server, informer, logged } = setup({ watchdogMs: 0 });
    const watch = server.watch.bind(server);
    let calls = 0;
    server.watch = (...args) => {
      if (++calls === 1) throw new Error('bad selector');
      watch(...args);
    };
    informer.start();
    await watching(informer);
    expect(logged('watch failed; relisting')).toBe(1);
    await clock.advance(500);
    expect(server.lists).toBe(2);
    expect(server.current).toBeDefined();
    await informer.stop();
  });

  it('410 Gone relists', async () => {
    const { clock, server, informer, logged } = setup({ watchdogMs: 0 });
    informer.start();
    await watching(informer);
    server.current?.onDone({ code: 410, message: 'too old resource version' });
    await clock.advance(500);
    expect(server.lists).toBe(2);
    expect(logged('watch expired (410); relisting')).toBe(1);
    await informer.stop();
  });

  it('a failing list is retried with growing backoff; hasSynced stays false until one succeeds', async () => {
    const { clock, server, informer, logged } = setup();
    server.listFailures = [new Error('403'), new Error('503'), new Error('ECONNREFUSED'), new Error('x'), new Error('y')];
    informer.start();
    const attempts: number[] = [];
    for (let t = 0; t <= 12_000; t += 50) {
      if (server.lists > attempts.length) attempts.push(clock.now());
      await clock.advance(50);
    }
    // 500, 1000, 2000, 4000, 4000 (capped) between attempts.
    expect(attempts).toEqual([0, 500, 1500, 3500, 7500, 11_500]);
    expect(logged('list failed; retrying')).toBe(5);
    expect(informer.hasSynced()).toBe(true);
    await informer.stop();
  });

  it('events reset the backoff', async () => {
    const { clock, server, informer } = setup({ watchdogMs: 0 });
    informer.start();
    await watching(informer);
    server.current?.onDone(new Error('one'));
    await clock.advance(500);
    server.current?.onDone(new Error('two'));
    await clock.advance(999);
    expect(server.lists).toBe(2); // the second failure waits 1000 ms
    await clock.advance(1);
    expect(server.lists).toBe(3);
    server.put('a');
    server.current?.onDone(new Error('after an event'));
    await clock.advance(500);
    expect(server.lists).toBe(4);
    await informer.stop();
  });

  it('the watchdog ends a silent watch and resumes it from its resourceVersion; events re-arm it', async () => {
    const { clock, server, informer, logged } = setup({ watchdogMs: 1000 });
    informer.start();
    await watching(informer);
    await clock.advance(900);
    server.put('a'); // re-arms: silent from 900 on
    await clock.advance(999);
    expect(server.watches).toHaveLength(1);
    await clock.advance(1);
    const [first] = server.watches;
    expect(first?.signal.aborted).toBe(true);
    expect(logged('watch silent too long; restarting it')).toBe(1);
    await clock.advance(500); // a silent watch counts as a failure: backoff
    expect(server.watches.map((w) => w.rv)).toEqual(['100', '101']);
    expect(server.lists).toBe(1);
    // A late event from the abandoned stream is ignored.
    first?.onEvent({ type: 'ADDED', object: { metadata: { name: 'stale', namespace: 'ns', resourceVersion: '999' } } });
    expect(informer.get('ns/stale')).toBeUndefined();
    await informer.stop();
  });

  it('a client-side timeout of the stream is handled like the watchdog (no relist)', async () => {
    const { clock, server, informer } = setup({ watchdogMs: 0 });
    informer.start();
    await watching(informer);
    server.current?.onDone(new DOMException('The operation was aborted due to timeout', 'TimeoutError'));
    await clock.advance(500);
    expect(server.watches).toHaveLength(2);
    expect(server.lists).toBe(1);
    await informer.stop();
  });
});

describe('Informer: resync and lifecycle', () => {
  it('re-enqueues every cached object each resync period, once synced', async () => {
    const { clock, server, informer, take } = setup({ resyncMs: 10_000, watchdogMs: 0 });
    server.put('a');
    server.put('b');
    let release: () => void = () => undefined;
    server.listGate = new Promise((r) => (release = r));
    informer.start();
    await clock.advance(10_000); // not synced yet: nothing to resync
    expect(take()).toEqual([]);
    release();
    await watching(informer);
    take();
    await clock.advance(10_000);
    expect(take().sort()).toEqual(['ns/a', 'ns/b']);
    await clock.advance(10_000);
    expect(take().sort()).toEqual(['ns/a', 'ns/b']);
    await informer.stop();
    await clock.advance(10_000);
    expect(take()).toEqual([]);
  });

  it('stop() ends the watch and the loop; waiting whenSynced() calls resolve false', async () => {
    const { clock, server, informer } = setup();
    server.listFailures = [new Error('down')];
    informer.start();
    const waiting = informer.whenSynced();
    await clock.advance(100); // in backoff after the failed list
    await informer.stop();
    expect(await waiting).toBe(false);
    expect(await informer.whenSynced()).toBe(false);
    expect(server.lists).toBe(1);
  });

  it('stop() aborts the open watch', async () => {
    const { server, informer } = setup();
    informer.start();
    await watching(informer);
    const watch = server.current;
    await informer.stop();
    expect(watch?.signal.aborted).toBe(true);
  });

  it('whenSynced(signal) resolves false when the signal aborts first', async () => {
    const { server, informer } = setup();
    server.listGate = new Promise(() => undefined);
    informer.start();
    const ac = new AbortController();
    const waiting = informer.whenSynced(ac.signal);
    ac.abort();
    expect(await waiting).toBe(false);
    expect(await informer.whenSynced(ac.signal)).toBe(false);
  });

  it('uses the real clock and default options when none are given', async () => {
    const server = new FakeServer();
    server.put('a');
    const keys: string[] = [];
    const informer = new Informer<Obj>({ name: 'defaults', source: server, queue: { add: (k) => keys.push(k) }, logger: pino({ level: 'silent' }) });
    informer.start();
    await watching(informer);
    expect(keys).toEqual(['ns/a']);
    await informer.stop();
  });
});

describe('readiness', () => {
  it('is ready when every informer has synced, and names the ones that have not', async () => {
    const one = setup();
    const two = setup();
    two.server.listFailures = [new Error('not yet')];
    const ready = readiness([one.informer, two.informer]);
    expect(ready.isReady()).toBe(false);
    one.informer.start();
    two.informer.start();
    const whenReady = ready.whenReady();
    await one.informer.whenSynced();
    expect(ready.pending()).toEqual(['things']);
    expect(ready.isReady()).toBe(false);
    await two.clock.advance(500);
    expect(await whenReady).toBe(true);
    expect(ready.isReady()).toBe(true);
    expect(ready.pending()).toEqual([]);
    await one.informer.stop();
    await two.informer.stop();
  });

  it('whenReady resolves false if an informer stops before syncing', async () => {
    const one = setup();
    one.server.listGate = new Promise(() => undefined);
    one.informer.start();
    const whenReady = readiness([one.informer]).whenReady();
    void one.informer.stop();
    expect(await whenReady).toBe(false);
  });
});
