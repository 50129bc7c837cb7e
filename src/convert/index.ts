/**
 * The conversion core's entry point: static pod manifests (as kubeadm or a person wrote them) →
 * the DaemonSets/Deployments selfhost applies, what the node agent needs to know, and refusals.
 * Pure: no I/O, same input → byte-identical output.
 */
import type { V1DaemonSet, V1Deployment } from '@kubernetes/client-node';
import { COMPONENTS, type ComponentName, type ControlPlaneSpec } from '../api/types.js';
import { formatVersion, parseVersion, type Version } from '../api/version.js';
import { RELEASES, type MinorRelease } from '../versions/table.js';
import { buildWorkload, WORKLOAD_SHAPES, workloadName } from './build.js';
import { canonicalJson, sha256Hex } from './hash.js';
import { isControlPlaneComponent } from './identify.js';
import { checkOfflineMemberName, learnNodeIdentity, resolveNodeIdentity } from './identity.js';
import { compareEtcdTags, kubernetesVersionOfImage, parseEtcdTag, parseImageRef } from './images.js';
import { isNodeLocalAnnotation } from './mutators/strip.js';
import { parseStaticPod, type ManifestSource } from './parse.js';
import { convertTemplate, runPipeline, SOURCE_NORMALISATION } from './pipelines.js';
import { computePortSharingPrep } from './port-sharing-prep.js';
import { checkVersionMove } from './version-move.js';
import { cmp, compareRefusals, makeRefusal, RefusalError, type Refusal } from './refusal.js';
import type { MutationContext, NodeIdentity, StaticPod } from './types.js';

export interface ComputeDesiredWorkloadsInput {
  /** Static pod manifests from one control-plane node (e.g. every file of /etc/kubernetes/manifests). */
  readonly manifests: readonly ManifestSource[];
  /** The ControlPlane spec with defaults applied. Only spec.components are converted. */
  readonly spec: ControlPlaneSpec;
  /**
   * The Kubernetes version to produce; default spec.version. An upgrade plan moves one minor at a
   * time and passes each step's version here.
   */
  readonly version?: string;
  /** Deployment replicas (controller-manager, scheduler); default 1. */
  readonly controlPlaneNodes?: number;
  /** The node the manifests come from, as its Node object says; checked against the manifests. */
  readonly node?: NodeIdentity;
  /** Release table; default the built-in one (tests pass their own). */
  readonly releases?: readonly MinorRelease[];
  /** Image of `selfhost gate` for etcd's handover gate (see mutators/handover-gate.ts). */
  readonly handoverGateImage?: string;
}

/** One converted component: what the operator applies and what the node agent needs. */
export interface ConvertedComponent {
  readonly name: ComponentName;
  readonly kind: 'DaemonSet' | 'Deployment';
  /** metadata.name of the workload, in kube-system: `selfhost-<component>`. */
  readonly workloadName: string;
  /** Path of the static manifest the workload replaces (the agent removes/restores this file). */
  readonly sourceManifest: string;
  /**
   * sha256 of the normalised source pod (node identity templated, static-pod-only fields dropped,
   * flags sorted): equal on every control-plane node with the same configuration; the agent
   * compares it with its own manifest's (computeSourceHash) before touching anything.
   */
  readonly sourceHash: string;
  /** sha256 of the pod template (also its selfhost.dev/template-hash annotation). */
  readonly templateHash: string;
  /** Kubernetes version the source runs, when it could be read. */
  readonly sourceVersion?: string;
  /** Name of the container running the component. */
  readonly mainContainer: string;
  /**
   * kubeadm's per-node endpoint annotations from *this* manifest (`kubeadm.kubernetes.io/*advertise*`),
   * left out of the shared template; the node agent sets its own node's values on its pod.
   */
  readonly nodeLocalAnnotations: Readonly<Record<string, string>>;
  /**
   * scheduler / controller-manager: the source manifest with only
   * `--permit-port-sharing=true` added (YAML). The agent writes it over the static manifest first,
   * so the static instance shares its port with the self-hosted one during the handover. Equal to
   * the source text when the source already shares its port.
   */
  readonly portSharingPrep?: string;
}

export interface ConversionResult {
  /** Sorted by name; plain JSON objects ready for server-side apply. */
  readonly workloads: (V1DaemonSet | V1Deployment)[];
  /** Sorted by workload name. */
  readonly components: ConvertedComponent[];
  /** Everything not converted and why; sorted by manifest. */
  readonly refusals: Refusal[];
  /** The node identity the templates were made with (caller's, else learned from the manifests). */
  readonly node: NodeIdentity;
}

/**
 * Components handed over by first restarting the static pod with port sharing (Prepared). The
 * apiserver and etcd use the handover gate instead (mutators/handover-gate.ts says why).
 */
