import fc from 'fast-check';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { FakeClock, flushMicrotasks } from './fake-clock.js';
import { ItemExponentialFailureRateLimiter } from './rate-limiter.js';
import { WorkQueue } from './workqueue.js';

function setup(registry?: Registry) {
  const clock = new FakeClock(0);
  const queue = new WorkQueue({
    name: 'test',
    clock,
    rateLimiter: new ItemExponentialFailureRateLimiter(5, 1_000_000),
    ...(registry ? { registry } : {}),
  });
  return { clock, queue };
}

/** Resolves what a pending get() has got so far without waiting for it. */
async function peek<T>(p: Promise<T>): Promise<T | 'pending'> {
  return Promise.race([p, flushMicrotasks().then(() => 'pending' as const)]);
}

async function metric(registry: Registry, name: string, labels: Record<string, string> = { name: 'test' }) {
  const m = await registry.getSingleMetric(name)?.get();
  const match = m?.values.filter((v) => Object.entries(labels).every(([k, val]) => v.labels[k] === val));
  return match?.map((v) => ({ name: (v as { metricName?: string }).metricName ?? name, value: v.value }));
}

describe('WorkQueue semantics', () => {
  it('hands out keys in order and collapses duplicates', async () => {
    const { queue } = setup();
    queue.add('a');
    queue.add('b');
    queue.add('a');
    expect(queue.len()).toBe(2);
    expect(await queue.get()).toBe('a');
    expect(await queue.get()).toBe('b');
    expect(queue.len()).toBe(0);
  });

  it('never gives a key being processed to a second worker; re-adds it once after done()', async () => {
    const { queue } = setup();
    queue.add('a');
    const first = await queue.get();
    queue.add('a');
    queue.add('a');
    expect(queue.len()).toBe(0);
    const second = queue.get();
    expect(await peek(second)).toBe('pending');
    queue.done('a');
    expect(first).toBe('a');
    expect(await second).toBe('a');
    queue.done('a');
    expect(queue.len()).toBe(0);
    expect(await peek(queue.get())).toBe('pending');
  });

  it('a blocked get() receives the next add', async () => {
    const { queue } = setup();
    const waiting = [queue.get(), queue.get()];
    queue.add('x');
    queue.add('y');
    expect(await Promise.all(waiting)).toEqual(['x', 'y']);
  });

  it('done() of a key nobody holds changes nothing', () => {
    const { queue } = setup();
    queue.done('ghost');
    expect(queue.len()).toBe(0);
  });

  it('addAfter adds when the delay is over; the earliest pending delay wins; ≤ 0 adds now', async () => {
    const { clock, queue } = setup();
    queue.addAfter('a', 100);
    queue.addAfter('a', 50);
    queue.addAfter('a', 200);
    await clock.advance(49);
    expect(queue.len()).toBe(0);
    await clock.advance(1);
    expect(queue.len()).toBe(1);
    await clock.advance(500);
    expect(queue.len()).toBe(1);
    queue.addAfter('b', 0);
    expect(queue.len()).toBe(2);
  });

  it('addRateLimited backs off per key (5, 10, 20 ms …) until forget()', async () => {
    const { clock, queue } = setup();
    const readyAfter = async (): Promise<number> => {
      const start = clock.now();
      queue.addRateLimited('k');
      while (queue.len() === 0) await clock.advance(1);
      await queue.get();
      queue.done('k');
      return clock.now() - start;
    };
    expect([await readyAfter(), await readyAfter(), await readyAfter()]).toEqual([5, 10, 20]);
    expect(queue.numRequeues('k')).toBe(3);
    queue.forget('k');
    expect(queue.numRequeues('k')).toBe(0);
    expect(await readyAfter()).toBe(5);
  });

  it('shutDown: stops accepting adds, drains what is queued, then get() resolves undefined', async () => {
    const { clock, queue } = setup();
    queue.add('a');
    queue.add('b');
    queue.addAfter('later', 10);
    queue.shutDown();
    queue.shutDown();
    expect(queue.isShuttingDown()).toBe(true);
    queue.add('c');
    queue.addAfter('d', 5);
    queue.addAfter('e', 0);
    queue.addRateLimited('f');
    await clock.advance(100);
    expect(await queue.get()).toBe('a');
    expect(await queue.get()).toBe('b');
    expect(await queue.get()).toBeUndefined();
  });

  it('shutDown wakes idle workers with undefined', async () => {
    const { queue } = setup();
    const idle = [queue.get(), queue.get()];
    queue.shutDown();
    expect(await Promise.all(idle)).toEqual([undefined, undefined]);
  });

  it('a key re-added during processing is still handed out after shutDown (drain)', async () => {
    const { queue } = setup();
    queue.add('a');
    await queue.get();
    queue.add('a');
    queue.shutDown();
    queue.done('a');
    expect(await queue.get()).toBe('a');
  });

  it('shutDownWithDrain resolves once every in-flight key is done', async () => {
    const { queue } = setup();
    queue.add('a');
    queue.add('b');
    await queue.get();
    let drained = false;
    const both = [queue.shutDownWithDrain(), queue.shutDownWithDrain()];
    void Promise.all(both).then(() => (drained = true));
    await flushMicrotasks();
    expect(drained).toBe(false);
    queue.done('a');
    expect(await queue.get()).toBe('b');
    await flushMicrotasks();
    expect(drained).toBe(false);
    queue.done('b');
    await flushMicrotasks();
    expect(drained).toBe(true);
  });

  it('uses the real clock and the default rate limiter when none are given', async () => {
    const queue = new WorkQueue({ name: 'defaults' });
    queue.addRateLimited('a'); // 5 ms
    expect(await queue.get()).toBe('a');
    queue.shutDown();
  });
});

