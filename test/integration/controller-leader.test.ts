/**
 * Lease leader election against a real kube-apiserver: two electors in this process campaign for
 * one Lease. Short timings (lease 3 s, renew deadline 2 s, retry 0.5 s) keep each case to seconds.
 */
import { ApiException, CoordinationV1Api, type V1Lease } from '@kubernetes/client-node';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { LeaderElector, kubeLeaseLock, type LeaseLock } from '../../src/controller/index.js';
import { kubeClient } from '../../src/kube/client.js';
import { kubeConfigFrom } from '../support/kube.js';
import { waitFor } from '../support/wait.js';

const kc = kubeConfigFrom(inject('kubeconfig'));
const leases = kc.makeApiClient(CoordinationV1Api);
const namespace = 'default';
const logger = pino({ level: process.env['SELFHOST_TEST_LOG'] ?? 'silent' });

const TIMINGS = { leaseDurationMs: 3000, renewDeadlineMs: 2000, retryPeriodMs: 500 };
/** Longest pause between a standby's attempts: retryPeriod × (1 + 1.2). */
const MAX_RETRY_WAIT = TIMINGS.retryPeriodMs * 2.2;

let seq = 0;
const freshLease = (): string => `ctl-leader-${Date.now().toString(36)}-${seq++}`;

/** One leadership term, from onStartedLeading to the abort of its signal (wall-clock ms). */
interface Term {
  identity: string;
  start: number;
  end?: number;
}

interface Candidate {
  identity: string;
  elector: LeaderElector;
  registry: Registry;
  stop: AbortController;
  done: Promise<void>;
}

const terms: Term[] = [];
const running: Candidate[] = [];

function campaign(
  identity: string,
  lease: string,
  opts: { releaseOnCancel?: boolean; lock?: LeaseLock } = {},
): Candidate {
  const registry = new Registry();
  const stop = new AbortController();
  const elector = new LeaderElector({
    name: lease,
    identity,
    lock: opts.lock ?? kubeLeaseLock(kubeClient(kc), namespace, lease),
    ...TIMINGS,
    releaseOnCancel: opts.releaseOnCancel ?? true,
    logger,
    registry,
    callbacks: {
      onStartedLeading: (signal) => {
        const term: Term = { identity, start: Date.now() };
        terms.push(term);
        signal.addEventListener('abort', () => (term.end = Date.now()), { once: true });
      },
      onStoppedLeading: () => undefined,
    },
  });
  const candidate = { identity, elector, registry, stop, done: elector.run(stop.signal) };
  running.push(candidate);
  return candidate;
}

async function leaderOf(...candidates: Candidate[]): Promise<Candidate> {
  return waitFor('a leader', async () => candidates.find((c) => c.elector.isLeader()), {
    timeoutMs: 15_000,
    intervalMs: 20,
  });
}

/** Samples isLeader() of every candidate every 10 ms for ms; fails if two ever lead at once. */
async function sampleExclusive(candidates: Candidate[], ms: number): Promise<number> {
  let samples = 0;
  const until = Date.now() + ms;
  while (Date.now() < until) {
    const leading = candidates.filter((c) => c.elector.isLeader()).map((c) => c.identity);
    expect(leading.length, `at ${Date.now()}: ${leading.join(', ')}`).toBeLessThanOrEqual(1);
    samples++;
    await new Promise((r) => setTimeout(r, 10));
  }
  return samples;
}

/** No two terms overlap in time (the callbacks' own view, independent of sampling). */
function expectNoOverlap(): void {
  const sorted = [...terms].sort((a, b) => a.start - b.start);
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1];
    const next = sorted[i];
    if (prev === undefined || next === undefined) continue;
    expect(prev.end, `${prev.identity}'s term was still open when ${next.identity} started`).toBeDefined();
    expect(next.start).toBeGreaterThanOrEqual(prev.end ?? Infinity);
  }
}

async function readLease(name: string): Promise<V1Lease> {
  return leases.readNamespacedLease({ name, namespace });
}

async function status(c: Candidate): Promise<number | undefined> {
  const metric = await c.registry.getSingleMetric('leader_election_master_status')?.get();
  return metric?.values[0]?.value;
}

afterEach(async () => {
  for (const c of running.splice(0)) c.stop.abort();
  terms.length = 0;
});

