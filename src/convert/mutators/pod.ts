/**
 * Pod-level settings every self-hosted component gets.
 */
import type { V1PodTemplateSpec } from '@kubernetes/client-node';
import { cloneTemplate, mainContainerOf } from '../container.js';
import type { MutationContext } from '../types.js';

export const DEFAULT_PRIORITY_CLASS = 'system-node-critical';

/**
 * hostNetwork, with cluster DNS first (kubeadm's old pivot did the same): a hostNetwork pod
 * otherwise ignores cluster DNS, and the apiserver resolves Service names (webhooks, aggregated
 * APIs). The source already is hostNetwork for etcd and the apiserver (checked at parse).
 */
export function useHostNetworkDns(template: V1PodTemplateSpec): V1PodTemplateSpec {
  const out = cloneTemplate(template);
  if (out.spec === undefined) return out;
  out.spec.hostNetwork = true;
  out.spec.dnsPolicy = 'ClusterFirstWithHostNet';
  return out;
}

/** system-node-critical unless the source chose a class: these pods must never be preempted. */
export function ensurePriorityClass(template: V1PodTemplateSpec): V1PodTemplateSpec {
  const out = cloneTemplate(template);
  if (out.spec !== undefined && out.spec.priorityClassName === undefined) {
    out.spec.priorityClassName = DEFAULT_PRIORITY_CLASS;
  }
  return out;
}

/**
 * automountServiceAccountToken: false unless the source says otherwise. A static pod never had a
 * token (it authenticates with files on the host), and a pod without one can still be written
 * back as a static pod by the node agent (checkpoints, unpivot): the kubelet cannot give a static
 * pod a service account token.
 */
export function disableServiceAccountToken(template: V1PodTemplateSpec): V1PodTemplateSpec {
  const out = cloneTemplate(template);
  if (out.spec !== undefined && out.spec.automountServiceAccountToken === undefined) {
    out.spec.automountServiceAccountToken = false;
  }
  return out;
}

/**
 * terminationMessagePolicy FallbackToLogsOnError on the component's container (kubeadm leaves the
 * default, File, which none of these programs write): when a new instance exits with an error, the
 * last lines of its log become its termination message, which the rollout's health gate puts in
 * the conditions, so the reason a step failed outlives the pod the rollback deletes. Sidecars are
 * kept as the source has them.
 */
export function reportLogsOnError(template: V1PodTemplateSpec, ctx: MutationContext): V1PodTemplateSpec {
  const out = cloneTemplate(template);
  mainContainerOf(out, ctx).terminationMessagePolicy = 'FallbackToLogsOnError';
  return out;
}