describe('WorkQueue metrics', () => {
  it('reports client-go work queue metrics under label name', async () => {
    const registry = new Registry();
    const { clock, queue } = setup(registry);
    expect(await metric(registry, 'workqueue_depth')).toEqual([{ name: 'workqueue_depth', value: 0 }]);
    queue.add('a');
    queue.add('a');
    queue.add('b');
    expect(await metric(registry, 'workqueue_adds_total')).toEqual([{ name: 'workqueue_adds_total', value: 2 }]);
    expect(await metric(registry, 'workqueue_depth')).toEqual([{ name: 'workqueue_depth', value: 2 }]);
    await clock.advance(2000);
    await queue.get();
    await clock.advance(3000);
    const running = await metric(registry, 'workqueue_longest_running_processor_seconds');
    expect(running).toEqual([{ name: 'workqueue_longest_running_processor_seconds', value: 3 }]);
    await queue.get();
    await clock.advance(1000);
    expect(await metric(registry, 'workqueue_unfinished_work_seconds')).toEqual([
      { name: 'workqueue_unfinished_work_seconds', value: 5 },
    ]);
    queue.done('a');
    queue.done('b');
    queue.addRateLimited('a');
    expect(await metric(registry, 'workqueue_retries_total')).toEqual([{ name: 'workqueue_retries_total', value: 1 }]);
    const queued = await metric(registry, 'workqueue_queue_duration_seconds');
    expect(queued?.find((v) => v.name === 'workqueue_queue_duration_seconds_count')?.value).toBe(2);
    expect(queued?.find((v) => v.name === 'workqueue_queue_duration_seconds_sum')?.value).toBe(7); // 2 s + 5 s
    const worked = await metric(registry, 'workqueue_work_duration_seconds');
    expect(worked?.find((v) => v.name === 'workqueue_work_duration_seconds_sum')?.value).toBe(5);
    expect(await metric(registry, 'workqueue_longest_running_processor_seconds')).toEqual([
      { name: 'workqueue_longest_running_processor_seconds', value: 0 },
    ]);
    // A shut-down queue no longer reports in-flight work.
    queue.shutDown();
    expect(await metric(registry, 'workqueue_unfinished_work_seconds')).toEqual([]);
  });

  it('several queues share one registry, each under its own name', async () => {
    const registry = new Registry();
    const a = new WorkQueue({ name: 'a', registry, clock: new FakeClock() });
    const b = new WorkQueue({ name: 'b', registry, clock: new FakeClock() });
    a.add('x');
    b.add('x');
    b.add('y');
    expect(await metric(registry, 'workqueue_depth', { name: 'a' })).toEqual([{ name: 'workqueue_depth', value: 1 }]);
    expect(await metric(registry, 'workqueue_depth', { name: 'b' })).toEqual([{ name: 'workqueue_depth', value: 2 }]);
  });
});

/**
 * Random interleavings of add / addAfter / get / done / time across workers. Invariants, checked
 * after every step: no key is held by two workers; a key is handed out only if it was added
 * after it was last handed out (duplicates collapse); and at the end nothing added after its last
 * get has been lost.
 */