const PORT_SHARING_COMPONENTS = new Set<ComponentName>(['kube-controller-manager', 'kube-scheduler']);

/**
 * The Kubernetes version each source runs. kube-* carry it in their image tag; etcd's tag is an
 * etcd version, so etcd takes the apiserver's (kubeadm upgrades them together), else the oldest
 * minor the table pairs with its tag.
 */
export function sourceVersionOf(pod: StaticPod, apiserver: Version | undefined, releases: readonly MinorRelease[]): Version | undefined {
  const image = pod.template.spec?.containers[pod.mainIndex]?.image ?? '';
  if (pod.component === 'cni') return undefined;
  if (pod.component !== 'etcd') return kubernetesVersionOfImage(image);
  if (apiserver !== undefined) return apiserver;
  const tag = parseImageRef(image).tag;
  const running = tag === undefined ? undefined : parseEtcdTag(tag);
  const paired = releases.find((r) => {
    const pairedTag = parseEtcdTag(r.etcdImageTag);
    return running !== undefined && pairedTag !== undefined && compareEtcdTags(running, pairedTag) === 0;
  });
  const m = paired === undefined ? null : /^([0-9]+)\.([0-9]+)$/.exec(paired.minor);
  return m ? { major: Number(m[1]), minor: Number(m[2]), patch: 0 } : undefined;
}

function podContext(pod: StaticPod, node: NodeIdentity) {
  return {
    component: pod.component,
    manifest: pod.path,
    mainContainer: pod.mainContainer,
    commandLayout: pod.commandLayout,
    node,
  };
}

/**
 * sha256 of the normalised source pod (see ConvertedComponent.sourceHash). `node` is the identity
 * of the node the manifest comes from.
 */
export function computeSourceHash(pod: StaticPod, node: NodeIdentity): string {
  return sha256Hex(canonicalJson(runPipeline(pod.template, podContext(pod, node), SOURCE_NORMALISATION)));
}

function nodeLocalAnnotationsOf(pod: StaticPod): Record<string, string> {
  const annotations = pod.pod.metadata?.annotations ?? {};
  return Object.fromEntries(Object.entries(annotations).filter(([key]) => isNodeLocalAnnotation(key)));
}

/** The directory (or directories) the manifests were read from, for messages. */
function manifestDirs(manifests: readonly ManifestSource[]): string {
  const dirs = [...new Set(manifests.map((m) => m.path.slice(0, Math.max(m.path.lastIndexOf('/'), 0)) || '/'))];
  return dirs.join(', ') || '(no manifests)';
}

/**
 * A listed control-plane component no manifest runs. The way out is to list fewer components;
 * for etcd the usual cause is an external etcd, which selfhost does not convert.
 */
function missingManifest(component: ComponentName, manifests: readonly ManifestSource[]): Refusal {
  const where = manifestDirs(manifests);
  const why = component === 'etcd' ? ' (an external etcd is not converted)' : '';
  return makeRefusal(
    'MissingManifest',
    where,
    `spec.components lists ${component} but ${manifests.length === 0 ? 'there are no manifests' : `no manifest in ${where} runs it`}${why}; to leave it out, list only the components to convert in spec.components (selfhost render: -f with such a ControlPlane)`,
    { component, field: 'spec.components' },
  );
}

