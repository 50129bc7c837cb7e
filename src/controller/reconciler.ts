/**
 * The worker loop: get a key → reconcile → requeue as the result says → done. Keys come only from
 * the queue, so one key is never reconciled by two workers at once (the queue guarantees it).
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { Registry } from 'prom-client';
import { realClock, type Clock } from './clock.js';
import { reconcilerMetrics, type ReconcileOutcome, type ReconcilerMetrics } from './reconciler-metrics.js';
import type { WorkQueueReader } from './workqueue.js';

export interface ReconcileContext {
  /** Child logger carrying controller, key and reconcileID. */
  logger: Logger;
  reconcileID: string;
  /** Aborted when the controller stops (e.g. leadership lost): stop acting and return. */
  signal: AbortSignal;
}

export interface ReconcileResult {
  /** Reconcile again after this many ms (the key's backoff is reset). Wins over `requeue`. */
  requeueAfter?: number;
  /** Reconcile again with the key's backoff, as after an error but without logging one. */
  requeue?: boolean;
}

// `void` so a reconcile with nothing to say is a plain `async () => { ... }`.
// eslint-disable-next-line @typescript-eslint/no-invalid-void-type
export type Reconcile = (key: string, ctx: ReconcileContext) => Promise<ReconcileResult | void>;

export interface ControllerOptions {
  name: string;
  queue: WorkQueueReader;
  reconcile: Reconcile;
  /** Concurrent reconciles (distinct keys). Default 1. */
  workers?: number;
  logger: Logger;
  /** Metrics are reported here; none when absent. */
  registry?: Registry;
  clock?: Clock;
  /**
   * Abort to stop: the queue is shut down, in-flight reconciles see their signal aborted, and
   * queued keys are dropped (a controller that lost leadership must stop acting). Without a
   * signal, shutting the queue down drains it instead.
   */
  signal?: AbortSignal;
  newReconcileID?: () => string;
}

/** Runs the workers until the queue is shut down (or signal aborts) and every worker has returned. */
export async function runController(opts: ControllerOptions): Promise<void> {
  const workers = opts.workers ?? 1;
  if (!Number.isInteger(workers) || workers < 1) {
    throw new Error(`controller ${opts.name}: workers must be a positive integer, got ${workers}`);
  }
  const signal = opts.signal ?? new AbortController().signal;
  const onAbort = (): void => opts.queue.shutDown();
  if (signal.aborted) onAbort();
  else signal.addEventListener('abort', onAbort, { once: true });
  const worker: Worker = {
    name: opts.name,
    queue: opts.queue,
    reconcile: opts.reconcile,
    logger: opts.logger.child({ controller: opts.name }),
    clock: opts.clock ?? realClock(),
    metrics: reconcilerMetrics(opts.registry ?? new Registry(), opts.name, workers),
    signal,
    newReconcileID: opts.newReconcileID ?? randomUUID,
  };
  worker.logger.info({ workers }, 'starting workers');
  try {
    await Promise.all(Array.from({ length: workers }, () => workLoop(worker)));
  } finally {
    signal.removeEventListener('abort', onAbort);
    worker.logger.info('all workers finished');
  }
}

interface Worker {
  name: string;
  queue: WorkQueueReader;
  reconcile: Reconcile;
  logger: Logger;
  clock: Clock;
  metrics: ReconcilerMetrics;
  signal: AbortSignal;
  newReconcileID: () => string;
}

async function workLoop(w: Worker): Promise<void> {
  for (;;) {
    const key = await w.queue.get();
    if (key === undefined) return;
    if (w.signal.aborted) {
      w.queue.done(key);
      return;
    }
    w.metrics.activeWorkers(1);
    try {
      await processKey(w, key);
    } finally {
      w.metrics.activeWorkers(-1);
      w.queue.done(key);
    }
  }
}

async function processKey(w: Worker, key: string): Promise<void> {
  const reconcileID = w.newReconcileID();
  const logger = w.logger.child({ key, reconcileID });
  const started = w.clock.now();
  let outcome: ReconcileOutcome;
  try {
    // then() also turns a synchronous throw into a rejection.
    const result = await Promise.resolve().then(() => w.reconcile(key, { logger, reconcileID, signal: w.signal }));
    outcome = computeOutcome(result ?? undefined);
    if (outcome === 'requeue') {
      w.queue.addRateLimited(key);
    } else {
      w.queue.forget(key);
      if (outcome === 'requeue_after' && result) w.queue.addAfter(key, result.requeueAfter ?? 0);
    }
    logger.debug({ result: outcome }, 'reconciled');
  } catch (err) {
    outcome = 'error';
    w.queue.addRateLimited(key);
    logger.error({ err }, 'Reconciler error');
  }
  w.metrics.reconciled(outcome, (w.clock.now() - started) / 1000);
}

/** How a successful reconcile's result maps to controller-runtime's result label. */
export function computeOutcome(result: ReconcileResult | undefined): Exclude<ReconcileOutcome, 'error'> {
  if (result?.requeueAfter !== undefined && result.requeueAfter > 0) return 'requeue_after';
  if (result?.requeue === true) return 'requeue';
  return 'success';
}
