/**
 * What the live commands read from the cluster (thin: requests only, no decisions): the
 * ControlPlane by name, every Node, and kube-system's pods, DaemonSets and Deployments — the
 * objects the operator itself observes (src/operator/world.ts), read once with plain GETs.
 */
import { SYSTEM_NAMESPACE } from '../api/constants.js';
import { API_GROUP, API_VERSION, PLURAL, type ControlPlane } from '../api/types.js';
import type { JsonObject, KubeClient } from '../kube/client.js';

export interface LiveWorld {
  readonly controlPlane?: ControlPlane;
  readonly nodes: readonly JsonObject[];
  readonly pods: readonly JsonObject[];
  /** DaemonSets and Deployments, each with its kind set (lists leave it out of the items). */
  readonly workloads: readonly JsonObject[];
}

export const CONTROL_PLANES_PATH = `/apis/${API_GROUP}/${API_VERSION}/${PLURAL}`;

export function controlPlanePath(name: string): string {
  return `${CONTROL_PLANES_PATH}/${encodeURIComponent(name)}`;
}

const withKind = (kind: string) => (o: JsonObject): JsonObject => ({ ...o, kind });

/** One read of everything `status` and `plan` need; the requests run in parallel. */
export async function readLiveWorld(client: KubeClient, name: string, signal?: AbortSignal): Promise<LiveWorld> {
  const ns = `/api/v1/namespaces/${SYSTEM_NAMESPACE}`;
  const apps = `/apis/apps/v1/namespaces/${SYSTEM_NAMESPACE}`;
  const [controlPlane, nodes, pods, daemonSets, deployments] = await Promise.all([
    client.get(controlPlanePath(name), signal),
    client.list('/api/v1/nodes', {}, signal),
    client.list(`${ns}/pods`, {}, signal),
    client.list(`${apps}/daemonsets`, {}, signal),
    client.list(`${apps}/deployments`, {}, signal),
  ]);
  return {
    // The API's own object; the CRD's schema (and its defaults) guarantee its shape.
    ...(controlPlane === undefined ? {} : { controlPlane: controlPlane as unknown as ControlPlane }),
    nodes,
    pods,
    workloads: [...daemonSets.map(withKind('DaemonSet')), ...deployments.map(withKind('Deployment'))],
  };
}
