/**
 * Removing what only makes sense for one static pod on one node.
 */
import type { V1PodTemplateSpec } from '@kubernetes/client-node';
import { ANNOTATION_TEMPLATE_HASH } from '../../api/constants.js';
import { cloneTemplate } from '../container.js';

/** `kubernetes.io/config.*`: the kubelet's bookkeeping on mirror pods (hash, source, seen). */
export function isKubeletConfigAnnotation(key: string): boolean {
  return key.startsWith('kubernetes.io/config.');
}

/**
 * kubeadm's per-node endpoint annotations (`kubeadm.kubernetes.io/etcd.advertise-client-urls`,
 * `kubeadm.kubernetes.io/kube-apiserver.advertise-address.endpoint`): each node's pod carries its
 * own, so they cannot live in a template shared by all nodes. The conversion result reports them
 * (nodeLocalAnnotations) for the node agent.
 */
export function isNodeLocalAnnotation(key: string): boolean {
  return key.startsWith('kubeadm.kubernetes.io/') && key.includes('advertise');
}

function withoutAnnotations(template: V1PodTemplateSpec, drop: (key: string) => boolean): V1PodTemplateSpec {
  const out = cloneTemplate(template);
  const annotations = out.metadata?.annotations;
  if (out.metadata === undefined || annotations === undefined) return out;
  const kept = Object.fromEntries(Object.entries(annotations).filter(([key]) => !drop(key)));
  if (Object.keys(kept).length > 0) out.metadata.annotations = kept;
  else delete out.metadata.annotations;
  return out;
}

/**
 * Drops the static-pod-only parts: object metadata other than labels and annotations (name,
 * namespace, creationTimestamp, uid, ownerReferences to the Node of a mirror pod, ...), the
 * kubelet's config.* annotations, a previous template hash (recomputed at build), spec.nodeName
 * (the scheduler places the new pods), and spec.priority: the Priority admission plugin computes
 * it from priorityClassName and rejects a pod whose literal value disagrees (kubeadm writes the
 * literal because static pods bypass admission).
 */
export function stripStaticPodFields(template: V1PodTemplateSpec): V1PodTemplateSpec {
  const out = cloneTemplate(template);
  const labels = out.metadata?.labels;
  const annotations = out.metadata?.annotations;
  out.metadata = {
    ...(labels === undefined ? {} : { labels }),
    ...(annotations === undefined ? {} : { annotations }),
  };
  if (out.spec !== undefined) {
    delete out.spec.nodeName;
    delete out.spec.priority;
  }
  return withoutAnnotations(out, (key) => isKubeletConfigAnnotation(key) || key === ANNOTATION_TEMPLATE_HASH);
}

export function dropNodeLocalAnnotations(template: V1PodTemplateSpec): V1PodTemplateSpec {
  return withoutAnnotations(template, isNodeLocalAnnotation);
}
