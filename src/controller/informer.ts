/**
 * A supervised informer: list, then watch from the list's resourceVersion, keeping a cache, and
 * turning every change into queue keys — handlers do nothing else, all work happens in reconcile.
 *
 * Unlike client-node's informer it never gives up (DESIGN-NOTES §3: those stop on most errors and
 * can stall silently):
 * - a failed list or watch is retried with jittered exponential backoff (relist after errors);
 * - a watch the server closes normally is resumed from the last resourceVersion;
 * - 410 Gone relists;
 * - a watchdog resumes a watch that has been silent for longer than watchdogMs. Watches ask for
 *   bookmarks, so a healthy quiet watch is never silent for long: kube-apiserver 1.37 sends one
 *   every ~60 s, though gaps of ~120 s were measured (hence the 3 min default);
 * - every resyncMs every cached object is enqueued again, so nothing depends on one event.
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { Backoff, type BackoffOptions } from './backoff.js';
import { realClock, type Clock, type Timer } from './clock.js';
import { objectKey } from './keys.js';
import { isGone, type ListWatchSource, type WatchEvent } from './list-watch.js';

/** Where an informer puts keys: a WorkQueue, or anything with add(). */
export interface Enqueuer {
  add(key: string): void;
}

export interface InformerOptions<T extends KubernetesObject> {
  /** For logs and readiness, e.g. "pods". */
  name: string;
  source: ListWatchSource<T>;
  queue: Enqueuer;
  /**
   * Maps a changed object to the keys to reconcile (e.g. its owner's key). Default: the object's
   * own key. Must be cheap and pure: it runs for every event.
   */
  keysFor?: (obj: T) => Iterable<string>;
  logger: Logger;
  clock?: Clock;
  random?: () => number;
  /** Re-enqueue every cached object this often; 0 disables. Default 10 min. */
  resyncMs?: number;
  /** Resume a watch silent for this long; 0 disables. Default 3 min (bookmark gaps reach ~120 s). */
  watchdogMs?: number;
  /** Restart backoff. Default 500 ms doubling to 30 s, jitter 0.5. */
  backoff?: BackoffOptions;
}

/** Something that reports when its first list is in (see readiness.ts). */
export interface Syncable {
  readonly name: string;
  hasSynced(): boolean;
  /** Resolves true once synced, false if stopped or aborted before. */
  whenSynced(signal?: AbortSignal): Promise<boolean>;
}

type WatchEnd =
  | { kind: 'stopped' }
  | { kind: 'closed' }
  | { kind: 'watchdog' }
  | { kind: 'gone' }
  | { kind: 'error'; err: unknown };

export class Informer<T extends KubernetesObject> implements Syncable {
  readonly name: string;
  private readonly source: ListWatchSource<T>;
  private readonly queue: Enqueuer;
  private readonly keysFor: (obj: T) => Iterable<string>;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly resyncMs: number;
  private readonly watchdogMs: number;
  private readonly backoff: Backoff;

  private cache = new Map<string, T>();
  private resourceVersion = '';
  private synced = false;
  private readonly syncWaiters = new Set<(synced: boolean) => void>();
  private stopper = new AbortController();
  private running: Promise<void> | undefined;
  private resyncTimer: Timer | undefined;
  /** Ends the current watch; set while one runs. */
  private endWatch: ((end: WatchEnd) => void) | undefined;

  constructor(opts: InformerOptions<T>) {
    this.name = opts.name;
    this.source = opts.source;
    this.queue = opts.queue;
    this.keysFor = opts.keysFor ?? ((obj) => [objectKey(obj)]);
    this.logger = opts.logger.child({ informer: opts.name });
    this.clock = opts.clock ?? realClock();
    this.resyncMs = opts.resyncMs ?? 600_000;
    this.watchdogMs = opts.watchdogMs ?? 180_000;
    this.backoff = new Backoff(opts.backoff ?? { initialMs: 500, maxMs: 30_000, jitter: 0.5 }, opts.random);
  }

  /** Starts listing and watching in the background. Idempotent. */
  start(): void {
    if (this.running !== undefined) return;
    this.stopper = new AbortController();
    this.running = this.run();
    this.scheduleResync();
  }

  /** Stops watching; resolves when the background loop has ended. The cache stays readable. */
  async stop(): Promise<void> {
    this.stopper.abort();
    this.endWatch?.({ kind: 'stopped' });
    this.resyncTimer?.cancel();
    for (const wake of this.syncWaiters) wake(false);
    this.syncWaiters.clear();
    await this.running;
    this.running = undefined;
  }

  /** True once the first list has succeeded (and stays true across restarts, as in client-go). */
  hasSynced(): boolean {
    return this.synced;
  }

