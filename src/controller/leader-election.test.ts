import fc from 'fast-check';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { FakeClock, flushMicrotasks } from './fake-clock.js';
import {
  LeaderElector,
  assertLeaderElectionTimings,
  type LeaderCallbacks,
  type LeaderElectionOptions,
} from './leader-election.js';
import type { LeaderElectionRecord, LeaseLock, ObservedLease } from './lease-lock.js';
import { jsonLinesDestination } from '../testing/log-lines.js';

const conflict = (): Error => Object.assign(new Error('Operation cannot be fulfilled: the object has been modified'), { code: 409 });

/** One Lease in memory, with resourceVersions, and knobs to break it per caller. */
class FakeStore {
  record: LeaderElectionRecord | undefined;
  rv = 0;
  gets = 0;
  writes = 0;
  /** Runs right before a write is applied (to simulate a racing writer). */
  beforeWrite: (() => void) | undefined;

  set(record: LeaderElectionRecord): void {
    this.record = { ...record };
    this.rv++;
  }

  private observed(): ObservedLease | undefined {
    return this.record ? { record: { ...this.record }, resourceVersion: String(this.rv) } : undefined;
  }

  /** A lock for one client; `broken` makes that client's calls fail, `hang` never answer. */
  lock(conn: { broken?: boolean; hang?: boolean; readOnly?: boolean } = {}): LeaseLock {
    const call = async <T>(fn: () => T, write = false): Promise<T> => {
      await Promise.resolve();
      if (conn.hang) return new Promise<T>(() => undefined);
      if (conn.broken) throw new Error('connection refused');
      if (write && conn.readOnly) throw Object.assign(new Error('leases is forbidden'), { code: 403 });
      return fn();
    };
    return {
      description: 'ns/lease',
      get: () =>
        call(() => {
          this.gets++;
          return this.observed();
        }),
      create: (record) =>
        call(() => {
          this.beforeWrite?.();
          if (this.record) throw conflict();
          this.writes++;
          this.set(record);
          return this.observed() as ObservedLease;
        }, true),
      update: (record, rv) =>
        call(() => {
          this.beforeWrite?.();
          if (String(this.rv) !== rv) throw conflict();
          this.writes++;
          this.set(record);
          return this.observed() as ObservedLease;
        }, true),
    };
  }
}

interface Harness {
  elector: LeaderElector;
  events: string[];
  stop: AbortController;
  done: Promise<void>;
  leading: AbortSignal | undefined;
  registry: Registry;
  lines: Record<string, unknown>[];
}

function elect(
  clock: FakeClock,
  lock: LeaseLock,
  opts: Partial<LeaderElectionOptions> & { identity?: string; started?: (signal: AbortSignal) => void | Promise<void> } = {},
): Harness {
  const events: string[] = [];
  const lines: Record<string, unknown>[] = [];
  const registry = new Registry();
  const h: Partial<Harness> = { events, lines, registry, leading: undefined };
  const callbacks: LeaderCallbacks = {
    onStartedLeading: (signal) => {
      events.push(`started@${clock.now()}`);
      h.leading = signal;
      signal.addEventListener('abort', () => events.push(`signal@${clock.now()}`));
      return opts.started?.(signal);
    },
    onStoppedLeading: () => events.push(`stopped@${clock.now()}`),
    onNewLeader: (id) => events.push(`leader=${id}@${clock.now()}`),
  };
  const elector = new LeaderElector({
    name: 'selfhost',
    identity: opts.identity ?? 'me',
    lock,
    clock,
    random: () => 0,
    registry,
    logger: pino({ level: 'debug' }, jsonLinesDestination(lines)),
    callbacks,
    ...opts,
  });
  const stop = new AbortController();
  return Object.assign(h, { elector, stop, done: elector.run(stop.signal) }) as Harness;
}

async function master(registry: Registry): Promise<number | undefined> {
  return (await registry.getSingleMetric('leader_election_master_status')?.get())?.values[0]?.value;
}

const other = (renewTime: number, transitions = 3): LeaderElectionRecord => ({
  holderIdentity: 'other',
  leaseDurationSeconds: 15,
  acquireTime: 0,
  renewTime,
  leaseTransitions: transitions,
});

