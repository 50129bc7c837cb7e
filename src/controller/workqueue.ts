/**
 * A rate-limited, deduplicating work queue with client-go's semantics:
 *
 * - a key is queued at most once however often it is added (dirty set);
 * - a key is handed to at most one worker at a time: added while processing, it is queued again
 *   only when that worker calls done() (processing set);
 * - addAfter / addRateLimited delay an add; a key waiting for several delays keeps the earliest;
 * - shutDown() stops accepting adds, but workers still get what is queued (drain), and get()
 *   resolves undefined once nothing is left.
 */
import type { Registry } from 'prom-client';
import { realClock, type Clock, type Timer } from './clock.js';
import { defaultControllerRateLimiter, type RateLimiter } from './rate-limiter.js';
import { noopWorkqueueMetrics, workqueueMetrics, type WorkqueueMetrics } from './workqueue-metrics.js';

export interface WorkQueueOptions {
  /** Metric label and log name. */
  name: string;
  clock?: Clock;
  /** Default: client-go's controller rate limiter (per key 5 ms → 1000 s, bucket 10 qps / 100). */
  rateLimiter?: RateLimiter;
  /** Metrics are reported here; none when absent. */
  registry?: Registry;
}

/** The consumer side of a queue, as the reconciler loop sees it. */
export interface WorkQueueReader {
  get(): Promise<string | undefined>;
  done(key: string): void;
  forget(key: string): void;
  addAfter(key: string, ms: number): void;
  addRateLimited(key: string): void;
  shutDown(): void;
  isShuttingDown(): boolean;
}

export class WorkQueue implements WorkQueueReader {
  readonly name: string;
  private readonly clock: Clock;
  private readonly limiter: RateLimiter;
  private readonly metrics: WorkqueueMetrics;

  /** Keys ready for a worker, in order. Never holds a key twice or a key being processed. */
  private readonly queue: string[] = [];
  /** Keys that need processing (queued, or re-added while processing), with when they were added. */
  private readonly dirty = new Map<string, number>();
  /** Keys held by a worker, with when it got them. */
  private readonly processing = new Map<string, number>();
  /** Delayed adds: key → when it becomes ready. */
  private readonly waiting = new Map<string, { at: number; timer: Timer }>();
  /** Workers blocked in get(); non-empty only while the queue is empty. */
  private readonly waiters: ((key: string | undefined) => void)[] = [];
  private shuttingDown = false;
  private readonly drainWaiters: (() => void)[] = [];

  constructor(opts: WorkQueueOptions) {
    this.name = opts.name;
    this.clock = opts.clock ?? realClock();
    this.limiter = opts.rateLimiter ?? defaultControllerRateLimiter(this.clock);
    this.metrics =
      opts.registry === undefined
        ? noopWorkqueueMetrics
        : workqueueMetrics(opts.registry, opts.name, () => this.inFlightAges());
  }

  /** Marks key as needing processing. No-op after shutDown(). */
  add(key: string): void {
    if (this.shuttingDown || this.dirty.has(key)) return;
    this.metrics.added();
    this.dirty.set(key, this.clock.now());
    if (this.processing.has(key)) return; // done() queues it again
    this.enqueue(key);
  }

  /** Adds key after ms milliseconds; an earlier pending delay for the same key wins. */
  addAfter(key: string, ms: number): void {
    if (this.shuttingDown) return;
    if (ms <= 0) {
      this.add(key);
      return;
    }
    const at = this.clock.now() + ms;
    const pending = this.waiting.get(key);
    if (pending !== undefined) {
      if (pending.at <= at) return;
      pending.timer.cancel();
    }
    const timer = this.clock.setTimeout(() => {
      this.waiting.delete(key);
      this.add(key);
    }, ms);
    this.waiting.set(key, { at, timer });
  }

  /** Adds key after the rate limiter's delay (a retry: the key's backoff grows). */
  addRateLimited(key: string): void {
    if (this.shuttingDown) return;
    this.metrics.retried();
    this.addAfter(key, this.limiter.when(key));
  }

  /** The key succeeded: its backoff starts over. Does not remove a pending add. */
  forget(key: string): void {
    this.limiter.forget(key);
  }

  /** Rate-limited retries of the key since it was last forgotten. */
  numRequeues(key: string): number {
    return this.limiter.numRequeues(key);
  }

  /**
   * The next key to process, waiting until one is ready. The caller owns the key until it calls
   * done(key). Resolves undefined once the queue is shut down and empty.
   */
  get(): Promise<string | undefined> {
    const key = this.queue.length > 0 ? this.take() : undefined;
    if (key !== undefined || this.shuttingDown) return Promise.resolve(key);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** The worker finished key; if it was added meanwhile, it is queued again now. */
  done(key: string): void {
    const started = this.processing.get(key);
    if (started === undefined) return;
    this.processing.delete(key);
    this.metrics.worked((this.clock.now() - started) / 1000);
    if (this.dirty.has(key)) this.enqueue(key);
    this.checkDrained();
  }

  /** Keys ready for a worker (not counting delayed or in-flight ones). */
  len(): number {
    return this.queue.length;
  }

  isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  /** Stops accepting adds, drops delayed adds, and wakes idle workers with undefined. */
  shutDown(): void {
    if (this.shuttingDown) return;
    this.shuttingDown = true;
    for (const { timer } of this.waiting.values()) timer.cancel();
    this.waiting.clear();
    for (const wake of this.waiters.splice(0)) wake(undefined);
    this.metrics.close();
    this.checkDrained();
  }

  /** shutDown(), then resolves when every queued and in-flight key is done. */
  shutDownWithDrain(): Promise<void> {
    const drained = new Promise<void>((resolve) => this.drainWaiters.push(resolve));
    this.shutDown();
    this.checkDrained();
    return drained;
  }

  private enqueue(key: string): void {
    this.queue.push(key);
    this.metrics.depth(this.queue.length);
    // Hand keys straight to blocked workers so a wake-up can never be lost.
    while (this.waiters.length > 0 && this.queue.length > 0) {
      const wake = this.waiters.shift();
      wake?.(this.take());
    }
  }

  private take(): string | undefined {
    const key = this.queue.shift();
    if (key === undefined) return undefined;
    const now = this.clock.now();
    const addedAt = this.dirty.get(key) ?? now;
    this.metrics.depth(this.queue.length);
    this.metrics.queued((now - addedAt) / 1000);
    this.dirty.delete(key);
    this.processing.set(key, now);
    return key;
  }

  private checkDrained(): void {
    if (!this.shuttingDown || this.queue.length > 0 || this.processing.size > 0) return;
    for (const resolve of this.drainWaiters.splice(0)) resolve();
  }

  private inFlightAges(): number[] {
    const now = this.clock.now();
    return [...this.processing.values()].map((started) => (now - started) / 1000);
  }
}
