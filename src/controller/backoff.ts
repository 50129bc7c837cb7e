/** Exponential backoff with jitter, for restarting things that failed (informers, watches). */

export interface BackoffOptions {
  /** Delay after the first failure. */
  initialMs: number;
  /** Cap on the un-jittered delay. */
  maxMs: number;
  /** Growth per consecutive failure (default 2). */
  factor?: number;
  /**
   * Up to this fraction of the delay is added at random (default 0.5), so replicas that failed
   * together (an apiserver restart) do not all come back in the same instant.
   */
  jitter?: number;
}

/** The un-jittered delay after `failures` consecutive failures (0 failures: no delay). */
export function computeBackoffDelay(failures: number, opts: BackoffOptions): number {
  if (failures <= 0) return 0;
  const delay = opts.initialMs * Math.pow(opts.factor ?? 2, failures - 1);
  return Number.isFinite(delay) ? Math.min(delay, opts.maxMs) : opts.maxMs;
}

/** client-go's wait.Jitter: delay plus up to jitter × delay, random in [0, 1). */
export function computeJittered(delay: number, jitter: number, random: () => number): number {
  return jitter > 0 ? delay + delay * jitter * random() : delay;
}

/** Counts consecutive failures; next() is the delay to wait before the next attempt. */
export class Backoff {
  private failures = 0;

  constructor(
    private readonly opts: BackoffOptions,
    private readonly random: () => number = Math.random,
  ) {}

  /** Records a failure and returns how long to wait before retrying. */
  fail(): number {
    this.failures++;
    return computeJittered(computeBackoffDelay(this.failures, this.opts), this.opts.jitter ?? 0.5, this.random);
  }

  /** Consecutive failures so far. */
  get count(): number {
    return this.failures;
  }

  reset(): void {
    this.failures = 0;
  }
}