describe('assertLeaderElectionTimings', () => {
  it.each([
    [{ leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2000 }, undefined],
    [{ leaseDurationMs: 3000, renewDeadlineMs: 2000, retryPeriodMs: 500 }, undefined],
    [{ leaseDurationMs: 10_000, renewDeadlineMs: 10_000, retryPeriodMs: 2000 }, /leaseDuration must be greater than renewDeadline \(leaseDuration=10000ms, renewDeadline=10000ms, retryPeriod=2000ms\)/],
    [{ leaseDurationMs: 15_000, renewDeadlineMs: 2400, retryPeriodMs: 2000 }, /renewDeadline must be greater than retryPeriod × 1.2 \(leaseDuration=15000ms, renewDeadline=2400ms, retryPeriod=2000ms\)/],
    [{ leaseDurationMs: 15_500, renewDeadlineMs: 10_000, retryPeriodMs: 2000 }, /whole number of seconds/],
    [{ leaseDurationMs: 0, renewDeadlineMs: -1, retryPeriodMs: 1 }, /whole number of seconds/],
    [{ leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 0 }, /retryPeriod must be positive/],
  ])('%j', (timings, error) => {
    if (error === undefined) expect(() => assertLeaderElectionTimings(timings)).not.toThrow();
    else expect(() => assertLeaderElectionTimings(timings)).toThrow(error);
  });

  it('the constructor validates, and wants an identity', () => {
    const clock = new FakeClock();
    const lock = new FakeStore().lock();
    const base = { name: 'x', lock, clock, logger: pino({ level: 'silent' }), callbacks: { onStartedLeading: () => undefined, onStoppedLeading: () => undefined } };
    expect(() => new LeaderElector({ ...base, identity: 'a', renewDeadlineMs: 20_000 })).toThrow(/greater than renewDeadline/);
    expect(() => new LeaderElector({ ...base, identity: '' })).toThrow(/identity/);
  });
});

