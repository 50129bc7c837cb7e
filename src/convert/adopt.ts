/**
 * Adoption: kube-proxy and the CNI usually already run as DaemonSets (kubeadm's addon, the CNI's
 * installer). selfhost takes them over where they are, with server-side apply on the same object:
 * nothing is recreated and their selectors (immutable) stay.
 */
import type { V1DaemonSet, V1ObjectMeta, V1PodTemplateSpec } from '@kubernetes/client-node';
import {
  ANNOTATION_TEMPLATE_HASH,
  LABEL_COMPONENT,
  LABEL_MANAGED_BY,
  MANAGED_BY_VALUE,
} from '../api/constants.js';
import type { CniSpec, ControlPlaneSpec } from '../api/types.js';
import { parseVersion, type Version } from '../api/version.js';
import { RELEASES, type MinorRelease } from '../versions/table.js';
import { WORKLOAD_SHAPES } from './build.js';
import { analyseCommandLine } from './command.js';
import { computeTemplateHash, toPlainJson } from './hash.js';
import { findMainContainer } from './identify.js';
import { kubernetesVersionOfImage } from './images.js';
import { retargetCniImages, retargetImage } from './mutators/image.js';
import { applyExtraArgs, applyResources } from './mutators/overrides.js';
import { makeRefusal, RefusalError, type Refusal } from './refusal.js';
import { runPipeline } from './pipelines.js';
import type { CommandLayout, MutationContext } from './types.js';
import { checkVersionMove } from './version-move.js';

export type AdoptableComponent = 'kube-proxy' | 'cni';

export type AdoptionResult =
  | {
      readonly ok: true;
      /** The object to server-side apply (plain JSON, keys sorted). */
      readonly daemonSet: V1DaemonSet;
      /** sha256 of the resulting pod template (also on the DaemonSet as selfhost.dev/template-hash). */
      readonly templateHash: string;
    }
  | { readonly ok: false; readonly refusal: Refusal };

export const CNI_CONFIG_DIR = '/etc/cni/net.d';

/** Annotations that the API server (or kubectl) maintains; applying them would freeze them. */
const SERVER_ANNOTATIONS = [
  'deprecated.daemonset.template.generation',
  'kubectl.kubernetes.io/last-applied-configuration',
];

function describe(ds: V1DaemonSet): string {
  return `DaemonSet ${ds.metadata?.namespace ?? '?'}/${ds.metadata?.name ?? '?'}`;
}

function trimSlashes(path: string): string {
  return path.length > 1 ? path.replace(/\/+$/, '') : path;
}

/** A DaemonSet that mounts the host's CNI configuration directory installs a CNI plugin. */
export function isCniDaemonSet(ds: V1DaemonSet): boolean {
  return (ds.spec?.template.spec?.volumes ?? []).some(
    (v) => v.hostPath !== undefined && trimSlashes(v.hostPath.path) === CNI_CONFIG_DIR,
  );
}

export type CniLookup =
  | { readonly ok: true; readonly daemonSet: V1DaemonSet }
  | { readonly ok: false; readonly refusal: Refusal };

/**
 * The CNI DaemonSet in spec.cni.namespace: by spec.cni.name, else by spec.cni.selector (matching
 * the DaemonSet's own labels), else the one DaemonSet there that mounts /etc/cni/net.d. None or
 * several is refused: guessing which DaemonSet runs the pod network is not an option.
 */
export function findCniDaemonSet(list: readonly V1DaemonSet[], cni: CniSpec): CniLookup {
  const inNamespace = list.filter((ds) => ds.metadata?.namespace === cni.namespace);
  const where = `namespace ${cni.namespace}`;
  const one = (found: V1DaemonSet[], how: string, field: string, value?: string): CniLookup => {
    const [first, second] = found;
    if (first !== undefined && second === undefined) return { ok: true, daemonSet: first };
    const names = found.map((ds) => ds.metadata?.name ?? '?').join(', ');
    return {
      ok: false,
      refusal:
        first === undefined
          ? makeRefusal('CniNotFound', where, `no DaemonSet in ${where} ${how}`, { component: 'cni', field, value })
          : makeRefusal(
              'CniAmbiguous',
              where,
              `${found.length} DaemonSets in ${where} ${how} (${names}); set spec.cni.name to the one that runs the pod network`,
              { component: 'cni', field, value },
            ),
    };
  };
  if (cni.name !== undefined) {
    return one(
      inNamespace.filter((ds) => ds.metadata?.name === cni.name),
      `is named ${cni.name}`,
      'spec.cni.name',
      cni.name,
    );
  }
  const selector = cni.selector;
  if (selector !== undefined) {
    const matches = (ds: V1DaemonSet): boolean =>
      Object.entries(selector).every(([k, v]) => ds.metadata?.labels?.[k] === v);
    return one(
      inNamespace.filter(matches),
      'has the labels of spec.cni.selector',
      'spec.cni.selector',
      JSON.stringify(selector),
    );
  }
  return one(inNamespace.filter(isCniDaemonSet), `mounts ${CNI_CONFIG_DIR} from the host`, 'spec.cni');
}

