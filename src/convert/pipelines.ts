/**
 * The mutator pipeline of each component: parse → these steps in order → build.
 *
 * Order matters where steps touch the same thing: flag changes before the user's extraArgs (the
 * user wins), identity templating before extraArgs (an override is cluster-wide and meant as
 * written; it may use $(HOST_IP) itself), the node-independence check after both, port sharing
 * after extraArgs (the update strategy needs it), sorting and labels last. etcd gets no port sharing
 * (it never surges); with a gate image it gets the handover gate instead (mutators/handover-gate.ts:
 * the guard against two etcd processes on one data dir), which also drops its container ports.
 */
import type { V1PodTemplateSpec } from '@kubernetes/client-node';
import type { ComponentName } from '../api/types.js';
import { applyFlagChanges } from './mutators/flag-changes.js';
import { addNodeIdentityEnv, refuseNodeLocalValues, templateNodeIdentity } from './mutators/identity.js';
import { retargetImage } from './mutators/image.js';
import { labelForSelfHost } from './mutators/labels.js';
import { applyExtraArgs, applyResources } from './mutators/overrides.js';
import { placeOnControlPlane, spreadAcrossNodes, tolerateEverything } from './mutators/placement.js';
import { disableServiceAccountToken, ensurePriorityClass, reportLogsOnError, useHostNetworkDns } from './mutators/pod.js';
import { addHandoverGate } from './mutators/handover-gate.js';
import { addPortSharing, dropHostPortsForSurge } from './mutators/ports.js';
import { dropNodeLocalProbeHosts } from './mutators/probes.js';
import { sortFlags } from './mutators/sort.js';
import { dropNodeLocalAnnotations, stripStaticPodFields } from './mutators/strip.js';
import { RefusalError } from './refusal.js';
import type { MutationContext, Mutator, PodContext } from './types.js';

/** Shared head: from one node's static pod to a node-independent, retargeted pod. */
const HEAD: readonly Mutator[] = [
  stripStaticPodFields,
  dropNodeLocalAnnotations,
  retargetImage,
  applyFlagChanges,
  templateNodeIdentity,
  applyExtraArgs,
  addNodeIdentityEnv,
  refuseNodeLocalValues,
  applyResources,
  dropNodeLocalProbeHosts,
];

const POD_SETTINGS: readonly Mutator[] = [useHostNetworkDns, ensurePriorityClass, disableServiceAccountToken, reportLogsOnError];
const TAIL: readonly Mutator[] = [sortFlags, labelForSelfHost];
/** The gate may wrap the main command (etcd), so it comes after sortFlags, which re-reads it. */
const GATED_TAIL: readonly Mutator[] = [sortFlags, addHandoverGate, labelForSelfHost];

/** controller-manager and scheduler: leader-elected Deployments spread across control-plane nodes. */
const LEADER_ELECTED: readonly Mutator[] = [
  ...HEAD,
  placeOnControlPlane,
  spreadAcrossNodes,
  ...POD_SETTINGS,
  addPortSharing,
  dropHostPortsForSurge,
  ...TAIL,
];

export const PIPELINES: Readonly<Record<ComponentName, readonly Mutator[]>> = {
  etcd: [...HEAD, placeOnControlPlane, ...POD_SETTINGS, ...GATED_TAIL],
  'kube-apiserver': [...HEAD, placeOnControlPlane, ...POD_SETTINGS, addPortSharing, dropHostPortsForSurge, ...GATED_TAIL],
  'kube-controller-manager': LEADER_ELECTED,
  'kube-scheduler': LEADER_ELECTED,
  'kube-proxy': [...HEAD.filter((m) => m !== applyFlagChanges), tolerateEverything, ...POD_SETTINGS, ...TAIL],
  cni: [...HEAD.filter((m) => m !== applyFlagChanges), tolerateEverything, ...POD_SETTINGS, ...TAIL],
};

/**
 * What the source hash covers: the source pod without what differs between nodes or between a
 * file and its mirror pod, flags sorted. Two control-plane nodes with the same configuration give
 * the same hash, and the node agent can tell whether its manifest is the one a workload came from.
 */
export const SOURCE_NORMALISATION: readonly Mutator<PodContext>[] = [
  stripStaticPodFields,
  dropNodeLocalAnnotations,
  templateNodeIdentity,
  dropNodeLocalProbeHosts,
  sortFlags,
];

/** The component's full pipeline. */
export function convertTemplate(template: V1PodTemplateSpec, ctx: MutationContext): V1PodTemplateSpec {
  return runPipeline(template, ctx, PIPELINES[ctx.component]);
}

/** Names of a component's steps, in order (documentation, tests, `selfhost render --explain`). */
export function pipelineSteps(component: ComponentName): string[] {
  return PIPELINES[component].map((m) => m.name);
}

/**
 * Runs the mutators in order. A RefusalError passes through as is; anything else is a bug and is
 * wrapped with the manifest and the step it happened in.
 */
export function runPipeline<C extends PodContext>(
  template: V1PodTemplateSpec,
  ctx: C,
  mutators: readonly Mutator<C>[],
): V1PodTemplateSpec {
  return mutators.reduce((current, mutate) => {
    try {
      return mutate(current, ctx);
    } catch (error) {
      if (error instanceof RefusalError) throw error;
      const message = error instanceof Error ? error.message : String(error);
      throw new Error(`${ctx.manifest}: ${ctx.component}: step ${mutate.name} failed: ${message}`, { cause: error });
    }
  }, template);
}