describe('LeaderElector: acquiring', () => {
  it('absent lease → creates it and leads at once', async () => {
    const clock = new FakeClock(1_000_000);
    const store = new FakeStore();
    const h = elect(clock, store.lock());
    await flushMicrotasks();
    expect(h.elector.isLeader()).toBe(true);
    expect(h.events).toEqual(['leader=me@1000000', 'started@1000000']);
    expect(store.record).toEqual({ holderIdentity: 'me', leaseDurationSeconds: 15, acquireTime: 1_000_000, renewTime: 1_000_000, leaseTransitions: 0 });
    expect(await master(h.registry)).toBe(1);
    expect(h.leading?.aborted).toBe(false);
    h.stop.abort();
    await h.done;
  });

  it('renews every retryPeriod without re-reading the lease (fast path), keeping acquireTime', async () => {
    const clock = new FakeClock(0);
    const store = new FakeStore();
    const h = elect(clock, store.lock());
    await flushMicrotasks();
    const gets = store.gets;
    await clock.advance(6000);
    expect(store.writes).toBe(4); // create + 3 renewals
    expect(store.gets).toBe(gets);
    expect(store.record?.renewTime).toBe(6000);
    expect(store.record?.acquireTime).toBe(0);
    h.stop.abort();
    await h.done;
  });

  it('held and renewed by another → waits, however long', async () => {
    const clock = new FakeClock(0);
    const store = new FakeStore();
    store.set(other(0));
    const h = elect(clock, store.lock());
    for (let t = 0; t < 60; t++) {
      await clock.advance(1000);
      if (t % 5 === 0) store.set(other(clock.now())); // the holder renews every 5 s
    }
    expect(h.elector.isLeader()).toBe(false);
    expect(h.elector.getLeader()).toBe('other');
    expect(h.events).toEqual(['leader=other@0']);
    expect(await master(h.registry)).toBe(0);
    h.stop.abort();
    await h.done;
    expect(h.events).toEqual(['leader=other@0']); // never led: no onStoppedLeading
  });

  it.each([
    ['long ago', -1_000_000],
    ['in the future (skewed clock)', 1_000_000],
  ])('held but not renewed, renewTime %s → takes over leaseDuration after first seeing it, transitions + 1', async (_what, renewTime) => {
    const clock = new FakeClock(0);
    const store = new FakeStore();
    store.set(other(renewTime));
    const h = elect(clock, store.lock());
    await clock.advance(14_999);
    expect(h.elector.isLeader()).toBe(false);
    await clock.advance(2001); // next retry after expiry
    expect(h.elector.isLeader()).toBe(true);
    expect(h.events).toEqual(['leader=other@0', 'leader=me@16000', 'started@16000']);
    expect(store.record).toMatchObject({ holderIdentity: 'me', leaseTransitions: 4, acquireTime: 16_000 });
    h.stop.abort();
    await h.done;
  });

  it('released (no holder) → takes over at once, transitions + 1', async () => {
    const clock = new FakeClock(0);
    const store = new FakeStore();
    store.set({ holderIdentity: '', leaseDurationSeconds: 1, leaseTransitions: 5 });
    const h = elect(clock, store.lock());
    await flushMicrotasks();
    expect(h.elector.isLeader()).toBe(true);
    expect(store.record?.leaseTransitions).toBe(6);
    h.stop.abort();
    await h.done;
  });

  it('ours already (restarted with the same identity) → leads at once, no transition', async () => {
    const clock = new FakeClock(50_000);
    const store = new FakeStore();
    store.set({ holderIdentity: 'me', leaseDurationSeconds: 15, acquireTime: 40_000, renewTime: 45_000, leaseTransitions: 2 });
    const h = elect(clock, store.lock());
    await flushMicrotasks();
    expect(h.elector.isLeader()).toBe(true);
    expect(store.record).toMatchObject({ leaseTransitions: 2, acquireTime: 40_000, renewTime: 50_000 });
    h.stop.abort();
    await h.done;
  });

  it('a 409 on the takeover write (someone else won) → not leader, and waits for the winner', async () => {
    const clock = new FakeClock(0);
    const store = new FakeStore();
    store.set(other(0));
    const h = elect(clock, store.lock());
    await clock.advance(14_000);
    store.beforeWrite = () => {
      store.beforeWrite = undefined;
      store.set({ ...other(clock.now()), holderIdentity: 'rival' }); // lands between our read and our write
    };
    await clock.advance(4000);
    expect(h.elector.isLeader()).toBe(false);
    expect(h.lines.some((l) => l['msg'] === 'another replica wrote the lease first (409)')).toBe(true);
    await clock.advance(10_000);
    expect(h.elector.isLeader()).toBe(false);
    expect(h.elector.getLeader()).toBe('rival');
    h.stop.abort();
    await h.done;
  });

  it('a 409 on create (lost the race to create) → not leader', async () => {
    const clock = new FakeClock(0);
    const store = new FakeStore();
    store.beforeWrite = () => {
      store.beforeWrite = undefined;
      store.set(other(0));
    };
    const h = elect(clock, store.lock());
    await clock.advance(2000);
    expect(h.elector.isLeader()).toBe(false);
    expect(h.elector.getLeader()).toBe('other');
    h.stop.abort();
    await h.done;
  });

  it('keeps trying while the lease cannot be read, and stops trying when aborted', async () => {
    const clock = new FakeClock(0);
    const store = new FakeStore();
    const h = elect(clock, store.lock({ broken: true }));
    await clock.advance(10_000);
    expect(h.lines.filter((l) => l['msg'] === 'could not read the lease')).toHaveLength(6); // at 0, 2, … 10 s
    h.stop.abort();
    await h.done;
    expect(h.events).toEqual([]);
    await expect(h.elector.run(h.stop.signal)).resolves.toBeUndefined();
  });

  it('a write refused for another reason (403) is logged as a warning, and retried', async () => {
    const clock = new FakeClock(0);
    const store = new FakeStore();
    const h = elect(clock, store.lock({ readOnly: true }));
    await clock.advance(4000);
    expect(h.elector.isLeader()).toBe(false);
    const warnings = h.lines.filter((l) => l['msg'] === 'could not write the lease');
    expect(warnings).toHaveLength(3);
    expect(warnings[0]).toMatchObject({ verb: 'create', err: { message: 'leases is forbidden' } });
    h.stop.abort();
    await h.done;
  });

  it('run() twice at once is refused', async () => {
    const clock = new FakeClock(0);
    const h = elect(clock, new FakeStore().lock());
    await expect(h.elector.run(new AbortController().signal)).rejects.toThrow(/already running/);
    h.stop.abort();
    await h.done;
  });
});

