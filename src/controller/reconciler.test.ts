import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { FakeClock, flushMicrotasks } from './fake-clock.js';
import { ItemExponentialFailureRateLimiter } from './rate-limiter.js';
import { computeOutcome, runController, type Reconcile, type ReconcileContext } from './reconciler.js';
import { captureLogs } from '../testing/log-lines.js';
import { WorkQueue } from './workqueue.js';


function setup(reconcile: Reconcile, opts: { workers?: number; signal?: AbortSignal } = {}) {
  const clock = new FakeClock(0);
  const registry = new Registry();
  const queue = new WorkQueue({ name: 'things', clock, rateLimiter: new ItemExponentialFailureRateLimiter(5, 1000) });
  const { logger, lines } = captureLogs();
  let ids = 0;
  const done = runController({
    name: 'things',
    queue,
    reconcile,
    logger,
    registry,
    clock,
    newReconcileID: () => `r${++ids}`,
    ...opts,
  });
  return { clock, registry, queue, lines, done };
}

async function counter(registry: Registry, name: string, labels: Record<string, string>): Promise<number | undefined> {
  const m = await registry.getSingleMetric(name)?.get();
  return m?.values.find((v) => Object.entries(labels).every(([k, val]) => v.labels[k] === val))?.value;
}

describe('computeOutcome', () => {
  it.each([
    [undefined, 'success'],
    [{}, 'success'],
    [{ requeueAfter: 0 }, 'success'],
    [{ requeue: true }, 'requeue'],
    [{ requeueAfter: 10 }, 'requeue_after'],
    [{ requeueAfter: 10, requeue: true }, 'requeue_after'],
  ] as const)('%j → %s', (result, outcome) => {
    expect(computeOutcome(result)).toBe(outcome);
  });
});

