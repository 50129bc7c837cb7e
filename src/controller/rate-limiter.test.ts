import { describe, expect, it } from 'vitest';
import { FakeClock } from './fake-clock.js';
import {
  BucketRateLimiter,
  ItemExponentialFailureRateLimiter,
  MaxOfRateLimiter,
  defaultControllerRateLimiter,
} from './rate-limiter.js';

describe('ItemExponentialFailureRateLimiter', () => {
  it('doubles per failure of a key from 5 ms, capped at 1000 s', () => {
    const l = new ItemExponentialFailureRateLimiter();
    const delays = Array.from({ length: 20 }, () => l.when('a'));
    expect(delays.slice(0, 5)).toEqual([5, 10, 20, 40, 80]);
    expect(delays[17]).toBe(655_360);
    expect(delays[18]).toBe(1_000_000);
    expect(delays[19]).toBe(1_000_000);
    expect(l.numRequeues('a')).toBe(20);
  });

  it('keeps keys apart and forgets a key on success', () => {
    const l = new ItemExponentialFailureRateLimiter(1, 100);
    l.when('a');
    l.when('a');
    expect(l.when('b')).toBe(1);
    l.forget('a');
    expect(l.numRequeues('a')).toBe(0);
    expect(l.when('a')).toBe(1);
  });

  it('stays capped when the exponent overflows', () => {
    const l = new ItemExponentialFailureRateLimiter(5, 1000);
    for (let i = 0; i < 2000; i++) l.when('a');
    expect(l.when('a')).toBe(1000);
  });
});

describe('BucketRateLimiter', () => {
  it('lets a burst through, then spaces requests at qps, and refills over time', async () => {
    const clock = new FakeClock(0);
    const l = new BucketRateLimiter(clock, 10, 3);
    expect([l.when(), l.when(), l.when()]).toEqual([0, 0, 0]);
    expect(l.when()).toBe(100);
    expect(l.when()).toBe(200);
    await clock.advance(1000); // +10 tokens, capped to the burst of 3, minus the 2 reserved
    expect(l.when()).toBe(0);
    expect(l.numRequeues()).toBe(0);
    l.forget();
  });
});

describe('MaxOfRateLimiter', () => {
  it('waits as long as the slowest limiter and tells every limiter', () => {
    const a = new ItemExponentialFailureRateLimiter(1, 1000);
    const b = new ItemExponentialFailureRateLimiter(10, 1000);
    const l = new MaxOfRateLimiter(a, b);
    expect(l.when('k')).toBe(10);
    expect(l.when('k')).toBe(20);
    expect(a.numRequeues('k')).toBe(2);
    expect(l.numRequeues('k')).toBe(2);
    l.forget('k');
    expect(b.numRequeues('k')).toBe(0);
  });

  it('defaultControllerRateLimiter is per-key exponential within the bucket', () => {
    const l = defaultControllerRateLimiter(new FakeClock());
    expect([l.when('x'), l.when('x'), l.when('y')]).toEqual([5, 10, 5]);
  });
});