describe('LeaderElector: losing and releasing', () => {
  it('steps down when no renewal succeeded within renewDeadline of the last one', async () => {
    const clock = new FakeClock(0);
    const store = new FakeStore();
    const conn = { broken: false };
    const h = elect(clock, store.lock(conn));
    await clock.advance(3000); // renewed at 2000
    conn.broken = true;
    await clock.advance(8999);
    expect(h.elector.isLeader()).toBe(true);
    await clock.advance(1);
    await h.done;
    expect(h.events).toEqual(['leader=me@0', 'started@0', 'signal@12000', 'stopped@12000']);
    expect(await master(h.registry)).toBe(0);
    expect(store.record?.holderIdentity).toBe('me'); // cut off: could not release
  });

  it('a renewal that never answers is abandoned at the deadline', async () => {
    const clock = new FakeClock(0);
    const store = new FakeStore();
    const conn = { hang: false };
    const h = elect(clock, store.lock(conn));
    await clock.advance(2500);
    conn.hang = true;
    await clock.advance(9499);
    expect(h.elector.isLeader()).toBe(true);
    await clock.advance(1);
    await h.done;
    expect(h.events.at(-1)).toBe('stopped@12000');
  });

  it('finding the lease validly held by someone else → steps down at once', async () => {
    const clock = new FakeClock(0);
    const store = new FakeStore();
    const h = elect(clock, store.lock());
    await clock.advance(1000);
    store.set({ ...other(clock.now()), holderIdentity: 'usurper' });
    await clock.advance(1000);
    await h.done;
    expect(h.events).toEqual(['leader=me@0', 'started@0', 'leader=usurper@2000', 'signal@2000', 'stopped@2000']);
  });

  it('on shutdown releases the lease: no holder, 1 s, same transitions — then onStoppedLeading', async () => {
    const clock = new FakeClock(0);
    const store = new FakeStore();
    store.set({ holderIdentity: '', leaseDurationSeconds: 1, leaseTransitions: 7 });
    const h = elect(clock, store.lock());
    await clock.advance(5000);
    h.stop.abort();
    await h.done;
    expect(store.record).toEqual({ holderIdentity: '', leaseDurationSeconds: 1, acquireTime: 5000, renewTime: 5000, leaseTransitions: 8 });
    expect(h.events.slice(-2)).toEqual(['signal@5000', 'stopped@5000']);
    expect(h.lines.some((l) => l['msg'] === 'released the lease')).toBe(true);
  });

  it('releaseOnCancel: false leaves the lease to expire', async () => {
    const clock = new FakeClock(0);
    const store = new FakeStore();
    const h = elect(clock, store.lock(), { releaseOnCancel: false });
    await clock.advance(1000);
    h.stop.abort();
    await h.done;
    expect(store.record?.holderIdentity).toBe('me');
  });

  it('waits for onStartedLeading to wind down (up to renewDeadline) before releasing', async () => {
    const clock = new FakeClock(0);
    const store = new FakeStore();
    const h = elect(clock, store.lock(), {
      started: (signal) =>
        new Promise<void>((resolve) => signal.addEventListener('abort', () => clock.setTimeout(resolve, 3000))),
    });
    await clock.advance(1000);
    h.stop.abort();
    await clock.advance(2999);
    expect(store.record?.holderIdentity).toBe('me');
    await clock.advance(1);
    await h.done;
    expect(store.record?.holderIdentity).toBe('');

    const stuck = elect(clock, new FakeStore().lock(), { started: () => new Promise<void>(() => undefined) });
    await clock.advance(1000);
    stuck.stop.abort();
    await clock.advance(10_000);
    await stuck.done;
    expect(stuck.events.at(-1)).toBe(`stopped@${clock.now()}`);
  });

  it('a release that fails is logged and leadership still ends', async () => {
    const clock = new FakeClock(0);
    const store = new FakeStore();
    const conn = { broken: false, hang: false };
    const h = elect(clock, store.lock(conn));
    await clock.advance(1000);
    conn.broken = true;
    h.stop.abort();
    await h.done;
    expect(h.lines.some((l) => l['msg'] === 'could not release the lease; a standby takes over when it expires')).toBe(true);
    expect(h.events.at(-1)).toBe('stopped@1000');

    const slow = new FakeStore();
    const slowConn = { hang: false };
    const s = elect(clock, slow.lock(slowConn));
    await clock.advance(1000);
    slowConn.hang = true;
    s.stop.abort();
    await clock.advance(10_000);
    await s.done;
    expect(s.lines.some((l) => l['msg'] === 'could not release the lease; a standby takes over when it expires')).toBe(true);
  });

  it('callbacks that throw are logged, not fatal', async () => {
    const clock = new FakeClock(0);
    const store = new FakeStore();
    const lines: Record<string, unknown>[] = [];
    const elector = new LeaderElector({
      name: 'x',
      identity: 'me',
      lock: store.lock(),
      clock,
      logger: pino({ level: 'error' }, jsonLinesDestination(lines)),
      callbacks: {
        onStartedLeading: () => Promise.reject(new Error('controller crashed')),
        onStoppedLeading: () => {
          throw new Error('stop failed');
        },
        onNewLeader: () => {
          throw new Error('observer failed');
        },
      },
    });
    const stop = new AbortController();
    const done = elector.run(stop.signal);
    await clock.advance(1000);
    expect(elector.isLeader()).toBe(true);
    stop.abort();
    await done;
    expect(lines.map((l) => l['msg'])).toEqual(['onNewLeader failed', 'onStartedLeading failed', 'onStoppedLeading failed']);
  });
});

