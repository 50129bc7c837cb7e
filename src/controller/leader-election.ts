/**
 * Leader election on a Lease with client-go's semantics (k8s.io/client-go/tools/leaderelection):
 *
 * - the lease is free when absent, released (no holder), ours, or expired — and expiry is judged
 *   by LOCAL observation: leaseDurationSeconds after we last saw the record change, never by the
 *   holder's renewTime (clocks differ between machines; durations measured on one clock don't);
 * - every write is optimistic on resourceVersion: a 409 means someone else wrote first;
 * - a takeover increments leaseTransitions;
 * - the leader renews every retryPeriod and steps down when no renewal has succeeded within
 *   renewDeadline of the last successful one. Since leaseDuration > renewDeadline, a leader cut
 *   off from the apiserver stops acting before anyone else can acquire the lease;
 * - on cancel (SIGTERM) the lease is released: holder cleared, duration 1 s, so a standby takes
 *   over within about one retryPeriod instead of a whole leaseDuration.
 *
 * Differences from client-go, both on the safe side: renewDeadline counts from the start of the
 * last successful renewal (client-go restarts it each renew cycle, allowing up to
 * retryPeriod + renewDeadline), and a leader that finds the lease validly held by someone else
 * steps down at once instead of retrying until its deadline.
 */
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { realClock, type Clock, type Timer } from './clock.js';
import type { LeaderElectionRecord, LeaseLock, ObservedLease } from './lease-lock.js';
import { computeStatusCode } from './list-watch.js';
import { ensureGauge } from './metrics.js';

/** client-go's JitterFactor: retries wait retryPeriod plus up to 1.2 × retryPeriod. */
export const JITTER_FACTOR = 1.2;

export interface LeaderCallbacks {
  /**
   * We lead. Start working; stop when signal aborts (leadership lost or shutting down). On a
   * clean shutdown the lease is released only after the returned promise settles (bounded by
   * renewDeadline), so the next leader never overlaps a stopping one.
   */
  onStartedLeading(signal: AbortSignal): void | Promise<void>;
  /** We led and no longer do. */
  onStoppedLeading(): void;
  /** Another (or our own) identity was observed holding the lease. Not called for "nobody". */
  onNewLeader?(identity: string): void;
}

export interface LeaderElectionTimings {
  /** How long a standby waits, from its last observed change, before taking over. Whole seconds. */
  leaseDurationMs: number;
  /** The leader steps down when it could not renew for this long. */
  renewDeadlineMs: number;
  /** Pause between attempts. */
  retryPeriodMs: number;
}

export interface LeaderElectionOptions extends Partial<LeaderElectionTimings> {
  /** Metric label and log name, e.g. the lease name. */
  name: string;
  lock: LeaseLock;
  /** Unique per replica, e.g. pod name + random suffix. */
  identity: string;
  callbacks: LeaderCallbacks;
  /** Release the lease when run()'s signal aborts (default true). */
  releaseOnCancel?: boolean;
  logger: Logger;
  clock?: Clock;
  registry?: Registry;
  random?: () => number;
}

/** client-go's defaults (15 s / 10 s / 2 s). */
export const DEFAULT_TIMINGS: LeaderElectionTimings = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 };

/** Throws unless leaseDuration > renewDeadline > JITTER_FACTOR × retryPeriod, as client-go demands. */
export function assertLeaderElectionTimings(t: LeaderElectionTimings): void {
  const named = `leaseDuration=${t.leaseDurationMs}ms, renewDeadline=${t.renewDeadlineMs}ms, retryPeriod=${t.retryPeriodMs}ms`;
  if (!(t.retryPeriodMs > 0)) throw new Error(`leader election: retryPeriod must be positive (${named})`);
  if (!(t.leaseDurationMs >= 1000) || t.leaseDurationMs % 1000 !== 0) {
    throw new Error(`leader election: leaseDuration must be a whole number of seconds, at least 1 s (${named})`);
  }
  if (!(t.leaseDurationMs > t.renewDeadlineMs)) {
    throw new Error(`leader election: leaseDuration must be greater than renewDeadline (${named})`);
  }
  if (!(t.renewDeadlineMs > JITTER_FACTOR * t.retryPeriodMs)) {
    throw new Error(`leader election: renewDeadline must be greater than retryPeriod × ${JITTER_FACTOR} (${named})`);
  }
}

