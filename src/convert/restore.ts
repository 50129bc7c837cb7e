/**
 * The unpivot's static manifests (pure): what selfhost writes back into the manifest directory
 * when it hands a component back to the kubelet.
 *
 * The restored manifest is the component's original static manifest (kubeadm's own file, which
 * the agent backed up before the pivot) moved to what the workload runs now, through the same
 * mutators that made the workload's template from it: the image of the running version, the flag
 * changes of every minor in between, the user's extraArgs and resources, flags sorted (kubeadm
 * sorts them too). Nothing selfhost-specific is added: no labels, no placement, no gate, no port
 * sharing, the node's own address and name written where kubeadm writes them. So the file is what
 * kubeadm writes for that version, and `kubeadm upgrade` can take over from it.
 *
 * The hand-back variant is the step before: it lets the static pod start beside the self-hosted
 * one without a gap.
 *  - kube-apiserver, controller-manager, scheduler: the restored manifest with
 *    --permit-port-sharing=true (the workload's pods share the port too), so both serve at once;
 *    the workload then goes, and the restored manifest replaces the variant (one restart).
 *  - etcd (never two processes on one data dir): the restored manifest whose etcd command waits in
 *    selfhost-gate-exec until etcd's ports are free (the self-hosted member stopped), then execs
 *    etcd on the same data dir; the gate binary comes from an init container of the selfhost image.
 */
import type { V1Pod, V1PodTemplateSpec } from '@kubernetes/client-node';
import { dump } from 'js-yaml';
import type { ComponentName, ControlPlaneSpec } from '../api/types.js';
import { parseVersion } from '../api/version.js';
import { RELEASES, type MinorRelease } from '../versions/table.js';
import { mapMainFlags } from './container.js';
import { sourceVersionOf } from './index.js';
import { applyFlagChanges } from './mutators/flag-changes.js';
import { addStaticHandbackGate } from './mutators/handover-gate.js';
import { fillNodeIdentity } from './mutators/identity.js';
import { retargetImage } from './mutators/image.js';
import { applyExtraArgs, applyResources } from './mutators/overrides.js';
import { sortFlags } from './mutators/sort.js';
import { parseStaticPod, type ManifestSource } from './parse.js';
import { runPipeline } from './pipelines.js';
import { computePortSharingPrep } from './port-sharing-prep.js';
import { makeRefusal, RefusalError, type Refusal } from './refusal.js';
import type { MutationContext, Mutator, NodeIdentity, StaticPod } from './types.js';

/** The restore pipeline: the part of the conversion that moves a component, nothing else. */
export const RESTORE_STEPS: readonly Mutator[] = [retargetImage, applyFlagChanges, applyExtraArgs, substituteNodeIdentity, applyResources, sortFlags];

/** An override may name $(HOST_IP) or $(NODE_NAME); a static pod has no such variables. */
function substituteNodeIdentity(template: V1PodTemplateSpec, ctx: MutationContext): V1PodTemplateSpec {
  return mapMainFlags(template, ctx, (flags) => flags.map((f) => ({ ...f, value: f.value === undefined ? undefined : fillNodeIdentity(f.value, ctx.node) })));
}

export interface RestoreInput {
  /** The node's original manifests (backups win over active files), the component's among them. */
  readonly manifests: readonly ManifestSource[];
  readonly component: ComponentName;
  readonly spec: ControlPlaneSpec;
  /** The Kubernetes version the component runs now. */
  readonly version: string;
  readonly node: NodeIdentity;
  /** Image of the selfhost gate (etcd's hand-back variant installs selfhost-gate-exec from it). */
  readonly gateImage: string;
  readonly releases?: readonly MinorRelease[];
}

export interface RestoredManifest {
  readonly path: string;
  /** The final static manifest (kubeadm's form at the running version). */
  readonly restored: string;
  /** The variant that starts beside the self-hosted instance (see the file comment). */
  readonly handback: string;
}

export type RestoreResult = { readonly ok: true; readonly manifest: RestoredManifest } | { readonly ok: false; readonly refusal: Refusal };

function toYaml(pod: V1Pod): string {
  return dump(JSON.parse(JSON.stringify(pod)), { lineWidth: -1, noRefs: true });
}

/** The pod of a template, keeping the original's apiVersion, kind, name and namespace. */
function podOf(source: StaticPod, template: V1PodTemplateSpec): V1Pod {
  const meta = source.pod.metadata ?? {};
  const labels = template.metadata?.labels;
  const annotations = template.metadata?.annotations;
  const rest = { ...meta };
  Reflect.deleteProperty(rest, 'labels');
  Reflect.deleteProperty(rest, 'annotations');
  return {
    ...source.pod,
    metadata: {
      ...rest,
      ...(labels === undefined ? {} : { labels }),
      ...(annotations === undefined ? {} : { annotations }),
    },
    ...(template.spec === undefined ? {} : { spec: template.spec }),
  };
}

/** The restored and hand-back manifests of one component on one node. */
export function computeRestoredManifest(input: RestoreInput): RestoreResult {
  const releases = input.releases ?? RELEASES;
  const pods: StaticPod[] = [];
  for (const m of input.manifests) {
    const parsed = parseStaticPod(m);
    if (parsed.ok) pods.push(parsed.pod);
  }
  const pod = pods.find((p) => p.component === input.component);
  if (pod === undefined) {
    return { ok: false, refusal: makeRefusal('MissingManifest', input.component, `no original manifest of ${input.component} to restore from`, { component: input.component }) };
  }
  const target = parseVersion(input.version);
  if (target === undefined) {
    return { ok: false, refusal: makeRefusal('UnsupportedVersion', pod.path, 'the running version is not vMAJOR.MINOR.PATCH', { component: input.component, value: input.version }) };
  }
  const apiserver = pods.find((p) => p.component === 'kube-apiserver');
  const apiserverVersion = apiserver === undefined ? undefined : sourceVersionOf(apiserver, undefined, releases);
  const source = sourceVersionOf(pod, apiserverVersion, releases);
  const ctx: MutationContext = {
    component: pod.component,
    manifest: pod.path,
    mainContainer: pod.mainContainer,
    commandLayout: pod.commandLayout,
    node: input.node,
    spec: input.spec,
    target,
    source,
    releases,
  };
  let template: V1PodTemplateSpec;
  try {
    template = runPipeline(pod.template, ctx, RESTORE_STEPS);
  } catch (err) {
    if (err instanceof RefusalError) return { ok: false, refusal: err.refusal };
    throw err;
  }
  const restoredPod = podOf(pod, template);
  const restored = toYaml(restoredPod);
  let handback: string;
  if (input.component === 'etcd') {
    handback = toYaml(podOf(pod, addStaticHandbackGate(template, ctx, input.gateImage)));
  } else {
    const reparsed = parseStaticPod({ path: pod.path, content: restored });
    if (!reparsed.ok) return { ok: false, refusal: reparsed.refusal };
    handback = computePortSharingPrep(reparsed.pod);
  }
  return { ok: true, manifest: { path: pod.path, restored, handback } };
}