describe('runController', () => {
  it('reconciles each key with a child logger carrying controller, key and reconcileID', async () => {
    const seen: [string, ReconcileContext][] = [];
    const { queue, registry, lines, done } = setup(async (key, ctx) => {
      seen.push([key, ctx]);
      ctx.logger.info('working');
    });
    queue.add('ns/a');
    await flushMicrotasks();
    expect(seen.map(([k, c]) => [k, c.reconcileID])).toEqual([['ns/a', 'r1']]);
    expect(lines.find((l) => l['msg'] === 'working')).toMatchObject({ controller: 'things', key: 'ns/a', reconcileID: 'r1' });
    expect(await counter(registry, 'controller_runtime_reconcile_total', { controller: 'things', result: 'success' })).toBe(1);
    expect(await counter(registry, 'controller_runtime_reconcile_total', { controller: 'things', result: 'error' })).toBe(0);
    expect(await counter(registry, 'controller_runtime_max_concurrent_reconciles', { controller: 'things' })).toBe(1);
    queue.shutDown();
    await done;
  });

  it('an error retries the key with growing backoff and is logged once per failure with its reconcileID', async () => {
    const attempts: number[] = [];
    const { clock, queue, registry, lines, done } = setup(async () => {
      attempts.push(clock.now());
      if (attempts.length < 4) throw new Error('apiserver said no', { cause: new Error('409') });
    });
    queue.add('k');
    await clock.advance(100);
    // 5 ms, then 10, then 20 after each failure; the 4th attempt succeeds and resets the backoff.
    expect(attempts).toEqual([0, 5, 15, 35]);
    expect(queue.numRequeues('k')).toBe(0);
    const errors = lines.filter((l) => l['msg'] === 'Reconciler error');
    expect(errors.map((l) => l['reconcileID'])).toEqual(['r1', 'r2', 'r3']);
    expect(errors[0]).toMatchObject({ key: 'k', controller: 'things', err: { message: 'apiserver said no: 409' } }); // pino folds the cause in
    expect(await counter(registry, 'controller_runtime_reconcile_errors_total', { controller: 'things' })).toBe(3);
    expect(await counter(registry, 'controller_runtime_reconcile_total', { controller: 'things', result: 'error' })).toBe(3);
    queue.shutDown();
    await done;
  });

  it('a synchronous throw is an error like any other', async () => {
    let calls = 0;
    const { clock, queue, done } = setup(() => {
      calls++;
      if (calls === 1) throw new Error('boom');
      return Promise.resolve();
    });
    queue.add('k');
    await clock.advance(10);
    expect(calls).toBe(2);
    queue.shutDown();
    await done;
  });

  it('requeueAfter reconciles again after exactly that long, with the backoff forgotten', async () => {
    const at: number[] = [];
    const { clock, queue, registry, done } = setup(async () => {
      at.push(clock.now());
      return at.length < 3 ? { requeueAfter: 1000 } : undefined;
    });
    queue.addRateLimited('k'); // some backoff history that success must clear
    await clock.advance(5000);
    expect(at).toEqual([5, 1005, 2005]);
    expect(queue.numRequeues('k')).toBe(0);
    expect(await counter(registry, 'controller_runtime_reconcile_total', { controller: 'things', result: 'requeue_after' })).toBe(2);
    expect(await counter(registry, 'controller_runtime_reconcile_total', { controller: 'things', result: 'success' })).toBe(1);
    queue.shutDown();
    await done;
  });

  it('requeue: true retries with the rate limiter but logs no error', async () => {
    const at: number[] = [];
    const { clock, queue, registry, lines, done } = setup(async () => {
      at.push(clock.now());
      return at.length < 3 ? { requeue: true } : {};
    });
    queue.add('k');
    await clock.advance(100);
    expect(at).toEqual([0, 5, 15]);
    expect(lines.filter((l) => l['msg'] === 'Reconciler error')).toEqual([]);
    expect(await counter(registry, 'controller_runtime_reconcile_total', { controller: 'things', result: 'requeue' })).toBe(2);
    queue.shutDown();
    await done;
  });

  it('workers reconcile distinct keys concurrently, never one key twice at once', async () => {
    const active = new Set<string>();
    let peak = 0;
    const releases: (() => void)[] = [];
    const { queue, registry, done } = setup(
      (key) => {
        expect(active.has(key)).toBe(false);
        active.add(key);
        peak = Math.max(peak, active.size);
        return new Promise<void>((resolve) =>
          releases.push(() => {
            active.delete(key);
            resolve();
          }),
        );
      },
      { workers: 3 },
    );
    for (const k of ['a', 'b', 'c', 'd', 'a']) queue.add(k);
    await flushMicrotasks();
    expect([...active].sort()).toEqual(['a', 'b', 'c']);
    expect(await counter(registry, 'controller_runtime_active_workers', { controller: 'things' })).toBe(3);
    queue.add('a'); // while a is being reconciled: once more afterwards, by whichever worker
    for (let i = 0; i < 10 && releases.length > 0; i++) {
      releases.shift()?.();
      await flushMicrotasks();
    }
    expect(peak).toBe(3);
    expect(await counter(registry, 'controller_runtime_reconcile_total', { controller: 'things', result: 'success' })).toBe(5);
    expect(await counter(registry, 'controller_runtime_active_workers', { controller: 'things' })).toBe(0);
    queue.shutDown();
    await done;
  });

  it('aborting the signal stops the workers: in-flight reconciles see it, queued keys are dropped', async () => {
    const stop = new AbortController();
    const seen: string[] = [];
    let inflight: ReconcileContext | undefined;
    let release: () => void = () => undefined;
    const { queue, done } = setup(
      (key, ctx) => {
        seen.push(key);
        inflight = ctx;
        return new Promise<void>((resolve) => (release = resolve));
      },
      { signal: stop.signal },
    );
    queue.add('a');
    queue.add('b');
    await flushMicrotasks();
    stop.abort();
    expect(inflight?.signal.aborted).toBe(true);
    release();
    await done;
    expect(seen).toEqual(['a']);
    expect(queue.isShuttingDown()).toBe(true);
  });

  it('an already aborted signal returns at once', async () => {
    const stop = new AbortController();
    stop.abort();
    const { done } = setup(async () => undefined, { signal: stop.signal });
    await expect(done).resolves.toBeUndefined();
  });

  it('shutting the queue down without a signal drains it first', async () => {
    const seen: string[] = [];
    const { queue, done } = setup(async (key) => {
      seen.push(key);
    });
    queue.add('a');
    queue.add('b');
    queue.shutDown();
    await done;
    expect(seen).toEqual(['a', 'b']);
  });

  it('refuses a worker count that is not a positive integer', async () => {
    const queue = new WorkQueue({ name: 'x', clock: new FakeClock() });
    const { logger } = captureLogs();
    for (const workers of [0, -1, 1.5]) {
      await expect(runController({ name: 'x', queue, reconcile: async () => undefined, logger, workers })).rejects.toThrow(
        /workers must be a positive integer/,
      );
    }
  });

  it('runs with the defaults (real clock, private registry, random reconcile IDs)', async () => {
    const queue = new WorkQueue({ name: 'defaults' });
    const { logger } = captureLogs();
    const ids: string[] = [];
    const done = runController({ name: 'defaults', queue, logger, reconcile: async (_k, ctx) => void ids.push(ctx.reconcileID) });
    queue.add('a');
    queue.shutDown();
    await done;
    expect(ids[0]).toMatch(/^[0-9a-f-]{36}$/);
  });
});
