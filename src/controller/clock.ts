/**
 * Time, injected. Everything in the controller core that waits or measures goes through a Clock so
 * tests drive it with {@link FakeClock} instead of sleeping.
 */

/** A scheduled callback; cancel() is idempotent and harmless after the callback ran. */
export interface Timer {
  cancel(): void;
}

export interface Clock {
  /** Milliseconds since the epoch. Never goes backwards (see realClock). */
  now(): number;
  /** Runs fn once after ms milliseconds (ms <= 0: on the next turn). */
  setTimeout(fn: () => void, ms: number): Timer;
  /** Resolves after ms milliseconds, or as soon as signal aborts (it never rejects). */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/**
 * Sleep built from setTimeout, shared by the real and the fake clock so both honour aborts the
 * same way. Resolving (not rejecting) on abort keeps loops simple: they re-check their signal.
 */
export function sleepWith(clock: Pick<Clock, 'setTimeout'>, ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const onAbort = (): void => {
      timer.cancel();
      resolve();
    };
    const timer = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * The process clock. now() is monotonic (performance.now anchored at the wall-clock time the
 * process started): lease expiry and durations must not jump when NTP steps the wall clock, and a
 * few milliseconds of drift in timestamps written to the API harm nobody.
 */
export function realClock(): Clock {
  const clock: Clock = {
    now: () => Math.floor(performance.timeOrigin + performance.now()),
    setTimeout: (fn, ms) => {
      const handle = globalThis.setTimeout(fn, Math.max(0, ms));
      return { cancel: () => globalThis.clearTimeout(handle) };
    },
    sleep: (ms, signal) => sleepWith(clock, ms, signal),
  };
  return clock;
}