/**
 * Three replicas share one Lease and one clock. At random, replicas are cut off from the
 * apiserver (their calls fail or hang) and healed, and time passes. Whatever happens, no two ever
 * lead at the same time; and once everyone is healed, someone leads within a lease period.
 */
describe('LeaderElector properties', () => {
  type Step = { kind: 'cut'; who: number; hang: boolean } | { kind: 'heal'; who: number } | { kind: 'wait'; ms: number };
  const stepArb: fc.Arbitrary<Step> = fc.oneof(
    fc.record({ kind: fc.constant('cut' as const), who: fc.integer({ min: 0, max: 2 }), hang: fc.boolean() }),
    fc.record({ kind: fc.constant('heal' as const), who: fc.integer({ min: 0, max: 2 }) }),
    fc.record({ kind: fc.constant('wait' as const), ms: fc.integer({ min: 100, max: 20_000 }) }),
  );

  it('never two leaders; a leader again once the partitions heal', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(stepArb, { maxLength: 25 }), fc.array(fc.double({ min: 0, max: 0.999, noNaN: true }), { minLength: 1, maxLength: 8 }), async (steps, randoms) => {
        const clock = new FakeClock(0);
        const store = new FakeStore();
        const conns = [0, 1, 2].map(() => ({ broken: false, hang: false }));
        const leadingNow = new Set<number>();
        const violations: string[] = [];
        let r = 0;
        const stops = conns.map((conn, i) => {
          const stop = new AbortController();
          const elector = new LeaderElector({
            name: 'p',
            identity: `r${i}`,
            lock: store.lock(conn),
            clock,
            random: () => randoms[r++ % randoms.length] ?? 0,
            logger: pino({ level: 'silent' }),
            callbacks: {
              onStartedLeading: (signal) => {
                if (leadingNow.size > 0) violations.push(`r${i} started at ${clock.now()} while ${[...leadingNow]} led`);
                leadingNow.add(i);
                signal.addEventListener('abort', () => leadingNow.delete(i));
              },
              onStoppedLeading: () => undefined,
            },
          });
          // An operator restarts its campaign after losing; so does this one.
          const loop = async (): Promise<void> => {
            while (!stop.signal.aborted) await elector.run(stop.signal);
          };
          void loop();
          return stop;
        });
        for (const step of steps) {
          if (step.kind === 'wait') await clock.advance(step.ms);
          else {
            const conn = conns[step.who];
            if (!conn) continue;
            if (step.kind === 'cut') {
              conn.broken = !step.hang;
              conn.hang = step.hang;
            } else {
              conn.broken = false;
              conn.hang = false;
            }
          }
          expect(violations).toEqual([]);
        }
        for (const conn of conns) Object.assign(conn, { broken: false, hang: false });
        // Healed: within leaseDuration + renewDeadline + a retry someone leads.
        await clock.advance(15_000 + 10_000 + 4400);
        expect(violations).toEqual([]);
        expect(leadingNow.size).toBe(1);
        for (const stop of stops) stop.abort();
        await clock.advance(20_000);
      }),
      { numRuns: 150 },
    );
  });
});
