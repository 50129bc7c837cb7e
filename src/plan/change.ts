/**
 * A planned change of one component, before it becomes a PlanStep: parsed versions so the
 * simulation can apply it, original text so the step shows what was observed / asked for.
 */
import type { PlanStep } from '../api/types.js';
import type { Version } from '../api/version.js';
import type { ParsedInstance } from './observed.js';
import type { PlanRefused, RefusalReason, VersionedComponent } from './types.js';

export interface ComponentChange {
  readonly component: VersionedComponent;
  readonly action: 'Upgrade' | 'Downgrade';
  /** Upgrade: the lowest instance (furthest behind). Downgrade: the highest (furthest ahead). */
  readonly from: ParsedInstance;
  readonly to: { readonly text: string; readonly version: Version };
}

export function computePlanStep(change: ComponentChange): PlanStep {
  return {
    component: change.component,
    action: change.action,
    fromVersion: change.from.text,
    toVersion: change.to.text,
    state: 'Pending',
  };
}

export function refuse(reason: RefusalReason, message: string): PlanRefused {
  return { ok: false, reason, message };
}