type Attempt = 'acquired' | 'held' | 'failed';

export class LeaderElector {
  private readonly opts: LeaderElectionOptions;
  private readonly timings: LeaderElectionTimings;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly logger: Logger;
  private readonly status: (leading: boolean) => void;

  private observed: ObservedLease | undefined;
  private observedKey = '';
  /** Local time at which the observed record last changed: the basis of expiry. */
  private observedAt = 0;
  private reportedLeader = '';
  private leading = false;
  private running = false;

  constructor(opts: LeaderElectionOptions) {
    if (opts.identity === '') throw new Error('leader election: identity must not be empty');
    this.timings = {
      leaseDurationMs: opts.leaseDurationMs ?? DEFAULT_TIMINGS.leaseDurationMs,
      renewDeadlineMs: opts.renewDeadlineMs ?? DEFAULT_TIMINGS.renewDeadlineMs,
      retryPeriodMs: opts.retryPeriodMs ?? DEFAULT_TIMINGS.retryPeriodMs,
    };
    assertLeaderElectionTimings(this.timings);
    this.opts = opts;
    this.clock = opts.clock ?? realClock();
    this.random = opts.random ?? Math.random;
    this.logger = opts.logger.child({ lease: opts.lock.description, identity: opts.identity });
    if (opts.registry === undefined) {
      this.status = () => undefined;
    } else {
      const gauge = ensureGauge(opts.registry, {
        name: 'leader_election_master_status',
        help: 'Gauge of if the reporting system is master of the relevant lease, 0 indicates backup, 1 indicates master.',
        labelNames: ['name'] as const,
      });
      this.status = (leading) => gauge.set({ name: opts.name }, leading ? 1 : 0);
    }
    this.status(false);
  }

  /** True while we lead (between onStartedLeading and the abort of its signal). */
  isLeader(): boolean {
    return this.leading;
  }

  /** The holder we last observed ('' if none). */
  getLeader(): string {
    return this.observed?.record.holderIdentity ?? '';
  }

  /**
   * Campaigns until we lead, leads until leadership is lost or signal aborts, then returns. Call
   * again to campaign again (an operator usually exits instead).
   */
  async run(signal: AbortSignal): Promise<void> {
    if (this.running) throw new Error(`leader election ${this.opts.name}: run() is already running`);
    this.running = true;
    try {
      const since = await this.acquire(signal);
      if (since === undefined) return;
      await this.lead(signal, since);
    } finally {
      this.running = false;
    }
  }

  /** Retries until acquired; resolves the start time of the winning attempt, undefined if aborted. */
  private async acquire(signal: AbortSignal): Promise<number | undefined> {
    this.logger.info('attempting to acquire leader lease');
    while (!signal.aborted) {
      const started = this.clock.now();
      const result = await this.attempt(signal, this.timings.renewDeadlineMs);
      this.reportLeader();
      if (result === 'acquired') return started;
      const wait = this.timings.retryPeriodMs * (1 + JITTER_FACTOR * this.random());
      await this.clock.sleep(wait, signal);
    }
    return undefined;
  }

  private async lead(signal: AbortSignal, since: number): Promise<void> {
    this.leading = true;
    this.status(true);
    this.logger.info('became leader');
    const leadership = new AbortController();
    const work = Promise.resolve()
      .then(() => this.opts.callbacks.onStartedLeading(leadership.signal))
      .catch((err: unknown) => this.logger.error({ err }, 'onStartedLeading failed'));
    const ended = await this.renew(signal, since);
    this.leading = false;
    this.status(false);
    leadership.abort();
    if (ended === 'cancelled' && (this.opts.releaseOnCancel ?? true)) {
      await this.within(work, this.timings.renewDeadlineMs);
      await this.release();
    }
    this.logger.info({ reason: ended }, 'stopped leading');
    try {
      this.opts.callbacks.onStoppedLeading();
    } catch (err) {
      this.logger.error({ err }, 'onStoppedLeading failed');
    }
  }

