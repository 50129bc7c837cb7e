/**
 * The operator's informers and how a pass reads the world from their caches.
 *
 * Every handler enqueues the one ControlPlane key (`cluster`): any change to a node, a kube-system
 * pod, workload or agent ConfigMap may change the next step, and the pass re-reads everything.
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { CONTROL_PLANE_NAME, CONTROL_PLANE_NODE_LABEL, LABEL_MANAGED_BY, MANAGED_BY_VALUE, SYSTEM_NAMESPACE } from '../api/constants.js';
import { API_GROUP, API_VERSION, PLURAL, type ControlPlane } from '../api/types.js';
import type { Clock } from '../controller/clock.js';
import { Informer, type Enqueuer } from '../controller/informer.js';
import { objectKey } from '../controller/keys.js';
import type { ListWatchSource } from '../controller/list-watch.js';
import type { JsonObject } from '../kube/client.js';
import type { RawWorld } from './snapshot.js';

export interface WorldInformers {
  readonly all: readonly Informer<KubernetesObject>[];
  readWorld(name: string): RawWorld | undefined;
}

export interface WorldSources {
  /** A list-watch per path (kubeListWatch in production, anything in tests). */
  source(path: string, selectors: { labelSelector?: string; fieldSelector?: string }): ListWatchSource<KubernetesObject>;
}

export interface WorldOptions {
  readonly sources: WorldSources;
  readonly queue: Enqueuer;
  readonly logger: Logger;
  readonly clock?: Clock;
  readonly resyncMs?: number;
  readonly watchdogMs?: number;
}

export function createWorldInformers(opts: WorldOptions): WorldInformers {
  const toRoot = (): string[] => [CONTROL_PLANE_NAME];
  const make = (
    name: string,
    path: string,
    selectors: { labelSelector?: string; fieldSelector?: string },
    keysFor: (obj: KubernetesObject) => Iterable<string>,
  ): Informer<KubernetesObject> =>
    new Informer<KubernetesObject>({
      name,
      source: opts.sources.source(path, selectors),
      queue: opts.queue,
      keysFor,
      logger: opts.logger,
      ...(opts.clock === undefined ? {} : { clock: opts.clock }),
      ...(opts.resyncMs === undefined ? {} : { resyncMs: opts.resyncMs }),
      ...(opts.watchdogMs === undefined ? {} : { watchdogMs: opts.watchdogMs }),
    });
  const ns = `/api/v1/namespaces/${SYSTEM_NAMESPACE}`;
  const apps = `/apis/apps/v1/namespaces/${SYSTEM_NAMESPACE}`;
  const controlPlanes = make('controlplanes', `/apis/${API_GROUP}/${API_VERSION}/${PLURAL}`, {}, (o) => [objectKey(o)]);
  const nodes = make('nodes', '/api/v1/nodes', { labelSelector: CONTROL_PLANE_NODE_LABEL }, toRoot);
  const pods = make('pods', `${ns}/pods`, {}, toRoot);
  const configMaps = make('configmaps', `${ns}/configmaps`, { labelSelector: `${LABEL_MANAGED_BY}=${MANAGED_BY_VALUE}` }, toRoot);
  const daemonSets = make('daemonsets', `${apps}/daemonsets`, {}, toRoot);
  const deployments = make('deployments', `${apps}/deployments`, {}, toRoot);
  const asJson = (list: KubernetesObject[]): JsonObject[] => list as unknown as JsonObject[];
  return {
    all: [controlPlanes, nodes, pods, configMaps, daemonSets, deployments],
    readWorld(name) {
      const cp = controlPlanes.get(name);
      if (cp === undefined) return undefined;
      return {
        controlPlane: cp as unknown as ControlPlane,
        nodes: asJson(nodes.list()),
        configMaps: asJson(configMaps.list()),
        pods: asJson(pods.list()),
        daemonSets: asJson(daemonSets.list()),
        deployments: asJson(deployments.list()),
      };
    },
  };
}