describe('Lease leader election', () => {
  it('creates the Lease with MicroTime timestamps the apiserver accepts', async () => {
    const lease = freshLease();
    const a = campaign('a', lease);
    await leaderOf(a);
    expect(await status(a)).toBe(1);
    const stored = await readLease(lease);
    expect(stored.spec?.holderIdentity).toBe('a');
    expect(stored.spec?.leaseDurationSeconds).toBe(3);
    expect(stored.spec?.leaseTransitions).toBe(0);
    // Renewed since: renewTime moves, acquireTime stays.
    const first = await readLease(lease);
    await new Promise((r) => setTimeout(r, 1200));
    const later = await readLease(lease);
    expect(String(later.spec?.renewTime)).not.toBe(String(first.spec?.renewTime));
    expect(String(later.spec?.acquireTime)).toBe(String(first.spec?.acquireTime));
    // The wire format is RFC 3339 with exactly six fractional digits.
    expect(String(later.spec?.renewTime)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
  });

  it('a plain Date in a MicroTime field is rejected (why V1MicroTime is needed)', async () => {
    const name = freshLease();
    const body = {
      metadata: { name, namespace },
      spec: { holderIdentity: 'x', renewTime: new Date() },
    } as unknown as V1Lease;
    const err = await leases.createNamespacedLease({ namespace, body }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ApiException);
    expect((err as ApiException<unknown>).code).toBe(400);
  });

  it('exactly one of two electors leads; killing it hands over after about leaseDuration', async () => {
    const lease = freshLease();
    const a = campaign('a', lease, { releaseOnCancel: false });
    const b = campaign('b', lease, { releaseOnCancel: false });
    const leader = await leaderOf(a, b);
    const standby = leader === a ? b : a;
    expect(await sampleExclusive([a, b], 2500)).toBeGreaterThan(100);
    expect(standby.elector.isLeader()).toBe(false);
    expect(await status(standby)).toBe(0);

    // Kill: stop renewing without releasing, as a crashed process would.
    const killedAt = Date.now();
    leader.stop.abort();
    await leader.done;
    await leaderOf(standby);
    const handover = Date.now() - killedAt;
    // The standby restarts its expiry clock whenever it sees a renewal, and polls every
    // retryPeriod × [1, 2.2): so it takes over leaseDuration after the last renewal it saw.
    expect(handover).toBeGreaterThan(TIMINGS.leaseDurationMs - TIMINGS.retryPeriodMs - MAX_RETRY_WAIT);
    // The slack covers the round trips of the standby's update and of the test's 20 ms poll;
    // on a 2-core machine busy with a node tier they took up to 1.1 s (5178 ms seen).
    expect(handover).toBeLessThan(TIMINGS.leaseDurationMs + MAX_RETRY_WAIT + 1500);
    console.log(`killed leader → takeover in ${handover} ms (leaseDuration ${TIMINGS.leaseDurationMs} ms)`);

    const stored = await readLease(lease);
    expect(stored.spec?.holderIdentity).toBe(standby.identity);
    expect(stored.spec?.leaseTransitions).toBe(1);
    expectNoOverlap();
  });

  it('releasing on shutdown hands over within about one retryPeriod', async () => {
    const lease = freshLease();
    const a = campaign('a', lease);
    const first = await leaderOf(a);
    const b = campaign('b', lease);
    await sampleExclusive([a, b], 1500);
    expect(b.elector.getLeader()).toBe('a');

    const releasedAt = Date.now();
    first.stop.abort();
    await first.done;
    const released = await readLease(lease);
    // Released (holder cleared, 1 s) — unless b was already fast enough to take it.
    if (released.spec?.holderIdentity !== 'b') {
      expect(released.spec?.holderIdentity ?? '').toBe('');
      expect(released.spec?.leaseDurationSeconds).toBe(1);
    }
    await leaderOf(b);
    const handover = Date.now() - releasedAt;
    expect(handover).toBeLessThan(MAX_RETRY_WAIT + 1000);
    console.log(`released → takeover in ${handover} ms (retryPeriod ${TIMINGS.retryPeriodMs} ms)`);
    expect((await readLease(lease)).spec?.leaseTransitions).toBe(1);
    expectNoOverlap();
  });

  it('a leader that cannot renew steps down before the standby takes over', async () => {
    const lease = freshLease();
    let partitioned = false;
    const real = kubeLeaseLock(kubeClient(kc), namespace, lease);
    // The leader's writes start failing, as if it were cut off from the apiserver.
    const flaky: LeaseLock = {
      description: real.description,
      get: (s) => (partitioned ? Promise.reject(new Error('partitioned')) : real.get(s)),
      create: (r, s) => real.create(r, s),
      update: (r, v, s) => (partitioned ? Promise.reject(new Error('partitioned')) : real.update(r, v, s)),
    };
    const a = campaign('a', lease, { lock: flaky });
    await leaderOf(a);
    const b = campaign('b', lease);
    await sampleExclusive([a, b], 1000);

    const cutAt = Date.now();
    partitioned = true;
    await a.done; // lost leadership: run() returns
    const steppedDown = Date.now() - cutAt;
    await leaderOf(b);
    const takeover = Date.now() - cutAt;
    expect(steppedDown).toBeLessThanOrEqual(TIMINGS.renewDeadlineMs + 100);
    expect(takeover).toBeGreaterThan(steppedDown);
    console.log(`partitioned leader stepped down after ${steppedDown} ms; standby took over after ${takeover} ms`);
    expectNoOverlap();
  });
});