  whenSynced(signal?: AbortSignal): Promise<boolean> {
    if (this.synced) return Promise.resolve(true);
    if (signal?.aborted || this.stopper.signal.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const wake = (synced: boolean): void => {
        this.syncWaiters.delete(wake);
        signal?.removeEventListener('abort', onAbort);
        resolve(synced);
      };
      const onAbort = (): void => wake(false);
      this.syncWaiters.add(wake);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Every cached object (as last listed or watched). */
  list(): T[] {
    return [...this.cache.values()];
  }

  /** The cached object with this key (`namespace/name` or `name`). */
  get(key: string): T | undefined {
    return this.cache.get(key);
  }

  private async run(): Promise<void> {
    const stopped = this.stopper.signal;
    let relist = true;
    while (!stopped.aborted) {
      if (relist) {
        try {
          await this.relist(stopped);
          relist = false;
        } catch (err) {
          if (stopped.aborted) break;
          const delayMs = this.backoff.fail();
          this.logger.warn({ err, delayMs, failures: this.backoff.count }, 'list failed; retrying');
          await this.clock.sleep(delayMs, stopped);
          continue;
        }
      }
      const { end, sawEvents } = await this.watchOnce();
      if (end.kind === 'stopped') break;
      // A watch the server closed after delivering events is resumed at once. Any other end —
      // refused, closed straight away, silent — counts as a failure, so nothing tight-loops.
      const delayMs = end.kind === 'closed' && sawEvents ? 0 : this.backoff.fail();
      if (end.kind === 'error') {
        relist = true;
        this.logger.warn({ err: end.err, delayMs }, 'watch failed; relisting');
      } else if (end.kind === 'gone') {
        relist = true;
        this.logger.info({ delayMs }, 'watch expired (410); relisting');
      } else if (end.kind === 'watchdog') {
        this.logger.warn({ silentMs: this.watchdogMs, delayMs }, 'watch silent too long; restarting it');
      }
      if (delayMs > 0) await this.clock.sleep(delayMs, stopped);
    }
  }

  /** Lists, replaces the cache and enqueues what changed since the previous cache. */
  private async relist(signal: AbortSignal): Promise<void> {
    const result = await this.source.list(signal);
    if (signal.aborted) return;
    const fresh = new Map<string, T>();
    for (const obj of result.items) fresh.set(objectKey(obj), obj);
    const previous = this.cache;
    this.cache = fresh;
    this.resourceVersion = result.resourceVersion;
    for (const [key, obj] of fresh) {
      const old = previous.get(key);
      if (old === undefined || old.metadata?.resourceVersion !== obj.metadata?.resourceVersion) {
        this.enqueue(obj, old);
      }
    }
    for (const [key, old] of previous) if (!fresh.has(key)) this.enqueue(old);
    this.logger.debug({ items: fresh.size, resourceVersion: this.resourceVersion }, 'listed');
    if (!this.synced) {
      this.synced = true;
      this.logger.info({ items: fresh.size }, 'synced');
      for (const wake of [...this.syncWaiters]) wake(true);
    }
  }

  /** One watch from the current resourceVersion, until it ends for any reason. */
  private watchOnce(): Promise<{ end: WatchEnd; sawEvents: boolean }> {
    if (this.stopper.signal.aborted) return Promise.resolve({ end: { kind: 'stopped' }, sawEvents: false });
    return new Promise((resolve) => {
      const abort = new AbortController();
      let watchdog: Timer | undefined;
      let sawEvents = false;
      const end = (how: WatchEnd): void => {
        if (this.endWatch !== end) return;
        this.endWatch = undefined;
        watchdog?.cancel();
        abort.abort();
        resolve({ end: how, sawEvents });
      };
      const armWatchdog = (): void => {
        watchdog?.cancel();
        if (this.watchdogMs > 0) watchdog = this.clock.setTimeout(() => end({ kind: 'watchdog' }), this.watchdogMs);
      };
      const onEvent = (event: WatchEvent<T>): void => {
        if (this.endWatch !== end) return; // a late event from an abandoned stream
        armWatchdog();
        sawEvents = true;
        this.backoff.reset();
        this.apply(event);
      };
      const onDone = (err?: unknown): void => {
        if (err === undefined) end({ kind: 'closed' });
        else if (isGone(err)) end({ kind: 'gone' });
        else if (isClientTimeout(err)) end({ kind: 'watchdog' });
        else end({ kind: 'error', err });
      };
      this.endWatch = end;
      armWatchdog();
      try {
        this.source.watch(this.resourceVersion, abort.signal, onEvent, onDone);
      } catch (err) {
        onDone(err);
      }
    });
  }

  private apply(event: WatchEvent<T>): void {
    const obj = event.object;
    const rv = obj.metadata?.resourceVersion;
    if (rv !== undefined && rv !== '') this.resourceVersion = rv;
    if (event.type === 'BOOKMARK') return;
    const key = objectKey(obj);
    const old = this.cache.get(key);
    if (event.type === 'DELETED') this.cache.delete(key);
    else this.cache.set(key, obj);
    this.enqueue(obj, old);
  }

  /** Enqueues the keys of obj and, when it changed, of its previous state (e.g. a new owner). */
  private enqueue(obj: T, old?: T): void {
    const keys = new Set(this.keysFor(obj));
    if (old !== undefined && old !== obj) for (const k of this.keysFor(old)) keys.add(k);
    for (const k of keys) this.queue.add(k);
  }

  private scheduleResync(): void {
    if (this.resyncMs <= 0) return;
    this.resyncTimer = this.clock.setTimeout(() => {
      if (this.stopper.signal.aborted) return;
      if (this.synced) {
        this.logger.debug({ items: this.cache.size }, 'resync');
        for (const obj of this.cache.values()) this.enqueue(obj);
      }
      this.scheduleResync();
    }, this.resyncMs);
  }
}

/** A request timeout of the HTTP client: as good as a watchdog firing. */
function isClientTimeout(err: unknown): boolean {
  return err instanceof Error && err.name === 'TimeoutError';
}
