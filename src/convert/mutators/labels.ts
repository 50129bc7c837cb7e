/**
 * selfhost's labels and annotations on the pod template (docs/design.md, "Labels and annotations").
 */
import type { V1PodTemplateSpec } from '@kubernetes/client-node';
import {
  ANNOTATION_CHECKPOINT,
  ANNOTATION_SOURCE_MANIFEST,
  LABEL_COMPONENT,
  LABEL_MANAGED_BY,
  LABEL_VERSION,
  MANAGED_BY_VALUE,
} from '../../api/constants.js';
import { formatVersion } from '../../api/version.js';
import { cloneTemplate, mainContainerOf } from '../container.js';
import { isControlPlaneComponent } from '../identify.js';
import { parseImageRef } from '../images.js';
import type { MutationContext } from '../types.js';

const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** A label value, or undefined when the text cannot be one (too long, bad characters). */
export function asLabelValue(text: string): string | undefined {
  return text.length <= 63 && LABEL_VALUE.test(text) ? text : undefined;
}

/**
 * The Kubernetes version the template runs; for etcd and a CNI, their image tag (when it is a
 * valid label). etcd's own version, not Kubernetes': a Kubernetes patch that keeps etcd's image
 * must not change etcd's template (that would restart etcd for nothing).
 */
export function versionLabelValue(template: V1PodTemplateSpec, ctx: MutationContext): string | undefined {
  if (ctx.component !== 'cni' && ctx.component !== 'etcd') return formatVersion(ctx.target);
  const tag = parseImageRef(mainContainerOf(template, ctx).image ?? '').tag;
  return tag === undefined ? undefined : asLabelValue(tag);
}

/**
 * Keeps the source's labels (kubeadm's component/tier: kubeadm and kube-bench find the pods by
 * them) and adds managed-by, the component (the workload's selector) and the version; annotates
 * the manifest the pod replaces and, for the four control-plane components, that the node agent
 * may checkpoint it.
 */
export function labelForSelfHost(template: V1PodTemplateSpec, ctx: MutationContext): V1PodTemplateSpec {
  const out = cloneTemplate(template);
  const version = versionLabelValue(out, ctx);
  const source = Object.entries(out.metadata?.labels ?? {}).filter(([key]) => key !== LABEL_VERSION);
  const labels: Record<string, string> = {
    ...Object.fromEntries(source),
    [LABEL_MANAGED_BY]: MANAGED_BY_VALUE,
    [LABEL_COMPONENT]: ctx.component,
    ...(version === undefined ? {} : { [LABEL_VERSION]: version }),
  };
  const checkpoint = isControlPlaneComponent(ctx.component);
  const annotations: Record<string, string> = {
    ...out.metadata?.annotations,
    [ANNOTATION_SOURCE_MANIFEST]: ctx.manifest,
    ...(checkpoint ? { [ANNOTATION_CHECKPOINT]: 'true' } : {}),
  };
  out.metadata = { ...out.metadata, labels, annotations };
  return out;
}
