import {
  ApiException,
  HttpMethod,
  RequestContext,
  ResponseContext,
  V1MicroTime,
  type V1Lease,
} from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { computeLeaseSpec, computeObservedLease, kubeLeaseLock, type LeaseApi } from './lease-lock.js';
import { computeStatusCode } from './list-watch.js';

type Options = Parameters<LeaseApi['readNamespacedLease']>[1];

/** The three Lease calls over an in-memory object, stored as wire JSON like the apiserver does. */
function fakeApi() {
  const state: { lease: V1Lease | undefined; rv: number; options: Options[]; failWith: unknown } = {
    lease: undefined,
    rv: 1,
    options: [],
    failWith: undefined,
  };
  const wire = (body: V1Lease): V1Lease => {
    const stored = JSON.parse(JSON.stringify(body)) as V1Lease;
    stored.metadata = { ...stored.metadata, resourceVersion: String(++state.rv) };
    return stored;
  };
  const api: LeaseApi = {
    readNamespacedLease: async (_p, options) => {
      state.options.push(options);
      if (state.failWith !== undefined) throw state.failWith;
      if (!state.lease) throw new ApiException(404, 'not found', '{}', {});
      return structuredClone(state.lease);
    },
    createNamespacedLease: async ({ body }, options) => {
      state.options.push(options);
      if (state.lease) throw new ApiException(409, 'exists', '{}', {});
      state.lease = wire(body);
      return structuredClone(state.lease);
    },
    replaceNamespacedLease: async ({ body }, options) => {
      state.options.push(options);
      if (body.metadata?.resourceVersion !== state.lease?.metadata?.resourceVersion) {
        throw new ApiException(409, 'conflict', '{}', {});
      }
      state.lease = wire(body);
      return structuredClone(state.lease);
    },
  };
  return { api, state };
}

const record = { holderIdentity: 'me', leaseDurationSeconds: 15, acquireTime: 1_900_000_000_123, renewTime: 1_900_000_005_456, leaseTransitions: 2 };

describe('computeLeaseSpec', () => {
  it('writes MicroTime fields as V1MicroTime: RFC 3339 with six fractional digits on the wire', () => {
    const spec = computeLeaseSpec(record);
    expect(spec.renewTime).toBeInstanceOf(V1MicroTime);
    expect(JSON.parse(JSON.stringify(spec))).toEqual({
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
  it('reads times as the wire strings client-node leaves them, or as Dates', () => {
    const fromWire = computeObservedLease({
      metadata: { resourceVersion: '7' },
      spec: { holderIdentity: 'x', leaseDurationSeconds: 10, leaseTransitions: 1, renewTime: '2030-03-17T17:46:45.456789Z' as unknown as V1MicroTime },
    });
    expect(fromWire).toEqual({
      resourceVersion: '7',
      record: { holderIdentity: 'x', leaseDurationSeconds: 10, leaseTransitions: 1, renewTime: 1_900_000_005_456 },
    });
    const fromDate = computeObservedLease({ spec: { acquireTime: new V1MicroTime(5), renewTime: 'garbage' as unknown as V1MicroTime } });
    expect(fromDate).toEqual({
      resourceVersion: '',
      record: { holderIdentity: '', leaseDurationSeconds: 0, leaseTransitions: 0, acquireTime: 5 },
    });
  });
});

describe('kubeLeaseLock', () => {
  it('get() is undefined for an absent Lease; create() then get() round-trips the record', async () => {
    const { api } = fakeApi();
    const lock = kubeLeaseLock(api, 'kube-system', 'selfhost');
    expect(lock.description).toBe('kube-system/selfhost');
    const signal = new AbortController().signal;
    expect(await lock.get(signal)).toBeUndefined();
    const created = await lock.create(record, signal);
    expect(created).toEqual({ resourceVersion: '2', record });
    expect(await lock.get(signal)).toEqual(created);
  });

  it('update() is optimistic on resourceVersion and keeps what it does not own', async () => {
    const { api, state } = fakeApi();
    const lock = kubeLeaseLock(api, 'ns', 'l');
    const signal = new AbortController().signal;
    await lock.create(record, signal);
    if (state.lease?.metadata) state.lease.metadata.labels = { team: 'x' };
    if (state.lease?.spec) state.lease.spec.strategy = 'OldestEmulationVersion';
    const seen = await lock.get(signal);
    const updated = await lock.update({ ...record, renewTime: record.renewTime + 2000 }, seen?.resourceVersion ?? '', signal);
    expect(updated.record.renewTime).toBe(record.renewTime + 2000);
    expect(state.lease?.metadata?.labels).toEqual({ team: 'x' });
    expect(state.lease?.spec?.strategy).toBe('OldestEmulationVersion');
    const stale = await lock.update(record, '2', signal).catch((e: unknown) => e);
    expect(stale).toBeInstanceOf(Error);
    expect((stale as Error).message).toContain('updating Lease ns/l at resourceVersion 2');
    expect(computeStatusCode(stale)).toBe(409);
    const dup = await lock.create(record, signal).catch((e: unknown) => e);
    expect(computeStatusCode(dup)).toBe(409);
  });

  it('wraps read errors with context, keeping the status code', async () => {
    const { api, state } = fakeApi();
    state.failWith = new ApiException(403, 'forbidden', '{}', {});
    const err = await kubeLeaseLock(api, 'ns', 'l')
      .get(new AbortController().signal)
      .catch((e: unknown) => e);
    expect((err as Error).message).toBe('reading Lease ns/l');
    expect(computeStatusCode(err)).toBe(403);
  });

  it('passes the abort signal to the request through a per-call middleware', async () => {
    const { api, state } = fakeApi();
    const ac = new AbortController();
    await kubeLeaseLock(api, 'ns', 'l').get(ac.signal);
    const options = state.options[0];
    expect(options?.middlewareMergeStrategy).toBe('append');
    const middleware = options?.middleware?.[0];
    const ctx = new RequestContext('https://x/apis', HttpMethod.GET);
    expect((await middleware?.pre(ctx).toPromise())?.getSignal()).toBe(ac.signal);
    const res = new ResponseContext(200, {}, { text: async () => '', binary: async () => Buffer.alloc(0), stream: () => null });
    expect(await middleware?.post(res).toPromise()).toBe(res);
  });
});
