import { describe, expect, it } from 'vitest';
import { realClock } from './clock.js';
import { FakeClock, flushMicrotasks } from './fake-clock.js';

describe('FakeClock', () => {
  it('fires timers in due order, ties in scheduling order, only when time reaches them', async () => {
    const clock = new FakeClock(1000);
    const fired: string[] = [];
    clock.setTimeout(() => fired.push('b@20'), 20);
    clock.setTimeout(() => fired.push('a@10'), 10);
    clock.setTimeout(() => fired.push('c@20'), 20);
    clock.setTimeout(() => fired.push('now'), -5);
    await clock.advance(9);
    expect(fired).toEqual(['now']);
    await clock.advance(11);
    expect(fired).toEqual(['now', 'a@10', 'b@20', 'c@20']);
    expect(clock.now()).toBe(1020);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('cancelled timers never fire; cancel is idempotent', async () => {
    const clock = new FakeClock();
    let fired = 0;
    const t = clock.setTimeout(() => fired++, 5);
    t.cancel();
    t.cancel();
    await clock.advance(10);
    expect(fired).toBe(0);
  });

  it('runs async continuations between timers, so timers set by them fire within the same advance', async () => {
    const clock = new FakeClock(0);
    const seen: number[] = [];
    const loop = async (): Promise<void> => {
      for (let i = 0; i < 3; i++) {
        await clock.sleep(10);
        await Promise.resolve();
        seen.push(clock.now());
      }
    };
    const done = loop();
    await clock.advance(30);
    await done;
    expect(seen).toEqual([10, 20, 30]);
  });

  it('sleep resolves early when its signal aborts, and at once when already aborted', async () => {
    const clock = new FakeClock();
    const ac = new AbortController();
    let woke = false;
    void clock.sleep(1000, ac.signal).then(() => (woke = true));
    await flushMicrotasks();
    expect(woke).toBe(false);
    ac.abort();
    await flushMicrotasks();
    expect(woke).toBe(true);
    expect(clock.pendingTimers()).toBe(0);
    await expect(clock.sleep(1000, ac.signal)).resolves.toBeUndefined();
  });
});

describe('realClock', () => {
  it('now() is epoch milliseconds and never goes backwards', () => {
    const clock = realClock();
    const a = clock.now();
    const b = clock.now();
    expect(Math.abs(a - Date.now())).toBeLessThan(5_000);
    expect(b).toBeGreaterThanOrEqual(a);
  });

  it('sleeps, and cancelled timers do not fire', async () => {
    const clock = realClock();
    let fired = false;
    clock.setTimeout(() => (fired = true), 1).cancel();
    const start = clock.now();
    await clock.sleep(15);
    expect(clock.now() - start).toBeGreaterThanOrEqual(10);
    expect(fired).toBe(false);
  });
});