/** Drops what the API server owns: status, identity, bookkeeping. */
function stripServerFields(ds: V1DaemonSet): V1DaemonSet {
  const copy = structuredClone(ds);
  delete copy.status;
  const meta: V1ObjectMeta = { ...copy.metadata };
  delete meta.uid;
  delete meta.resourceVersion;
  delete meta.generation;
  delete meta.creationTimestamp;
  delete meta.managedFields;
  delete meta.selfLink;
  if (meta.annotations !== undefined) {
    const kept = Object.fromEntries(Object.entries(meta.annotations).filter(([k]) => !SERVER_ANNOTATIONS.includes(k)));
    meta.annotations = kept;
  }
  copy.metadata = meta;
  if (copy.spec?.template.metadata !== undefined) delete copy.spec.template.metadata.creationTimestamp;
  return copy;
}

/** kube-proxy: the image (and overrides) for the target version. cni: spec.cni.image only. */
function adoptedTemplate(
  template: V1PodTemplateSpec,
  component: AdoptableComponent,
  spec: ControlPlaneSpec,
  target: Version,
  releases: readonly MinorRelease[],
  manifest: string,
): V1PodTemplateSpec {
  if (component === 'cni') {
    if ((spec.overrides?.cni?.extraArgs ?? []).length > 0) {
      throw new RefusalError(
        makeRefusal('UnsupportedOverride', manifest, "an adopted CNI's command line is kept as the plugin ships it", {
          component,
          field: 'spec.overrides.cni.extraArgs',
        }),
      );
    }
    return retargetCniImages(template, spec.overrides?.cni?.image ?? spec.cni.image);
  }
  const containers = template.spec?.containers ?? [];
  const main = findMainContainer(containers, component);
  const container = main.ok ? containers[main.index] : undefined;
  if (!main.ok || container === undefined) {
    throw new RefusalError(
      makeRefusal('AmbiguousMainContainer', manifest, main.ok ? 'no kube-proxy container' : main.reason, {
        component,
        field: 'spec.template.spec.containers',
      }),
    );
  }
  const analysed = analyseCommandLine(container, `spec.template.spec.containers[${main.ok ? main.index : 0}]`);
  const layout: CommandLayout = analysed.ok
    ? { kind: 'flags', location: analysed.line.location, prefix: analysed.line.prefix, singleDashLongFlags: false }
    : { kind: 'raw' };
  const ctx: MutationContext = {
    component,
    manifest,
    mainContainer: container.name,
    commandLayout: layout,
    node: {},
    spec,
    target,
    source: undefined,
    releases,
  };
  // Only what adoption changes: no sorting or normalising of a template that is not ours yet,
  // so adopting at the running version restarts nothing.
  const adopted = runPipeline(template, ctx, [retargetImage, applyExtraArgs, applyResources]);
  // The same version rules as a static kube-proxy; `target` is what the apiserver runs (the
  // operator adopts at the running version).
  const image = container.image ?? '';
  checkVersionMove({
    component,
    manifest,
    image,
    imageField: `spec.template.spec.containers[${main.index}].image`,
    source: kubernetesVersionOfImage(image),
    target,
    apiserverNow: target,
    apiserverAfter: target,
    releases,
    imageOverridden: spec.overrides?.['kube-proxy']?.image !== undefined,
  });
  return adopted;
}

/**
 * The DaemonSet selfhost applies to take over an existing kube-proxy or CNI DaemonSet: same name
 * and namespace, server-populated fields stripped, selfhost's labels and the template hash on the
 * DaemonSet itself. The pod template is left as found apart from the image (kube-proxy: the
 * target version; cni: spec.cni.image when set) and the overrides, so adopting never rolls the
 * pods by itself. The selector is never touched (immutable). kube-proxy gets the design's update
 * strategy (one node at a time, no surge); a CNI keeps its own.
 */
export function computeDesiredAdoptedDaemonSet(
  existing: V1DaemonSet,
  component: AdoptableComponent,
  spec: ControlPlaneSpec,
  version: string,
  releases: readonly MinorRelease[] = RELEASES,
): AdoptionResult {
  const manifest = describe(existing);
  const target = parseVersion(version);
  if (target === undefined) {
    return {
      ok: false,
      refusal: makeRefusal('UnsupportedVersion', manifest, 'the target version is not vMAJOR.MINOR.PATCH', {
        component,
        field: 'spec.version',
        value: version,
      }),
    };
  }
  const ds = stripServerFields(existing);
  const template = ds.spec?.template;
  if (ds.spec === undefined || template === undefined) {
    return { ok: false, refusal: makeRefusal('NotAPod', manifest, 'the DaemonSet has no pod template', { component }) };
  }
  let adopted: V1PodTemplateSpec;
  try {
    adopted = adoptedTemplate(template, component, spec, target, releases, manifest);
  } catch (error) {
    if (error instanceof RefusalError) return { ok: false, refusal: error.refusal };
    throw error;
  }
  const plainTemplate = toPlainJson(adopted);
  const templateHash = computeTemplateHash(plainTemplate);
  const shape = WORKLOAD_SHAPES[component];
  const updateStrategy =
    component === 'kube-proxy' && shape.kind === 'DaemonSet' ? shape.updateStrategy : ds.spec.updateStrategy;
  const daemonSet: V1DaemonSet = {
    ...ds,
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: {
      ...ds.metadata,
      labels: { ...ds.metadata?.labels, [LABEL_MANAGED_BY]: MANAGED_BY_VALUE, [LABEL_COMPONENT]: component },
      annotations: { ...ds.metadata?.annotations, [ANNOTATION_TEMPLATE_HASH]: templateHash },
    },
    spec: {
      ...ds.spec,
      template: plainTemplate,
      ...(updateStrategy === undefined ? {} : { updateStrategy }),
    },
  };
  return { ok: true, daemonSet: toPlainJson(daemonSet), templateHash };
}
