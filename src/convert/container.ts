/**
 * Reading and rewriting the main container of a pod template, and its flags, without touching
 * the input (every helper returns a modified copy).
 */
import type { V1Container, V1PodTemplateSpec } from '@kubernetes/client-node';
import { formatFlags, parseFlags, type Flag } from './flags.js';
import { refuse } from './refusal.js';
import type { CommandLayout, PodContext } from './types.js';

/** Deep copy: mutators work on a copy so that their input stays as it was. */
export function cloneTemplate(template: V1PodTemplateSpec): V1PodTemplateSpec {
  return structuredClone(template);
}

export function containersOf(template: V1PodTemplateSpec): V1Container[] {
  return template.spec?.containers ?? [];
}

function mainIndex(template: V1PodTemplateSpec, ctx: Pick<PodContext, 'mainContainer' | 'manifest'>): number {
  const index = containersOf(template).findIndex((c) => c.name === ctx.mainContainer);
  if (index < 0) {
    throw new Error(`${ctx.manifest}: spec.containers has no container named ${ctx.mainContainer}`);
  }
  return index;
}

export function mainContainerOf(
  template: V1PodTemplateSpec,
  ctx: Pick<PodContext, 'mainContainer' | 'manifest'>,
): V1Container {
  const container = containersOf(template)[mainIndex(template, ctx)];
  if (container === undefined) throw new Error(`${ctx.manifest}: main container vanished`);
  return container;
}

/** Copy of the template with the main container replaced by fn(copy of it). */
export function mapMainContainer(
  template: V1PodTemplateSpec,
  ctx: Pick<PodContext, 'mainContainer' | 'manifest'>,
  fn: (container: V1Container) => V1Container,
): V1PodTemplateSpec {
  const index = mainIndex(template, ctx);
  const out = cloneTemplate(template);
  const containers = out.spec?.containers;
  const container = containers?.[index];
  if (containers === undefined || container === undefined) return out;
  containers[index] = fn(container);
  return out;
}

/** Copy of the template with every container and init container replaced by fn(copy). */
export function mapAllContainers(
  template: V1PodTemplateSpec,
  fn: (container: V1Container) => V1Container,
): V1PodTemplateSpec {
  const out = cloneTemplate(template);
  if (out.spec === undefined) return out;
  out.spec.containers = out.spec.containers.map(fn);
  if (out.spec.initContainers !== undefined) out.spec.initContainers = out.spec.initContainers.map(fn);
  return out;
}

/** Flag tokens of a container laid out as `layout` says. */
export function flagTokensOf(container: V1Container, layout: CommandLayout & { kind: 'flags' }): string[] {
  if (layout.location === 'args') return container.args ?? [];
  const command = container.command ?? [];
  return command.slice(layout.prefix.length);
}

/** Writes flags back in the layout's place; the prefix is rewritten as the layout says. */
export function withFlags(
  container: V1Container,
  layout: CommandLayout & { kind: 'flags' },
  flags: readonly Flag[],
): V1Container {
  const rest: V1Container = { ...container };
  delete rest.command;
  delete rest.args;
  const tokens = formatFlags(flags);
  if (layout.location === 'command') return { ...rest, command: [...layout.prefix, ...tokens] };
  return {
    ...rest,
    ...(layout.prefix.length > 0 ? { command: [...layout.prefix] } : {}),
    ...(tokens.length > 0 ? { args: tokens } : {}),
  };
}

/** The main container's flags, parsed. */
export function mainFlagsOf(template: V1PodTemplateSpec, ctx: PodContext): Flag[] {
  const layout = ctx.commandLayout;
  if (layout.kind === 'raw') return [];
  const container = mainContainerOf(template, ctx);
  const parsed = parseFlags(flagTokensOf(container, layout), layout);
  if (!parsed.ok) {
    refuse('UnsupportedArgument', ctx.manifest, parsed.reason, {
      component: ctx.component,
      field: `container ${ctx.mainContainer} ${layout.location}`,
      value: parsed.token,
    });
  }
  return parsed.flags;
}

/**
 * Copy of the template with the main container's flags replaced by fn(flags). A `raw` layout has
 * no editable flags: the template is returned as a copy, unchanged.
 */
export function mapMainFlags(
  template: V1PodTemplateSpec,
  ctx: PodContext,
  fn: (flags: Flag[]) => Flag[],
): V1PodTemplateSpec {
  const layout = ctx.commandLayout;
  if (layout.kind === 'raw') return cloneTemplate(template);
  const flags = fn(mainFlagsOf(template, ctx));
  return mapMainContainer(template, ctx, (c) => withFlags(c, layout, flags));
}
