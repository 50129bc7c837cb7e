/**
 * The release table's flag changes for every minor crossed between the source and the target.
 */
import type { V1PodTemplateSpec } from '@kubernetes/client-node';
import type { FlagChange } from '../../versions/table.js';
import { mapMainFlags } from '../container.js';
import { removeFlag, renameFlag, setFlag, type Flag } from '../flags.js';
import { computeFlagChangeSteps } from '../retarget.js';
import type { MutationContext } from '../types.js';

export function applyFlagChange(flags: readonly Flag[], change: FlagChange): Flag[] {
  switch (change.kind) {
    case 'remove':
      return removeFlag(flags, change.flag);
    case 'rename':
      return renameFlag(flags, change.from, change.to);
    case 'set':
      return setFlag(flags, change.flag, change.value);
  }
}

export function applyFlagChanges(template: V1PodTemplateSpec, ctx: MutationContext): V1PodTemplateSpec {
  const steps = computeFlagChangeSteps(ctx.component, ctx.source, ctx.target, ctx.releases, ctx);
  return mapMainFlags(template, ctx, (flags) => steps.reduce(applyFlagChange, flags));
}
