/**
 * Which component a static pod runs, and which of its containers runs it.
 *
 * Evidence, strongest first: kubeadm's labels (`component: <name>`, `tier: control-plane`) or
 * selfhost's own component label; the binary a container runs; a container's name; the image
 * name; the file name. The main container is the one running the component's binary; the others
 * are sidecars and are kept as they are.
 */
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { COMPONENTS, CONTROL_PLANE_COMPONENTS, type ComponentName, type ControlPlaneComponentName } from '../api/types.js';
import { LABEL_COMPONENT } from '../api/constants.js';
import { basename, firstWord } from './command.js';
import { parseImageRef } from './images.js';
import type { IdentifiedBy } from './types.js';

/** Binaries that identify a component. CNI agents are recognised by their usual binaries. */
const BINARY_COMPONENT: Readonly<Record<string, ComponentName>> = {
  etcd: 'etcd',
  'kube-apiserver': 'kube-apiserver',
  'kube-controller-manager': 'kube-controller-manager',
  'kube-scheduler': 'kube-scheduler',
  'kube-proxy': 'kube-proxy',
  flanneld: 'cni',
  'calico-node': 'cni',
  'cilium-agent': 'cni',
  'kube-router': 'cni',
};

export function isComponentName(value: unknown): value is ComponentName {
  return COMPONENTS.some((c) => c === value);
}

/** etcd, kube-apiserver, kube-controller-manager, kube-scheduler: static pods on control-plane nodes. */
export function isControlPlaneComponent(component: ComponentName): component is ControlPlaneComponentName {
  return CONTROL_PLANE_COMPONENTS.some((c) => c === component);
}

/** The component a container's binary runs, if it is one of ours. */
export function binaryComponent(container: V1Container): ComponentName | undefined {
  const word = firstWord(container);
  return word === undefined ? undefined : BINARY_COMPONENT[basename(word)];
}

/** True when `binary` (a path or name) is the component's own binary. */
export function isComponentBinary(component: ComponentName, binary: string): boolean {
  return BINARY_COMPONENT[basename(binary)] === component;
}

function imageComponent(container: V1Container): ComponentName | undefined {
  if (container.image === undefined) return undefined;
  const name = basename(parseImageRef(container.image).repository);
  return isComponentName(name) ? name : undefined;
}

export function fileComponent(path: string): ComponentName | undefined {
  const name = basename(path).replace(/\.(ya?ml|json|manifest)$/, '');
  return isComponentName(name) ? name : undefined;
}

export interface Identification {
  readonly component: ComponentName;
  readonly by: IdentifiedBy;
}

/**
 * The `component` label of a pod whose kubeadm labels (`tier: control-plane` + `component`) name
 * something that is not one of selfhost's components, e.g. a second scheduler run as a static pod
 * (`component: my-scheduler`). Such a pod may run a component's binary, but it is another
 * component: converting it would take it for (and collide with) the real one.
 */
export function foreignComponentLabel(pod: V1Pod): string | undefined {
  const labels = pod.metadata?.labels ?? {};
  if (labels[LABEL_COMPONENT] !== undefined) return undefined;
  const kubeadm = labels['component'];
  return labels['tier'] === 'control-plane' && kubeadm !== undefined && !isComponentName(kubeadm) ? kubeadm : undefined;
}

export function identifyComponent(pod: V1Pod, path: string): Identification | undefined {
  const labels = pod.metadata?.labels ?? {};
  const own = labels[LABEL_COMPONENT];
  if (isComponentName(own)) return { component: own, by: 'labels' };
  const kubeadm = labels['component'];
  if (labels['tier'] === 'control-plane' && isComponentName(kubeadm)) return { component: kubeadm, by: 'labels' };
  if (foreignComponentLabel(pod) !== undefined) return undefined;

  const containers = pod.spec?.containers ?? [];
  const probes: [IdentifiedBy, (c: V1Container) => ComponentName | undefined][] = [
    ['binary', binaryComponent],
    ['container-name', (c) => (isComponentName(c.name) ? c.name : undefined)],
    ['image', imageComponent],
  ];
  for (const [by, probe] of probes) {
    const found = containers.map(probe).find((c) => c !== undefined);
    if (found !== undefined) return { component: found, by };
  }
  const byFile = fileComponent(path);
  return byFile === undefined ? undefined : { component: byFile, by: 'file-name' };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The component a file that did not parse as a Pod is most likely for: its labels, else its file
 * name. Only for reporting: a refused kube-scheduler.yaml is the scheduler's manifest, refused, not
 * a missing one.
 */
export function guessComponent(doc: unknown, path: string): ComponentName | undefined {
  const metadata = isRecord(doc) ? doc['metadata'] : undefined;
  const raw = isRecord(metadata) ? metadata['labels'] : undefined;
  const labels = isRecord(raw) ? raw : {};
  const own = labels[LABEL_COMPONENT];
  if (isComponentName(own)) return own;
  const kubeadm = labels['component'];
  if (labels['tier'] === 'control-plane') return isComponentName(kubeadm) ? kubeadm : undefined;
  return fileComponent(path);
}

export type MainContainerResult =
  | { readonly ok: true; readonly index: number }
  | { readonly ok: false; readonly duplicate: boolean; readonly reason: string };

/**
 * The container running the component: by binary, else by name, else by image, else the only
 * container. Two containers running the component's binary is refused: selfhost cannot tell which
 * one's flags are the component's.
 */
export function findMainContainer(containers: readonly V1Container[], component: ComponentName): MainContainerResult {
  const byBinary = indexesWhere(containers, (c) => binaryComponent(c) === component);
  if (byBinary.length > 1) {
    return {
      ok: false,
      duplicate: true,
      reason: `containers ${byBinary.map((i) => containers[i]?.name).join(', ')} all run ${component}; a pod runs one instance`,
    };
  }
  const candidates = [
    byBinary,
    indexesWhere(containers, (c) => c.name === component),
    indexesWhere(containers, (c) => imageComponent(c) === component),
    containers.length === 1 ? [0] : [],
  ];
  for (const found of candidates) {
    const [only, second] = found;
    if (only !== undefined && second === undefined) return { ok: true, index: only };
  }
  return {
    ok: false,
    duplicate: false,
    reason: `none of the containers (${containers.map((c) => c.name).join(', ')}) can be told to run ${component}: none runs its binary, is named after it or uses its image`,
  };
}

function indexesWhere<T>(items: readonly T[], pred: (item: T) => boolean): number[] {
  return items.flatMap((item, i) => (pred(item) ? [i] : []));
}
