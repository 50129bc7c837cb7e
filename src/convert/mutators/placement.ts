/**
 * Where the self-hosted pods run.
 */
import type { V1PodTemplateSpec, V1Toleration, V1WeightedPodAffinityTerm } from '@kubernetes/client-node';
import { CONTROL_PLANE_NODE_LABEL, LABEL_COMPONENT } from '../../api/constants.js';
import { cloneTemplate } from '../container.js';
import { canonicalJson } from '../hash.js';
import type { PodContext } from '../types.js';

export const TOLERATE_EVERYTHING: V1Toleration = { operator: 'Exists' };
export const HOSTNAME_TOPOLOGY_KEY = 'kubernetes.io/hostname';

function isTolerateEverything(t: V1Toleration): boolean {
  return t.operator === 'Exists' && t.key === undefined && t.effect === undefined && t.tolerationSeconds === undefined;
}

/**
 * `tolerations: [{operator: Exists}]`: a static pod runs whatever the node's taints, so must its
 * replacement (NotReady, disk-pressure, control-plane taints...). The source's own tolerations
 * are kept (they are subsumed).
 */
export function tolerateEverything(template: V1PodTemplateSpec): V1PodTemplateSpec {
  const out = cloneTemplate(template);
  if (out.spec === undefined) return out;
  const tolerations = out.spec.tolerations ?? [];
  if (!tolerations.some(isTolerateEverything)) out.spec.tolerations = [...tolerations, { ...TOLERATE_EVERYTHING }];
  return out;
}

/** Control-plane nodes only (the node label kubeadm sets), tolerating everything. */
export function placeOnControlPlane(template: V1PodTemplateSpec): V1PodTemplateSpec {
  const out = tolerateEverything(template);
  if (out.spec === undefined) return out;
  out.spec.nodeSelector = { ...out.spec.nodeSelector, [CONTROL_PLANE_NODE_LABEL]: '' };
  return out;
}

/**
 * Deployments (controller-manager, scheduler): prefer one replica per node, so that losing a node
 * leaves a leader candidate elsewhere. Preferred, not required: a surge pod has to be able to land
 * next to the one it replaces when there is no other node.
 */
export function spreadAcrossNodes(template: V1PodTemplateSpec, ctx: PodContext): V1PodTemplateSpec {
  const out = cloneTemplate(template);
  if (out.spec === undefined) return out;
  const term: V1WeightedPodAffinityTerm = {
    weight: 100,
    podAffinityTerm: {
      topologyKey: HOSTNAME_TOPOLOGY_KEY,
      labelSelector: { matchLabels: { [LABEL_COMPONENT]: ctx.component } },
    },
  };
  const affinity = out.spec.affinity ?? {};
  const anti = affinity.podAntiAffinity ?? {};
  const preferred = anti.preferredDuringSchedulingIgnoredDuringExecution ?? [];
  // Compared canonically: a term read back from YAML/JSON may have its keys in another order.
  if (preferred.some((p) => canonicalJson(p) === canonicalJson(term))) return out;
  out.spec.affinity = {
    ...affinity,
    podAntiAffinity: { ...anti, preferredDuringSchedulingIgnoredDuringExecution: [...preferred, term] },
  };
  return out;
}
