/**
 * Rate limiters for the work queue, after client-go's workqueue package: how long a key waits
 * before it is retried.
 */
import type { Clock } from './clock.js';

export interface RateLimiter {
  /** Delay in ms before `key` may be processed again; counts as one more failure of the key. */
  when(key: string): number;
  /** The key succeeded: its failure history is dropped. */
  forget(key: string): void;
  /** Failures recorded for the key since it was last forgotten. */
  numRequeues(key: string): number;
}

/** Per-key exponential backoff: base × 2^failures, capped (client-go: 5 ms → 1000 s). */
export class ItemExponentialFailureRateLimiter implements RateLimiter {
  private readonly failures = new Map<string, number>();

  constructor(
    private readonly baseMs = 5,
    private readonly maxMs = 1_000_000,
  ) {}

  when(key: string): number {
    const exp = this.failures.get(key) ?? 0;
    this.failures.set(key, exp + 1);
    const delay = this.baseMs * Math.pow(2, exp);
    return Number.isFinite(delay) ? Math.min(delay, this.maxMs) : this.maxMs;
  }

  forget(key: string): void {
    this.failures.delete(key);
  }

  numRequeues(key: string): number {
    return this.failures.get(key) ?? 0;
  }
}

/**
 * An overall token bucket (qps, burst) shared by all keys, so a storm of failing keys cannot
 * hammer the apiserver. when() reserves a token: the delay is until that token exists.
 */
export class BucketRateLimiter implements RateLimiter {
  private tokens: number;
  private last: number;

  constructor(
    private readonly clock: Pick<Clock, 'now'>,
    private readonly qps = 10,
    private readonly burst = 100,
  ) {
    this.tokens = burst;
    this.last = clock.now();
  }

  when(): number {
    const now = this.clock.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.qps);
    this.last = now;
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens / this.qps) * 1000);
  }

  forget(): void {
    // Tokens are shared; a key's success returns none.
  }

  numRequeues(): number {
    return 0;
  }
}

/** The longest delay any of the limiters asks for. */
export class MaxOfRateLimiter implements RateLimiter {
  private readonly limiters: readonly RateLimiter[];

  constructor(...limiters: RateLimiter[]) {
    this.limiters = limiters;
  }

  when(key: string): number {
    // Every limiter must see the failure, so no short-circuit.
    return this.limiters.reduce((max, l) => Math.max(max, l.when(key)), 0);
  }

  forget(key: string): void {
    for (const l of this.limiters) l.forget(key);
  }

  numRequeues(key: string): number {
    return this.limiters.reduce((max, l) => Math.max(max, l.numRequeues(key)), 0);
  }
}

/** client-go's DefaultControllerRateLimiter: max(per-key 5 ms → 1000 s, bucket 10 qps / 100 burst). */
export function defaultControllerRateLimiter(clock: Pick<Clock, 'now'>): RateLimiter {
  return new MaxOfRateLimiter(new ItemExponentialFailureRateLimiter(5, 1_000_000), new BucketRateLimiter(clock, 10, 100));
}
