import { describe, expect, it } from 'vitest';
import { Backoff, computeBackoffDelay, computeJittered } from './backoff.js';

describe('computeBackoffDelay', () => {
  const opts = { initialMs: 500, maxMs: 30_000 };
  it.each([
    [0, 0],
    [-1, 0],
    [1, 500],
    [2, 1000],
    [3, 2000],
    [6, 16_000],
    [7, 30_000],
    [50, 30_000],
    [5000, 30_000],
  ])('after %i failures waits %i ms', (failures, ms) => {
    expect(computeBackoffDelay(failures, opts)).toBe(ms);
  });

  it('honours another factor', () => {
    expect(computeBackoffDelay(3, { initialMs: 100, maxMs: 10_000, factor: 3 })).toBe(900);
  });
});

describe('computeJittered', () => {
  it('adds up to jitter × delay', () => {
    expect(computeJittered(1000, 0.5, () => 0)).toBe(1000);
    expect(computeJittered(1000, 0.5, () => 0.999)).toBeCloseTo(1499.5);
    expect(computeJittered(1000, 0, () => 0.9)).toBe(1000);
  });
});

describe('Backoff', () => {
  it('grows with consecutive failures and starts over after reset()', () => {
    const b = new Backoff({ initialMs: 100, maxMs: 350, jitter: 0 });
    expect([b.fail(), b.fail(), b.fail(), b.fail()]).toEqual([100, 200, 350, 350]);
    expect(b.count).toBe(4);
    b.reset();
    expect(b.count).toBe(0);
    expect(b.fail()).toBe(100);
  });

  it('jitters by default (0.5) with the injected random source', () => {
    const b = new Backoff({ initialMs: 100, maxMs: 1000 }, () => 1);
    expect(b.fail()).toBe(150);
  });
});
