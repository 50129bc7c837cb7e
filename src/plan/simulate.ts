/**
 * Walks a plan's changes over the observed state and checks the skew policy along the way.
 *
 * A step rolls instance by instance, so while it runs old and new versions coexist: the "during"
 * state holds both. The skew rules bound the oldest and newest instances, so the during state is
 * the strictest moment of a step; checking it and the state after covers every partial rollout.
 */
import { sortInstances, type ParsedState } from './observed.js';
import { computeSkewViolations, type SkewViolation } from './skew.js';
import type { ComponentChange } from './change.js';

export function computeStateAfter(state: ParsedState, change: ComponentChange): ParsedState {
  const { text, version } = change.to;
  const moved = state[change.component].map((i) => ({ node: i.node, text, version }));
  return { ...state, [change.component]: sortInstances(moved) };
}

/** The component with every instance both at its old version and at the new one. */
export function computeDuringState(state: ParsedState, change: ComponentChange): ParsedState {
  const after = computeStateAfter(state, change);
  return { ...state, [change.component]: sortInstances([...state[change.component], ...after[change.component]]) };
}

export interface PlanViolation {
  readonly violation: SkewViolation;
  /** True when the cluster already had it and the plan merely does not repair it. */
  readonly preexisting: boolean;
}

/**
 * The first violation the changes would cause, or undefined. A violation already present before the
 * plan may persist while the plan runs (a plan may be what repairs it) but must not grow, and the
 * state after the last change must be free of violations: a plan ends in a supported state.
 */
export function computePlanViolation(
  initial: ParsedState,
  changes: readonly ComponentChange[],
): PlanViolation | undefined {
  const tolerated = new Map<string, number>();
  for (const v of computeSkewViolations(initial)) {
    tolerated.set(computeViolationKey(v), Math.max(tolerated.get(computeViolationKey(v)) ?? 0, v.excess));
  }
  let state = initial;
  for (const change of changes) {
    for (const s of [computeDuringState(state, change), computeStateAfter(state, change)]) {
      const grown = computeSkewViolations(s).find((v) => v.excess > (tolerated.get(computeViolationKey(v)) ?? 0));
      if (grown) return { violation: grown, preexisting: false };
    }
    state = computeStateAfter(state, change);
  }
  const left = changes.length > 0 ? computeSkewViolations(state)[0] : undefined;
  return left ? { violation: left, preexisting: tolerated.has(computeViolationKey(left)) } : undefined;
}

function computeViolationKey(v: SkewViolation): string {
  return `${v.rule}/${v.component}`;
}
