import { describe, expect, it } from 'vitest';
import { KubeError, type JsonObject } from '../kube/client.js';
import { computeLeaseSpec, computeMicroTime, computeObservedLease, kubeLeaseLock, type LeaseClient } from './lease-lock.js';
import { computeStatusCode } from './list-watch.js';

const COLLECTION = '/apis/coordination.k8s.io/v1/namespaces/ns/leases';

/** The three Lease calls over an in-memory object, stored as wire JSON like the apiserver does. */
function fakeClient() {
  const state: { lease: JsonObject | undefined; rv: number; calls: { verb: string; path: string; signal: AbortSignal | undefined }[]; failWith: unknown } = {
    lease: undefined,
    rv: 1,
    calls: [],
    failWith: undefined,
  };
  const meta = (o: JsonObject | undefined): JsonObject => (o?.['metadata'] ?? {}) as JsonObject;
  const wire = (body: JsonObject): JsonObject => {
    const stored = JSON.parse(JSON.stringify(body)) as JsonObject;
    stored['metadata'] = { ...meta(stored), resourceVersion: String(++state.rv) };
    return stored;
  };
  const client: LeaseClient = {
    get: async (path, signal) => {
      state.calls.push({ verb: 'get', path, signal });
      if (state.failWith !== undefined) throw state.failWith;
      return state.lease === undefined ? undefined : structuredClone(state.lease);
    },
    create: async (path, body, signal) => {
      state.calls.push({ verb: 'create', path, signal });
      if (state.lease) throw new KubeError(409, 'AlreadyExists', 'exists');
      state.lease = wire(body);
      return structuredClone(state.lease);
    },
    replace: async (path, body, signal) => {
      state.calls.push({ verb: 'replace', path, signal });
      if (meta(body)['resourceVersion'] !== meta(state.lease)['resourceVersion']) throw new KubeError(409, 'Conflict', 'conflict');
      state.lease = wire(body);
      return structuredClone(state.lease);
    },
  };
  return { client, state };
}

const record = { holderIdentity: 'me', leaseDurationSeconds: 15, acquireTime: 1_900_000_000_123, renewTime: 1_900_000_005_456, leaseTransitions: 2 };

describe('computeMicroTime', () => {
  it('is RFC 3339 with six fractional digits (the apiserver rejects three for MicroTime)', () => {
    expect(computeMicroTime(1_900_000_000_123)).toBe('2030-03-17T17:46:40.123000Z');
    expect(computeMicroTime(0)).toBe('1970-01-01T00:00:00.000000Z');
  });
});

describe('computeLeaseSpec', () => {
  it('writes MicroTime fields with six fractional digits', () => {
    expect(computeLeaseSpec(record)).toEqual({
      holderIdentity: 'me',
      leaseDurationSeconds: 15,
      leaseTransitions: 2,
      acquireTime: '2030-03-17T17:46:40.123000Z',
      renewTime: '2030-03-17T17:46:45.456000Z',
    });
  });

  it('leaves absent times out', () => {
    expect(computeLeaseSpec({ holderIdentity: '', leaseDurationSeconds: 1, leaseTransitions: 0 })).toEqual({
      holderIdentity: '',
      leaseDurationSeconds: 1,
      leaseTransitions: 0,
    });
  });
});