export function computeDesiredWorkloads(input: ComputeDesiredWorkloadsInput): ConversionResult {
  const { spec } = input;
  const releases = input.releases ?? RELEASES;
  const wanted = COMPONENTS.filter((c) => spec.components.includes(c));
  const isWanted = (c: ComponentName | undefined): boolean => c === undefined || wanted.includes(c);
  const refusals: Refusal[] = [];

  const pods: StaticPod[] = [];
  /** Components whose manifest was found but refused: already reported, not "missing". */
  const refusedAtParse = new Set<ComponentName>();
  for (const manifest of input.manifests) {
    const parsed = parseStaticPod(manifest);
    if (parsed.ok) {
      pods.push(parsed.pod);
      continue;
    }
    const { component } = parsed.refusal;
    if (component !== undefined) refusedAtParse.add(component);
    if (isWanted(component)) refusals.push(parsed.refusal);
  }

  // Offline, an etcd member name that its own --initial-cluster contradicts says nothing about
  // the node's name: not learned, and etcd is refused (identity.ts, checkOfflineMemberName).
  const doubted = input.node?.name === undefined ? pods.flatMap((p) => checkOfflineMemberName(p) ?? []) : [];
  const claims = pods
    .flatMap(learnNodeIdentity)
    .filter((c) => !(c.kind === 'name' && doubted.some((d) => d.manifest === c.manifest)));
  const resolved = resolveNodeIdentity(input.node, claims);
  const { node } = resolved;
  const conflicts = [...resolved.conflicts, ...doubted];
  const blocked = new Set<ComponentName>();
  for (const conflict of conflicts) {
    if (conflict.component === undefined || !isWanted(conflict.component)) continue;
    refusals.push(conflict);
    blocked.add(conflict.component);
  }

  const versionText = input.version ?? spec.version;
  const target = parseVersion(versionText);
  const apiserverPod = pods.find((p) => p.component === 'kube-apiserver');
  const apiserverVersion = apiserverPod === undefined ? undefined : sourceVersionOf(apiserverPod, undefined, releases);

  const components: ConvertedComponent[] = [];
  const workloads: (V1DaemonSet | V1Deployment)[] = [];
  for (const component of wanted) {
    const mine = pods.filter((p) => p.component === component);
    const [pod, second] = mine;
    if (pod === undefined) {
      // kube-proxy and the CNI are usually DaemonSets already (adopted, see adopt.ts).
      if (isControlPlaneComponent(component) && !refusedAtParse.has(component)) refusals.push(missingManifest(component, input.manifests));
      continue;
    }
    if (second !== undefined) {
      for (const p of mine) {
        const others = mine.filter((o) => o !== p).map((o) => o.path);
        refusals.push(
          makeRefusal(
            'DuplicateComponent',
            p.path,
            `${others.join(', ')} also run(s) ${component}; the kubelet runs every file in its manifest directory, so remove the extra one (backup files included)`,
            { component },
          ),
        );
      }
      continue;
    }
    if (blocked.has(component)) continue;
    if (target === undefined) {
      refusals.push(
        makeRefusal('UnsupportedVersion', pod.path, 'the target version is not vMAJOR.MINOR.PATCH', {
          component,
          field: 'spec.version',
          value: versionText,
        }),
      );
      continue;
    }
    const source = sourceVersionOf(pod, apiserverVersion, releases);
    const ctx: MutationContext = {
      ...podContext(pod, node),
      spec,
      target,
      source,
      releases,
      ...(input.handoverGateImage === undefined ? {} : { handoverGateImage: input.handoverGateImage }),
    };
    try {
      checkVersionMove({
        component,
        manifest: pod.path,
        image: pod.template.spec?.containers[pod.mainIndex]?.image ?? '',
        imageField: `spec.containers[${pod.mainIndex}].image`,
        source,
        target,
        apiserverNow: apiserverVersion,
        // A converted apiserver moves to the target with everything else.
        apiserverAfter: apiserverPod !== undefined && wanted.includes('kube-apiserver') ? target : apiserverVersion,
        releases,
        imageOverridden: spec.overrides?.[component]?.image !== undefined,
      });
      const template = convertTemplate(pod.template, ctx);
      const sourceHash = computeSourceHash(pod, node);
      const { workload, templateHash } = buildWorkload({
        component,
        template,
        sourceManifest: pod.path,
        sourceHash,
        replicas: input.controlPlaneNodes ?? 1,
      });
      workloads.push(workload);
      components.push({
        name: component,
        kind: WORKLOAD_SHAPES[component].kind,
        workloadName: workloadName(component),
        sourceManifest: pod.path,
        sourceHash,
        templateHash,
        ...(source === undefined ? {} : { sourceVersion: formatVersion(source) }),
        mainContainer: pod.mainContainer,
        nodeLocalAnnotations: nodeLocalAnnotationsOf(pod),
        ...(PORT_SHARING_COMPONENTS.has(component) ? { portSharingPrep: computePortSharingPrep(pod) } : {}),
      });
    } catch (error) {
      if (!(error instanceof RefusalError)) throw error;
      refusals.push(error.refusal);
    }
  }

  return {
    workloads: workloads.sort((a, b) => cmp(a.metadata?.name ?? '', b.metadata?.name ?? '')),
    components: components.sort((a, b) => cmp(a.workloadName, b.workloadName)),
    refusals: refusals.sort(compareRefusals),
    node,
  };
}

export { computeDesiredAdoptedDaemonSet, findCniDaemonSet, isCniDaemonSet } from './adopt.js';
export type { AdoptableComponent, AdoptionResult, CniLookup } from './adopt.js';
export { WORKLOAD_SHAPES, workloadName } from './build.js';
export { parseStaticPod } from './parse.js';
export type { ManifestSource, ParseResult } from './parse.js';
export { PIPELINES, pipelineSteps } from './pipelines.js';
export { formatRefusal } from './refusal.js';
export type { Refusal, RefusalCode } from './refusal.js';
export type { NodeIdentity, StaticPod } from './types.js';
