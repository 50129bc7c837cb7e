/**
 * `selfhost run`: the operator process. Wires the controller core (src/controller) to the
 * ControlPlane reconcile (reconcile.ts) with real clients, informers, leader election, events,
 * metrics and probes.
 *
 * Steps:
 *  1. serve /healthz, /readyz and /metrics at once (readyz stays 503 until the informers synced);
 *  2. campaign for the Lease `kube-system/selfhost`; only the leader starts informers and workers;
 *  3. on losing the lease, stop acting at once and exit (a fresh process re-campaigns clean);
 *  4. on SIGTERM: stop the workers, release the lease, close the server.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { SYSTEM_NAMESPACE } from '../api/constants.js';
import { realClock, type Clock } from '../controller/clock.js';
import { kubeListWatch } from '../controller/kube-list-watch.js';
import { kubeLeaseLock } from '../controller/lease-lock.js';
import { LeaderElector } from '../controller/leader-election.js';
import { readiness } from '../controller/readiness.js';
import { runController } from '../controller/reconciler.js';
import { WorkQueue } from '../controller/workqueue.js';
import { kubeClient } from '../kube/client.js';
import { computeCacheTransform } from './cache-transform.js';
import { EventRecorder } from './events.js';
import { startHttpServer } from './http.js';
import { OperatorMetrics } from './metrics.js';
import { makeReconcile } from './reconcile.js';
import { createWorldInformers } from './world.js';

export const LEASE_NAME = 'selfhost';
/** Objects per list page of the operator's informers (client-go's default is 500). */
export const LIST_PAGE_SIZE = 100;

export interface OperatorOptions {
  readonly kc: KubeConfig;
  /** Image of the node agent and the etcd handover gate. */
  readonly image: string;
  readonly metricsHost: string;
  readonly metricsPort: number;
  readonly identity: string;
  readonly leaderElect: boolean;
  readonly logger: Logger;
  readonly clock?: Clock;
  /** Requeue while progressing (ms). */
  readonly progressRequeueMs?: number;
  /** Called once the HTTP server is listening (tests read the port). */
  readonly onListening?: (port: number) => void;
}

/** Runs until `signal` aborts or leadership is lost; resolves with the exit code. */
export async function runOperator(opts: OperatorOptions, signal: AbortSignal): Promise<number> {
  const { logger } = opts;
  const clock = opts.clock ?? realClock();
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const metrics = new OperatorMetrics(registry);
  const client = kubeClient(opts.kc, metrics.requestObserver());
  const queue = new WorkQueue({ name: 'controlplane', registry, clock });
  const world = createWorldInformers({
    // The caches keep only what a pass reads (cache-transform.ts), and a relist holds one small
    // page of whole objects at a time: what a list parses at once is what V8 grows its heap to and
    // then keeps (bench-memory: 500-pod pages left ~14 MiB more RSS idle than 100-pod pages).
    sources: {
      source: (path, selectors) =>
        kubeListWatch({ kc: opts.kc, path, ...selectors, pageSize: LIST_PAGE_SIZE, transform: computeCacheTransform(path) }),
    },
    queue,
    logger,
    clock,
  });
  const ready = readiness(world.all);
  const events = new EventRecorder({ client, clock, logger, identity: opts.identity });
  let leading = !opts.leaderElect;
  const server = await startHttpServer({
    ...(opts.metricsHost === '' ? {} : { host: opts.metricsHost }),
    port: opts.metricsPort,
    registry,
    logger,
    liveness: () => true,
    // A standby replica is ready: it serves metrics and will take over; the leader once synced.
    readiness: () => !leading || ready.isReady(),
    notReadyReason: () => `informers not synced: ${ready.pending().join(', ')}`,
  });
  opts.onListening?.(server.port);
  logger.info({ port: server.port, identity: opts.identity, image: opts.image }, 'selfhost operator started');

  const reconcile = makeReconcile({
    client,
    readWorld: (name) => world.readWorld(name),
    image: opts.image,
    events: {
      emit: (regarding, e) =>
        events.emit({
          ...e,
          regarding: {
            apiVersion: String(regarding['apiVersion']),
            kind: String(regarding['kind']),
            name: String(regarding['name']),
            ...(typeof regarding['uid'] === 'string' ? { uid: regarding['uid'] } : {}),
          },
        }),
    },
    observer: {
      observe(status, finished) {
        metrics.setPhase(status.phase);
        metrics.setComponents(status.components ?? []);
        metrics.setCheckpoints(status.checkpoints ?? []);
        for (const f of finished) metrics.observeStep(f.step.component, f.step.action, 'success', f.seconds);
      },
    },
    now: () => new Date(),
    ...(opts.progressRequeueMs === undefined ? {} : { progressRequeueMs: opts.progressRequeueMs }),
  });

  const lead = async (leaderSignal: AbortSignal): Promise<void> => {
    leading = true;
    for (const inf of world.all) inf.start();
    try {
      if (await ready.whenReady(leaderSignal)) {
        logger.info('informers synced; reconciling');
        await runController({ name: 'controlplane', queue, reconcile, logger, registry, signal: leaderSignal, clock });
      }
    } finally {
      await Promise.all(world.all.map((inf) => inf.stop()));
    }
  };

  let code = 0;
  try {
    if (!opts.leaderElect) {
      await lead(signal);
    } else {
      const elector = new LeaderElector({
        name: LEASE_NAME,
        identity: opts.identity,
        // A client of its own, unobserved: selfhost_apiserver_requests_total counts what the
        // reconcile sends, and lease renewals every few seconds would drown it.
        lock: kubeLeaseLock(kubeClient(opts.kc), SYSTEM_NAMESPACE, LEASE_NAME),
        logger,
        registry,
        clock,
        callbacks: {
          onStartedLeading: lead,
          onStoppedLeading: () => {
            if (!signal.aborted) {
              logger.error('leadership lost; exiting so a fresh process re-campaigns');
              code = 1;
            }
          },
        },
      });
      await elector.run(signal);
    }
  } finally {
    await events.close();
    await server.close();
  }
  logger.info({ code }, 'selfhost operator stopped');
  return code;
}
