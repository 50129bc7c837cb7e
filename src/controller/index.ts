/**
 * The generic controller core: clock, work queue, reconciler loop, supervised informers,
 * readiness, and Lease leader election — client-go / controller-runtime semantics and metric names.
 */
export { realClock, sleepWith, type Clock, type Timer } from './clock.js';
export { FakeClock, flushMicrotasks } from './fake-clock.js';
export { Backoff, computeBackoffDelay, computeJittered, type BackoffOptions } from './backoff.js';
export {
  BucketRateLimiter,
  ItemExponentialFailureRateLimiter,
  MaxOfRateLimiter,
  defaultControllerRateLimiter,
  type RateLimiter,
} from './rate-limiter.js';
export { WorkQueue, type WorkQueueOptions, type WorkQueueReader } from './workqueue.js';
export {
  computeOutcome,
  runController,
  type ControllerOptions,
  type Reconcile,
  type ReconcileContext,
  type ReconcileResult,
} from './reconciler.js';
export { objectKey, splitKey, type ObjectRef } from './keys.js';
export {
  computeStatusCode,
  isGone,
  type ListResult,
  type ListWatchSource,
  type WatchEvent,
  type WatchEventType,
} from './list-watch.js';
export { WatchStatusError, kubeListWatch, type KubeListWatchOptions } from './kube-list-watch.js';
export { Informer, type Enqueuer, type InformerOptions, type Syncable } from './informer.js';
export { readiness, type Readiness } from './readiness.js';
export {
  computeLeaseSpec,
  computeObservedLease,
  kubeLeaseLock,
  type LeaderElectionRecord,
  type LeaseClient,
  type LeaseLock,
  type ObservedLease,
} from './lease-lock.js';
export {
  DEFAULT_TIMINGS,
  JITTER_FACTOR,
  LeaderElector,
  assertLeaderElectionTimings,
  type LeaderCallbacks,
  type LeaderElectionOptions,
  type LeaderElectionTimings,
} from './leader-election.js';
