/**
 * Pointing the main container (or, for a CNI, its plugin containers) at the target image.
 */
import type { V1PodTemplateSpec } from '@kubernetes/client-node';
import { cloneTemplate, mainContainerOf, mapAllContainers, mapMainContainer } from '../container.js';
import { parseImageRef } from '../images.js';
import { computeTargetImage } from '../retarget.js';
import type { MutationContext } from '../types.js';

/**
 * kube-* components: `<imageRepository>/<component>:<version>`; etcd: the tag paired with the
 * target minor (or spec.etcd.version), never older than what runs; an overrides.<c>.image wins.
 * cni: see retargetCniImages.
 */
export function retargetImage(template: V1PodTemplateSpec, ctx: MutationContext): V1PodTemplateSpec {
  if (ctx.component === 'cni') return retargetCniImages(template, ctx.spec.overrides?.cni?.image ?? ctx.spec.cni.image);
  const current = mainContainerOf(template, ctx).image ?? '';
  const image = computeTargetImage(ctx.component, current, ctx.spec, ctx.target, ctx.releases, ctx);
  return mapMainContainer(template, ctx, (c) => ({ ...c, image }));
}

/**
 * spec.cni.image (default: keep what runs) replaces the image of every container and init
 * container that runs the same repository: a CNI pod usually mixes images (calico-node next to
 * calico/cni installers, flannel next to flannel-cni-plugin) and only the matching ones are the
 * plugin's. When no container runs that repository (a registry move), the first container,
 * the agent by convention, gets it.
 */
export function retargetCniImages(template: V1PodTemplateSpec, image: string | undefined): V1PodTemplateSpec {
  if (image === undefined) return cloneTemplate(template);
  const repository = parseImageRef(image).repository;
  const matches = (c: { image?: string }): boolean =>
    c.image !== undefined && parseImageRef(c.image).repository === repository;
  const spec = template.spec;
  const any = [...(spec?.containers ?? []), ...(spec?.initContainers ?? [])].some(matches);
  if (any) return mapAllContainers(template, (c) => (matches(c) ? { ...c, image } : c));
  const out = cloneTemplate(template);
  const agent = out.spec?.containers[0];
  if (out.spec !== undefined && agent !== undefined) out.spec.containers[0] = { ...agent, image };
  return out;
}