  /** Renews every retryPeriod until a renewal misses renewDeadline, someone else holds the lease, or signal aborts. */
  private async renew(signal: AbortSignal, since: number): Promise<'lost' | 'cancelled'> {
    let lastRenew = since;
    for (;;) {
      await this.clock.sleep(this.timings.retryPeriodMs, signal);
      for (;;) {
        if (signal.aborted) return 'cancelled';
        const started = this.clock.now();
        const remaining = lastRenew + this.timings.renewDeadlineMs - started;
        if (remaining <= 0) {
          this.logger.error({ renewDeadlineMs: this.timings.renewDeadlineMs }, 'failed to renew lease within renewDeadline');
          return 'lost';
        }
        const result = await this.attempt(signal, remaining);
        this.reportLeader();
        if (signal.aborted) return 'cancelled';
        if (result === 'acquired') {
          lastRenew = started;
          break;
        }
        if (result === 'held') {
          this.logger.error({ holder: this.getLeader() }, 'lease is held by another identity');
          return 'lost';
        }
        const deadline = lastRenew + this.timings.renewDeadlineMs;
        await this.clock.sleep(Math.min(this.timings.retryPeriodMs, deadline - this.clock.now()), signal);
      }
    }
  }

  /** One tryAcquireOrRenew, abandoned (as failed) after timeoutMs or when signal aborts. */
  private async attempt(signal: AbortSignal, timeoutMs: number): Promise<Attempt> {
    const bounded = new AbortController();
    const onAbort = (): void => bounded.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    const timer = this.clock.setTimeout(() => bounded.abort(), timeoutMs);
    const abandoned = new Promise<Attempt>((resolve) =>
      bounded.signal.addEventListener('abort', () => resolve('failed'), { once: true }),
    );
    try {
      return await Promise.race([this.tryAcquireOrRenew(bounded.signal), abandoned]);
    } finally {
      timer.cancel();
      signal.removeEventListener('abort', onAbort);
      bounded.abort();
    }
  }

  /** client-go's tryAcquireOrRenew. Results of an abandoned attempt (signal aborted) are ignored. */
  private async tryAcquireOrRenew(signal: AbortSignal): Promise<Attempt> {
    const { lock, identity } = this.opts;
    const now = this.clock.now();
    const fresh: LeaderElectionRecord = {
      holderIdentity: identity,
      leaseDurationSeconds: this.timings.leaseDurationMs / 1000,
      acquireTime: now,
      renewTime: now,
      leaseTransitions: 0,
    };

    // 1. Fast path for the leader: update against the version we last saw, no read.
    const mine = this.observed;
    if (mine !== undefined && mine.record.holderIdentity === identity && this.isLeaseValid(now)) {
      try {
        const written = await lock.update(computeRenewal(fresh, mine.record), mine.resourceVersion, signal);
        return this.observe(written, signal) ? 'acquired' : 'failed';
      } catch (err) {
        if (signal.aborted) return 'failed';
        this.logger.debug({ err }, 'optimistic renewal failed; reading the lease');
      }
    }

    // 2. Read, or create when absent.
    let current: ObservedLease | undefined;
    try {
      current = await lock.get(signal);
    } catch (err) {
      if (!signal.aborted) this.logger.warn({ err }, 'could not read the lease');
      return 'failed';
    }
    if (signal.aborted) return 'failed';
    if (current === undefined) {
      try {
        return this.observe(await lock.create(fresh, signal), signal) ? 'acquired' : 'failed';
      } catch (err) {
        if (!signal.aborted) this.logWriteFailure(err, 'create');
        return 'failed';
      }
    }

    // 3. Held by someone else and not expired by our observation: wait.
    this.observe(current, signal);
    const holder = current.record.holderIdentity;
    if (holder !== '' && holder !== identity && this.isLeaseValid(now)) return 'held';

    // 4. Free, expired or ours: write ourselves in, on top of the version we just read.
    const record = holder === identity ? computeRenewal(fresh, current.record) : computeTakeover(fresh, current.record);
    try {
      return this.observe(await lock.update(record, current.resourceVersion, signal), signal) ? 'acquired' : 'failed';
    } catch (err) {
      if (!signal.aborted) this.logWriteFailure(err, 'update');
      return 'failed';
    }
  }

