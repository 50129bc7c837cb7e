/**
 * The leader election record and where it lives: a coordination.k8s.io/v1 Lease. The interface is
 * what the elector needs (get, create, update-if-unchanged), so its logic is tested against an
 * in-memory store and this file stays a thin adapter.
 */
import {
  Observable,
  V1MicroTime,
  type CoordinationV1Api,
  type ObservableMiddleware,
  type V1Lease,
} from '@kubernetes/client-node';
import { computeStatusCode } from './list-watch.js';

/** client-go's LeaderElectionRecord. Times are ms since the epoch. */
export interface LeaderElectionRecord {
  /** '' when nobody holds the lease (after a release). */
  holderIdentity: string;
  leaseDurationSeconds: number;
  acquireTime?: number;
  renewTime?: number;
  leaseTransitions: number;
}

export interface ObservedLease {
  record: LeaderElectionRecord;
  /** For optimistic concurrency: update() succeeds only if the lease still has this version. */
  resourceVersion: string;
}

export interface LeaseLock {
  /** `namespace/name`, for logs. */
  readonly description: string;
  /** The current record, or undefined when the Lease does not exist. */
  get(signal: AbortSignal): Promise<ObservedLease | undefined>;
  /** Creates the Lease; fails (409) if someone else created it first. */
  create(record: LeaderElectionRecord, signal: AbortSignal): Promise<ObservedLease>;
  /** Replaces the record if the Lease is still at resourceVersion; fails (409) otherwise. */
  update(record: LeaderElectionRecord, resourceVersion: string, signal: AbortSignal): Promise<ObservedLease>;
}

export type LeaseApi = Pick<CoordinationV1Api, 'readNamespacedLease' | 'createNamespacedLease' | 'replaceNamespacedLease'>;

/** A LeaseLock on `namespace/name` through the typed CoordinationV1Api. */
export function kubeLeaseLock(api: LeaseApi, namespace: string, name: string): LeaseLock {
  // The last Lease read or written: updates replace it whole, keeping labels and fields we don't own.
  let last: V1Lease | undefined;
  const remember = (lease: V1Lease): ObservedLease => {
    last = lease;
    return computeObservedLease(lease);
  };
  return {
    description: `${namespace}/${name}`,
    async get(signal) {
      try {
        return remember(await api.readNamespacedLease({ name, namespace }, withSignal(signal)));
      } catch (err) {
        if (computeStatusCode(err) === 404) return undefined;
        throw new Error(`reading Lease ${namespace}/${name}`, { cause: err });
      }
    },
    async create(record, signal) {
      const body: V1Lease = {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name, namespace },
        spec: computeLeaseSpec(record),
      };
      try {
        return remember(await api.createNamespacedLease({ namespace, body }, withSignal(signal)));
      } catch (err) {
        throw new Error(`creating Lease ${namespace}/${name}`, { cause: err });
      }
    },
    async update(record, resourceVersion, signal) {
      const body: V1Lease = {
        ...last,
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { ...last?.metadata, name, namespace, resourceVersion },
        spec: { ...last?.spec, ...computeLeaseSpec(record) },
      };
      try {
        return remember(await api.replaceNamespacedLease({ name, namespace, body }, withSignal(signal)));
      } catch (err) {
        throw new Error(`updating Lease ${namespace}/${name} at resourceVersion ${resourceVersion}`, { cause: err });
      }
    },
  };
}

/**
 * The Lease spec for a record. MicroTime fields must be V1MicroTime: a plain Date serializes with
 * milliseconds, which the apiserver rejects for MicroTime (DESIGN-NOTES §3).
 */
export function computeLeaseSpec(record: LeaderElectionRecord): NonNullable<V1Lease['spec']> {
  return {
    holderIdentity: record.holderIdentity,
    leaseDurationSeconds: record.leaseDurationSeconds,
    leaseTransitions: record.leaseTransitions,
    ...(record.acquireTime !== undefined ? { acquireTime: new V1MicroTime(record.acquireTime) } : {}),
    ...(record.renewTime !== undefined ? { renewTime: new V1MicroTime(record.renewTime) } : {}),
  };
}

export function computeObservedLease(lease: V1Lease): ObservedLease {
  const spec = lease.spec ?? {};
  const acquireTime = computeMillis(spec.acquireTime);
  const renewTime = computeMillis(spec.renewTime);
  return {
    resourceVersion: lease.metadata?.resourceVersion ?? '',
    record: {
      holderIdentity: spec.holderIdentity ?? '',
      leaseDurationSeconds: spec.leaseDurationSeconds ?? 0,
      leaseTransitions: spec.leaseTransitions ?? 0,
      ...(acquireTime !== undefined ? { acquireTime } : {}),
      ...(renewTime !== undefined ? { renewTime } : {}),
    },
  };
}

/**
 * A MicroTime as read back: client-node's deserializer does not know V1MicroTime and leaves the
 * wire string, despite the declared type; accept a Date too.
 */
function computeMillis(value: unknown): number | undefined {
  if (value instanceof Date) return value.getTime();
  if (typeof value !== 'string') return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

/** Per-request options that make the request abortable (client-node has no signal parameter). */
function withSignal(signal: AbortSignal): { middleware: ObservableMiddleware[]; middlewareMergeStrategy: 'append' } {
  return {
    middleware: [
      {
        pre: (ctx) => {
          ctx.setSignal(signal);
          return new Observable(Promise.resolve(ctx));
        },
        post: (res) => new Observable(Promise.resolve(res)),
      },
    ],
    middlewareMergeStrategy: 'append',
  };
}
