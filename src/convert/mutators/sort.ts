import type { V1PodTemplateSpec } from '@kubernetes/client-node';
import { mapMainFlags } from '../container.js';
import { sortFlagsByName } from '../flags.js';
import type { PodContext } from '../types.js';

/**
 * Flags sorted by name (stable: a repeated flag keeps its order, so the binary sees the same
 * values): output is deterministic and converting it again changes nothing.
 */
export function sortFlags(template: V1PodTemplateSpec, ctx: PodContext): V1PodTemplateSpec {
  return mapMainFlags(template, ctx, sortFlagsByName);
}