describe('WorkQueue properties', () => {
  const keys = ['a', 'b', 'c'];
  const WORKERS = 3;
  type Op =
    | { op: 'add'; key: string }
    | { op: 'addAfter'; key: string; ms: number }
    | { op: 'get'; worker: number }
    | { op: 'done'; worker: number }
    | { op: 'tick'; ms: number };
  const opArb: fc.Arbitrary<Op> = fc.oneof(
    fc.record({ op: fc.constant('add' as const), key: fc.constantFrom(...keys) }),
    fc.record({ op: fc.constant('addAfter' as const), key: fc.constantFrom(...keys), ms: fc.integer({ min: 1, max: 20 }) }),
    fc.record({ op: fc.constant('get' as const), worker: fc.integer({ min: 0, max: WORKERS - 1 }) }),
    fc.record({ op: fc.constant('done' as const), worker: fc.integer({ min: 0, max: WORKERS - 1 }) }),
    fc.record({ op: fc.constant('tick' as const), ms: fc.integer({ min: 1, max: 15 }) }),
  );

  it('never hands one key to two workers and never loses a key added after its last get', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { maxLength: 60 }), async (ops) => {
        const clock = new FakeClock(0);
        const queue = new WorkQueue({ name: 'prop', clock });
        /** What each worker holds: a key, 'waiting' for get(), or nothing. */
        const holding: (string | 'waiting' | undefined)[] = Array.from({ length: WORKERS }, () => undefined);
        /** Keys added (or whose delayed add fired) since they were last handed out. */
        const owed = new Set<string>();
        const delayed = new Map<string, number>();
        /** Invariant violations seen inside get() callbacks, asserted after each step. */
        const violations: string[] = [];
        const received = (worker: number, key: string | undefined): void => {
          if (key === undefined) return;
          if (!owed.has(key)) violations.push(`${key} handed out without a new add`);
          owed.delete(key);
          if (holding.some((h, i) => i !== worker && h === key)) violations.push(`${key} held by two workers`);
          holding[worker] = key;
        };
        /** One millisecond: delayed adds falling due in it are owed from the moment they fire. */
        const tick = async (): Promise<void> => {
          const next = clock.now() + 1;
          for (const [key, at] of delayed) {
            if (at <= next) {
              owed.add(key);
              delayed.delete(key);
            }
          }
          await clock.advance(1);
        };
        for (const step of ops) {
          switch (step.op) {
            case 'add':
              owed.add(step.key);
              queue.add(step.key);
              break;
            case 'addAfter': {
              const at = clock.now() + step.ms;
              delayed.set(step.key, Math.min(delayed.get(step.key) ?? Infinity, at));
              queue.addAfter(step.key, step.ms);
              break;
            }
            case 'get':
              if (holding[step.worker] !== undefined) break;
              holding[step.worker] = 'waiting';
              void queue.get().then((key) => received(step.worker, key));
              break;
            case 'done': {
              const key = holding[step.worker];
              if (key === undefined || key === 'waiting') break;
              holding[step.worker] = undefined;
              queue.done(key);
              break;
            }
            case 'tick':
              // Delayed adds fire while time passes: record them as owed at their due time.
              for (let t = 0; t < step.ms; t++) await tick();
              break;
          }
          await flushMicrotasks();
          expect(violations).toEqual([]);
        }
        // Finish: let delays fire, release every held key, then collect everything still queued.
        for (let t = 0; t < 25; t++) await tick();
        for (let w = 0; w < WORKERS; w++) {
          const key = holding[w];
          if (key !== undefined && key !== 'waiting') {
            holding[w] = undefined;
            queue.done(key);
          }
        }
        await flushMicrotasks();
        // Waiting workers may have just received keys; release those as well.
        for (let w = 0; w < WORKERS; w++) {
          const key = holding[w];
          if (key !== undefined && key !== 'waiting') {
            holding[w] = undefined;
            queue.done(key);
          }
        }
        while (queue.len() > 0) {
          const key = await queue.get();
          if (key === undefined) break;
          received(WORKERS, key);
          holding[WORKERS] = undefined;
          queue.done(key);
        }
        await flushMicrotasks();
        expect(violations).toEqual([]);
        // A waiting worker receives a key the moment it is queued, so nothing may be owed now.
        expect([...owed], 'keys lost').toEqual([]);
        queue.shutDown();
      }),
      { numRuns: 300 },
    );
  });
});
