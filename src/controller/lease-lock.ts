/**
 * The leader election record and where it lives: a coordination.k8s.io/v1 Lease. The interface is
 * what the elector needs (get, create, update-if-unchanged), so its logic is tested against an
 * in-memory store and this file stays a thin adapter.
 */
import type { JsonObject, KubeClient } from '../kube/client.js';

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

/** The verbs the lock needs, on wire JSON (kube/client.ts). */
export type LeaseClient = Pick<KubeClient, 'get' | 'create' | 'replace'>;

const rec = (v: unknown): JsonObject => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as JsonObject) : {});

/**
 * A LeaseLock on `namespace/name` through the raw-JSON client. Not client-node's typed
 * CoordinationV1Api: that loads every generated model (src/kube/client-node.ts), for one object.
 */
export function kubeLeaseLock(client: LeaseClient, namespace: string, name: string): LeaseLock {
  const collection = `/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases`;
  const path = `${collection}/${name}`;
  // The last Lease read or written: updates replace it whole, keeping labels and fields we don't own.
  let last: JsonObject | undefined;
  const remember = (lease: JsonObject): ObservedLease => {
    last = lease;
    return computeObservedLease(lease);
  };
  return {
    description: `${namespace}/${name}`,
    async get(signal) {
      let lease: JsonObject | undefined;
      try {
        lease = await client.get(path, signal);
      } catch (err) {
        throw new Error(`reading Lease ${namespace}/${name}`, { cause: err });
      }
      return lease === undefined ? undefined : remember(lease);
    },
    async create(record, signal) {
      const body: JsonObject = {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name, namespace },
        spec: computeLeaseSpec(record),
      };
      try {
        return remember(await client.create(collection, body, signal));
      } catch (err) {
        throw new Error(`creating Lease ${namespace}/${name}`, { cause: err });
      }
    },
    async update(record, resourceVersion, signal) {
      const body: JsonObject = {
        ...last,
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { ...rec(last?.['metadata']), name, namespace, resourceVersion },
        spec: { ...rec(last?.['spec']), ...computeLeaseSpec(record) },
      };
      try {
        return remember(await client.replace(path, body, signal));
      } catch (err) {
        throw new Error(`updating Lease ${namespace}/${name} at resourceVersion ${resourceVersion}`, { cause: err });
      }
    },
  };
}

/**
 * A MicroTime on the wire: RFC 3339 with six fractional digits. The apiserver rejects a plain
 * Date's three (DESIGN-NOTES §3); ms since the epoch carry no more, so the last three are zeros.
 */
export function computeMicroTime(ms: number): string {
  return new Date(ms).toISOString().replace(/Z$/, '000Z');
}

/** The Lease spec (wire JSON) for a record. */
export function computeLeaseSpec(record: LeaderElectionRecord): JsonObject {
  return {
    holderIdentity: record.holderIdentity,
    leaseDurationSeconds: record.leaseDurationSeconds,
    leaseTransitions: record.leaseTransitions,
    ...(record.acquireTime !== undefined ? { acquireTime: computeMicroTime(record.acquireTime) } : {}),
    ...(record.renewTime !== undefined ? { renewTime: computeMicroTime(record.renewTime) } : {}),
  };
}

export function computeObservedLease(lease: JsonObject): ObservedLease {
  const spec = rec(lease['spec']);
  const acquireTime = computeMillis(spec['acquireTime']);
  const renewTime = computeMillis(spec['renewTime']);
  const num = (v: unknown): number => (typeof v === 'number' ? v : 0);
  const resourceVersion = rec(lease['metadata'])['resourceVersion'];
  return {
    resourceVersion: typeof resourceVersion === 'string' ? resourceVersion : '',
    record: {
      holderIdentity: typeof spec['holderIdentity'] === 'string' ? spec['holderIdentity'] : '',
      leaseDurationSeconds: num(spec['leaseDurationSeconds']),
      leaseTransitions: num(spec['leaseTransitions']),
      ...(acquireTime !== undefined ? { acquireTime } : {}),
      ...(renewTime !== undefined ? { renewTime } : {}),
    },
  };
}

/** A MicroTime as read back (an RFC 3339 string); undefined when absent or unparsable. */
function computeMillis(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}
