/**
 * The agent's side of its ConfigMap (src/api/agent.ts): reading desired.json and the last
 * observed.json out of wire JSON, and the server-side apply body that writes observed.json.
 * desiredSha256 is the sha256 of the exact desired.json text (UTF-8), as the operator wrote it.
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import {
  AGENT_DESIRED_KEY,
  AGENT_OBSERVED_KEY,
  LABEL_AGENT_NODE,
  agentConfigMapName,
  parseAgentDesired,
  type AgentConflict,
  type AgentDesired,
} from '../api/agent.js';
import { LABEL_MANAGED_BY, MANAGED_BY_VALUE } from '../api/constants.js';
import type { JsonObject } from '../kube/client.js';
import { computeSha256 } from './snapshot.js';

/** The ConfigMap as the informer caches it (wire JSON). */
export interface AgentConfigMap extends KubernetesObject {
  data?: Record<string, string>;
}

export interface AgentConfigMapView {
  /** undefined when the ConfigMap does not exist. */
  resourceVersion: string | undefined;
  /** desired.json text; undefined when absent. */
  desired: string | undefined;
  /** observed.json text; undefined when absent. */
  observed: string | undefined;
}

export function agentConfigMapPath(namespace: string, node: string): string {
  return `/api/v1/namespaces/${namespace}/configmaps/${agentConfigMapName(node)}`;
}

function record(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** The parts of a ConfigMap (or its absence) the agent reads; tolerant of any shape. */
export function computeConfigMapView(obj: unknown): AgentConfigMapView {
  const cm = record(obj);
  if (cm === undefined) return { resourceVersion: undefined, desired: undefined, observed: undefined };
  const data = record(cm['data']);
  return {
    resourceVersion: str(record(cm['metadata'])?.['resourceVersion']) ?? '',
    desired: str(data?.[AGENT_DESIRED_KEY]),
    observed: str(data?.[AGENT_OBSERVED_KEY]),
  };
}

/** The SSA body for field manager selfhost-agent: only observed.json and the labels it owns. */
export function computeObservedApply(namespace: string, node: string, text: string): JsonObject {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: agentConfigMapName(node),
      namespace,
      labels: { [LABEL_MANAGED_BY]: MANAGED_BY_VALUE, [LABEL_AGENT_NODE]: node },
    },
    data: { [AGENT_OBSERVED_KEY]: text },
  };
}

export type DesiredInput =
  /** The ConfigMap was never read (the API has been unreachable since the agent started). */
  | { kind: 'unknown' }
  /** No ConfigMap or no desired.json: nothing is desired, nothing is touched. */
  | { kind: 'absent' }
  | { kind: 'malformed'; conflict: AgentConflict }
  | { kind: 'ok'; desired: AgentDesired; sha256: string };

/** desired.json out of the last ConfigMap seen. */
export function computeDesiredInput(view: AgentConfigMapView | undefined): DesiredInput {
  if (view === undefined) return { kind: 'unknown' };
  if (view.desired === undefined) return { kind: 'absent' };
  try {
    return { kind: 'ok', desired: parseAgentDesired(view.desired), sha256: computeSha256(view.desired) };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : '';
    return { kind: 'malformed', conflict: { path: AGENT_DESIRED_KEY, message: `${message}${cause}; nothing was changed` } };
  }
}
