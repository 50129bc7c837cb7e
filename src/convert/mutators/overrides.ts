/**
 * The user's per-component overrides (spec.overrides.<component>): extra args and resources.
 * The image override is part of retargetImage.
 */
import type { V1PodTemplateSpec, V1ResourceRequirements } from '@kubernetes/client-node';
import type { ExtraArg, ResourceRequirements } from '../../api/types.js';
import { cloneTemplate, mapMainContainer, mapMainFlags } from '../container.js';
import { setFlag, type Flag } from '../flags.js';
import { refuse } from '../refusal.js';
import type { MutationContext } from '../types.js';

/**
 * Each named flag is set to the given value(s), replacing every occurrence; naming a flag twice
 * in extraArgs yields a repeated flag (e.g. two --service-account-issuer), in the given order.
 */
export function applyExtraArgsTo(flags: readonly Flag[], extraArgs: readonly ExtraArg[]): Flag[] {
  const byName = new Map<string, string[]>();
  for (const arg of extraArgs) {
    const name = arg.name.replace(/^-+/, '');
    byName.set(name, [...(byName.get(name) ?? []), arg.value]);
  }
  let out = [...flags];
  for (const [name, values] of byName) out = setFlag(out, name, ...values);
  return out;
}

export function applyExtraArgs(template: V1PodTemplateSpec, ctx: MutationContext): V1PodTemplateSpec {
  const extraArgs = ctx.spec.overrides?.[ctx.component]?.extraArgs ?? [];
  if (extraArgs.length === 0) return cloneTemplate(template);
  if (ctx.commandLayout.kind === 'raw') {
    refuse(
      'UnsupportedOverride',
      ctx.manifest,
      ctx.component === 'cni'
        ? "the CNI's command line is kept as the plugin ships it; set its options in the plugin's own configuration"
        : `${ctx.component}'s command line is not a plain list of flags, so extraArgs cannot be applied to it`,
      { component: ctx.component, field: `spec.overrides.${ctx.component}.extraArgs` },
    );
  }
  return mapMainFlags(template, ctx, (flags) => applyExtraArgsTo(flags, extraArgs));
}

function quantities(values: Record<string, string | number>): Record<string, string> {
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [k, String(v)]));
}

/** requests and limits given in the override replace the container's (each as a whole). */
export function applyResourcesTo(
  current: V1ResourceRequirements | undefined,
  override: ResourceRequirements,
): V1ResourceRequirements {
  return {
    ...current,
    ...(override.requests === undefined ? {} : { requests: quantities(override.requests) }),
    ...(override.limits === undefined ? {} : { limits: quantities(override.limits) }),
  };
}

export function applyResources(template: V1PodTemplateSpec, ctx: MutationContext): V1PodTemplateSpec {
  const override = ctx.spec.overrides?.[ctx.component]?.resources;
  if (override === undefined) return cloneTemplate(template);
  return mapMainContainer(template, ctx, (c) => ({ ...c, resources: applyResourcesTo(c.resources, override) }));
}