describe('computeObservedLease', () => {
  it('reads the wire JSON; absent or unparsable fields read as empty', () => {
    expect(
      computeObservedLease({
        metadata: { resourceVersion: '7' },
        spec: { holderIdentity: 'x', leaseDurationSeconds: 10, leaseTransitions: 1, renewTime: '2030-03-17T17:46:45.456789Z' },
      }),
    ).toEqual({
      resourceVersion: '7',
      record: { holderIdentity: 'x', leaseDurationSeconds: 10, leaseTransitions: 1, renewTime: 1_900_000_005_456 },
    });
    expect(computeObservedLease({ spec: { acquireTime: '1970-01-01T00:00:00.005000Z', renewTime: 'garbage', leaseDurationSeconds: '10' } })).toEqual({
      resourceVersion: '',
      record: { holderIdentity: '', leaseDurationSeconds: 0, leaseTransitions: 0, acquireTime: 5 },
    });
    expect(computeObservedLease({})).toEqual({ resourceVersion: '', record: { holderIdentity: '', leaseDurationSeconds: 0, leaseTransitions: 0 } });
  });

  it('round-trips computeLeaseSpec', () => {
    expect(computeObservedLease({ metadata: { resourceVersion: '3' }, spec: computeLeaseSpec(record) })).toEqual({ resourceVersion: '3', record });
  });
});

describe('kubeLeaseLock', () => {
  it('get() is undefined for an absent Lease; create() then get() round-trips the record', async () => {
    const { client, state } = fakeClient();
    const lock = kubeLeaseLock(client, 'ns', 'selfhost');
    expect(lock.description).toBe('ns/selfhost');
    const signal = new AbortController().signal;
    expect(await lock.get(signal)).toBeUndefined();
    const created = await lock.create(record, signal);
    expect(created).toEqual({ resourceVersion: '2', record });
    expect(await lock.get(signal)).toEqual(created);
    expect(state.calls.map((c) => `${c.verb} ${c.path}`)).toEqual([
      `get ${COLLECTION}/selfhost`,
      `create ${COLLECTION}`,
      `get ${COLLECTION}/selfhost`,
    ]);
    expect(state.lease).toMatchObject({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'selfhost', namespace: 'ns' } });
  });

  it('update() is optimistic on resourceVersion and keeps what it does not own', async () => {
    const { client, state } = fakeClient();
    const lock = kubeLeaseLock(client, 'ns', 'l');
    const signal = new AbortController().signal;
    await lock.create(record, signal);
    state.lease = {
      ...state.lease,
      metadata: { ...(state.lease?.['metadata'] as JsonObject), labels: { team: 'x' } },
      spec: { ...(state.lease?.['spec'] as JsonObject), strategy: 'OldestEmulationVersion' },
    };
    const seen = await lock.get(signal);
    const updated = await lock.update({ ...record, renewTime: record.renewTime + 2000 }, seen?.resourceVersion ?? '', signal);
    expect(updated.record.renewTime).toBe(record.renewTime + 2000);
    expect(state.lease).toMatchObject({ metadata: { labels: { team: 'x' } }, spec: { strategy: 'OldestEmulationVersion' } });
    const stale = await lock.update(record, '2', signal).catch((e: unknown) => e);
    expect(stale).toBeInstanceOf(Error);
    expect((stale as Error).message).toContain('updating Lease ns/l at resourceVersion 2');
    expect(computeStatusCode(stale)).toBe(409);
    const dup = await lock.create(record, signal).catch((e: unknown) => e);
    expect(computeStatusCode(dup)).toBe(409);
  });

  it('wraps read errors with context, keeping the status code', async () => {
    const { client, state } = fakeClient();
    state.failWith = new KubeError(403, 'Forbidden', 'forbidden');
    const err = await kubeLeaseLock(client, 'ns', 'l')
      .get(new AbortController().signal)
      .catch((e: unknown) => e);
    expect((err as Error).message).toBe('reading Lease ns/l');
    expect(computeStatusCode(err)).toBe(403);
  });

  it('passes the abort signal to every request', async () => {
    const { client, state } = fakeClient();
    const ac = new AbortController();
    const lock = kubeLeaseLock(client, 'ns', 'l');
    await lock.get(ac.signal);
    const created = await lock.create(record, ac.signal);
    await lock.update(record, created.resourceVersion, ac.signal);
    expect(state.calls.map((c) => c.signal)).toEqual([ac.signal, ac.signal, ac.signal]);
  });
});
