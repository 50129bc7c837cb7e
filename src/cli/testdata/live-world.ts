/**
 * Builders of the wire objects the live commands read (Nodes, kube-system pods, workloads, a
 * ControlPlane), for the status and live-plan tests: only the fields those commands look at.
 */
import type { ComponentName, ControlPlane, ControlPlaneStatus } from '../../api/types.js';
import type { JsonObject, KubeClient } from '../../kube/client.js';

export const NOW = new Date('2026-05-01T12:00:00Z');

/** `seconds` before NOW, as the API writes times. */
export function ago(seconds: number): string {
  return new Date(NOW.getTime() - seconds * 1000).toISOString().replace(/\.000Z$/, 'Z');
}

export function node(name: string, opts: { ready?: boolean; kubelet?: string; controlPlane?: boolean } = {}): JsonObject {
  return {
    kind: 'Node',
    metadata: { name, uid: `uid-${name}`, labels: opts.controlPlane === false ? {} : { 'node-role.kubernetes.io/control-plane': '' } },
    status: {
      conditions: [{ type: 'Ready', status: opts.ready === false ? 'False' : 'True' }],
      addresses: [{ type: 'InternalIP', address: '192.0.2.10' }],
      nodeInfo: { kubeletVersion: opts.kubelet ?? 'v1.37.1' },
    },
  };
}

const IMAGES: Readonly<Record<ComponentName, (v: string) => string>> = {
  etcd: (v) => `registry.k8s.io/etcd:${v}-0`,
  'kube-apiserver': (v) => `registry.k8s.io/kube-apiserver:${v}`,
  'kube-controller-manager': (v) => `registry.k8s.io/kube-controller-manager:${v}`,
  'kube-scheduler': (v) => `registry.k8s.io/kube-scheduler:${v}`,
  'kube-proxy': (v) => `registry.k8s.io/kube-proxy:${v}`,
  cni: (v) => `docker.io/example/cni:${v}`,
};

export interface PodOptions {
  /** static: kubeadm's mirror pod; self-hosted: a pod of selfhost's workload; checkpoint: the checkpoint's mirror pod; daemonset: a pod of the DaemonSet `owner`. */
  mode: 'static' | 'self-hosted' | 'checkpoint' | 'daemonset';
  version: string;
  ready?: boolean;
  restarts?: number;
  deleting?: boolean;
  owner?: string;
  /** A waiting reason (CrashLoopBackOff, ...) on the main container. */
  waiting?: string;
  name?: string;
}

export function pod(component: ComponentName, nodeName: string, o: PodOptions): JsonObject {
  const labels: Record<string, string> =
    o.mode === 'static'
      ? { component, tier: 'control-plane' }
      : o.mode === 'checkpoint'
        ? { 'selfhost.dev/checkpoint-of': component, 'app.kubernetes.io/managed-by': 'selfhost' }
        : o.mode === 'self-hosted'
          ? { 'selfhost.dev/component': component, 'app.kubernetes.io/managed-by': 'selfhost' }
          : { 'k8s-app': component };
  const mirror = o.mode === 'static' || o.mode === 'checkpoint';
  const name =
    o.name ??
    (o.mode === 'static' ? `${component}-${nodeName}` : o.mode === 'checkpoint' ? `selfhost-checkpoint-${component}-${nodeName}` : `${component}-${o.mode}-${nodeName}`);
  return {
    kind: 'Pod',
    metadata: {
      name,
      namespace: 'kube-system',
      labels,
      annotations: mirror ? { 'kubernetes.io/config.mirror': 'x' } : {},
      ...(o.owner === undefined ? {} : { ownerReferences: [{ kind: 'DaemonSet', name: o.owner }] }),
      ...(o.deleting === true ? { deletionTimestamp: ago(1) } : {}),
    },
    spec: { nodeName, containers: [{ name: component, image: IMAGES[component](o.version) }] },
    status: {
      conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True', lastTransitionTime: ago(600) }],
      containerStatuses: [
        {
          name: component,
          restartCount: o.restarts ?? 0,
          state: o.waiting === undefined ? { running: {} } : { waiting: { reason: o.waiting } },
          ...(o.waiting === undefined ? {} : { lastState: { terminated: { exitCode: 1, message: 'flag provided but not defined: -bad' } } }),
        },
      ],
    },
  };
}

export function daemonSet(name: string, labels: Record<string, string> = {}): JsonObject {
  return { kind: 'DaemonSet', metadata: { name, namespace: 'kube-system', labels }, spec: {}, status: {} };
}

export function controlPlane(status: ControlPlaneStatus | undefined, spec: Partial<ControlPlane['spec']> = {}, generation = 1): ControlPlane {
  return {
    apiVersion: 'selfhost.dev/v1alpha1',
    kind: 'ControlPlane',
    metadata: { name: 'cluster', generation },
    spec: {
      version: 'v1.37.1',
      mode: 'SelfHosted',
      paused: false,
      components: ['cni', 'kube-proxy', 'kube-scheduler', 'kube-controller-manager', 'kube-apiserver', 'etcd'],
      etcd: { snapshotBeforeUpgrade: true, snapshotRetention: 3 },
      cni: { namespace: 'kube-system' },
      upgrade: { healthTimeout: '5m', autoRollback: true },
      ...spec,
    },
    ...(status === undefined ? {} : { status }),
  };
}

/** The four control-plane components of one node, all in one mode and version. */
export function controlPlanePods(nodeName: string, mode: PodOptions['mode'], version: string, etcd = '3.7.0'): JsonObject[] {
  return (['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler'] as const).map((c) =>
    pod(c, nodeName, { mode, version: c === 'etcd' ? etcd : version }),
  );
}

/** What a fake API serves: mutable, so a test can change the world between reads. */
export interface FakeWorld {
  controlPlane?: ControlPlane;
  nodes: JsonObject[];
  pods: JsonObject[];
  daemonSets?: JsonObject[];
  deployments?: JsonObject[];
  /** Every request fails with this (the API is down). */
  down?: string;
}

/** A KubeClient over a FakeWorld: the reads the live commands make, nothing else. */
export function fakeClient(world: FakeWorld): KubeClient & { requests: string[] } {
  const requests: string[] = [];
  const check = (path: string): void => {
    requests.push(path);
    if (world.down !== undefined) throw new Error(`GET ${path}: ${world.down}`);
  };
  const lists: Record<string, () => JsonObject[]> = {
    '/api/v1/nodes': () => world.nodes,
    '/api/v1/namespaces/kube-system/pods': () => world.pods,
    '/apis/apps/v1/namespaces/kube-system/daemonsets': () => world.daemonSets ?? [],
    '/apis/apps/v1/namespaces/kube-system/deployments': () => world.deployments ?? [],
  };
  const refuse = (): never => {
    throw new Error('the live commands only read');
  };
  return {
    requests,
    get: (path) => {
      check(path);
      const name = world.controlPlane?.metadata.name;
      return Promise.resolve(name !== undefined && path === `/apis/selfhost.dev/v1alpha1/controlplanes/${name}` ? (world.controlPlane as unknown as JsonObject) : undefined);
    },
    list: (path) => {
      check(path);
      const items = lists[path];
      if (items === undefined) throw new Error(`unexpected list ${path}`);
      return Promise.resolve(items());
    },
    apply: refuse,
    create: refuse,
    replace: refuse,
    delete: refuse,
  };
}
