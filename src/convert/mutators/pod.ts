/**
 * Pod-level settings every self-hosted component gets.
 */
import type { V1PodTemplateSpec } from '@kubernetes/client-node';
import { cloneTemplate } from '../container.js';

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