  /** Gives the lease up so a standby takes over at once: no holder, 1 s duration. */
  private async release(): Promise<void> {
    const mine = this.observed;
    if (mine === undefined || mine.record.holderIdentity !== this.opts.identity) return;
    const now = this.clock.now();
    const released: LeaderElectionRecord = {
      holderIdentity: '',
      leaseDurationSeconds: 1,
      acquireTime: now,
      renewTime: now,
      leaseTransitions: mine.record.leaseTransitions,
    };
    const bounded = new AbortController();
    const timer: Timer = this.clock.setTimeout(() => bounded.abort(), this.timings.renewDeadlineMs);
    try {
      const write = this.opts.lock.update(released, mine.resourceVersion, bounded.signal);
      const written = await this.within(write, this.timings.renewDeadlineMs);
      if (written === undefined) throw new Error(`no answer within ${this.timings.renewDeadlineMs} ms`);
      this.observe(written, bounded.signal);
      this.logger.info('released the lease');
    } catch (err) {
      this.logger.warn({ err }, 'could not release the lease; a standby takes over when it expires');
    } finally {
      timer.cancel();
    }
  }

  /** Records what we saw; the expiry clock restarts only when the record itself changed. */
  private observe(seen: ObservedLease, signal: AbortSignal): boolean {
    if (signal.aborted) return false;
    const key = computeRecordKey(seen.record);
    if (key !== this.observedKey) {
      this.observedKey = key;
      this.observedAt = this.clock.now();
    }
    this.observed = seen;
    return true;
  }

  private isLeaseValid(now: number): boolean {
    return this.observed !== undefined && this.observedAt + this.observed.record.leaseDurationSeconds * 1000 > now;
  }

  private reportLeader(): void {
    const holder = this.getLeader();
    if (holder === this.reportedLeader) return;
    this.reportedLeader = holder;
    if (holder === '') return;
    this.logger.info({ leader: holder }, 'new leader observed');
    try {
      this.opts.callbacks.onNewLeader?.(holder);
    } catch (err) {
      this.logger.error({ err }, 'onNewLeader failed');
    }
  }

  private logWriteFailure(err: unknown, verb: 'create' | 'update'): void {
    if (computeStatusCode(err) === 409) this.logger.debug({ verb }, 'another replica wrote the lease first (409)');
    else this.logger.warn({ err, verb }, 'could not write the lease');
  }

  /** Waits for p at most ms; undefined when it took longer (a rejection of p propagates). */
  private async within<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
    let timer: Timer | undefined;
    const timeout = new Promise<undefined>((resolve) => (timer = this.clock.setTimeout(() => resolve(undefined), ms)));
    try {
      return await Promise.race([p, timeout]);
    } finally {
      timer?.cancel();
    }
  }
}

/** Our renewal keeps the acquire time and transition count. */
function computeRenewal(fresh: LeaderElectionRecord, current: LeaderElectionRecord): LeaderElectionRecord {
  const renewal: LeaderElectionRecord = {
    holderIdentity: fresh.holderIdentity,
    leaseDurationSeconds: fresh.leaseDurationSeconds,
    leaseTransitions: current.leaseTransitions,
  };
  if (current.acquireTime !== undefined) renewal.acquireTime = current.acquireTime;
  if (fresh.renewTime !== undefined) renewal.renewTime = fresh.renewTime;
  return renewal;
}

/** Taking the lease from someone else (or from nobody) is one more transition. */
function computeTakeover(fresh: LeaderElectionRecord, current: LeaderElectionRecord): LeaderElectionRecord {
  return { ...fresh, leaseTransitions: current.leaseTransitions + 1 };
}

/** Identity of a record's content (client-go compares the raw record bytes). */
function computeRecordKey(r: LeaderElectionRecord): string {
  return JSON.stringify([r.holderIdentity, r.leaseDurationSeconds, r.acquireTime, r.renewTime, r.leaseTransitions]);
}
