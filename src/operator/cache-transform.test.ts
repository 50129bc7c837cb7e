import type { KubernetesObject } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { agentConfigMapName, parseAgentDesired } from '../api/agent.js';
import type { JsonObject } from '../kube/client.js';
import { computeCachedObject, computeCachedPod, computeCacheTransform } from './cache-transform.js';
import { computeDesiredState } from './desired.js';
import { computePivotPlan, computeWantedStates } from './pivot-plan.js';
import { computeSnapshot, type RawWorld } from './snapshot.js';
import { IMAGE, SimWorld } from './testdata/world.js';

const PODS = '/api/v1/namespaces/kube-system/pods';
const managedFields = [
  { manager: 'kube-controller-manager', operation: 'Update', apiVersion: 'v1', fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': { 'f:containers': {} } } },
  { manager: 'kubelet', operation: 'Update', subresource: 'status', fieldsType: 'FieldsV1', fieldsV1: { 'f:status': { 'f:conditions': {} } } },
];

/** What a pod's spec carries besides what the operator reads, as the DaemonSet controller writes it. */
const heavySpec = {
  volumes: [{ name: 'kube-proxy', configMap: { name: 'kube-proxy' } }, { name: 'xtables-lock', hostPath: { path: '/run/xtables.lock', type: 'FileOrCreate' } }],
  tolerations: [{ operator: 'Exists' }, { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' }],
  affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['cp1'] }] }] } } },
  serviceAccountName: 'kube-proxy',
  priorityClassName: 'system-node-critical',
  hostNetwork: true,
  initContainers: [{ name: 'init', image: 'busybox', command: ['true'] }],
};
const heavyContainer = {
  env: [{ name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } }],
  volumeMounts: [{ name: 'kube-proxy', mountPath: '/var/lib/kube-proxy' }],
  securityContext: { privileged: true },
  resources: { requests: { cpu: '100m' } },
  livenessProbe: { httpGet: { path: '/livez', port: 10256 } },
  imagePullPolicy: 'IfNotPresent',
};
const status = {
  phase: 'Running',
  hostIP: '192.0.2.10',
  conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: '2026-11-25T09:00:00Z' }],
  containerStatuses: [{ name: 'main', ready: true, restartCount: 1, state: { running: { startedAt: '2026-11-25T09:00:00Z' } }, imageID: 'sha256:abc' }],
};

function pod(meta: JsonObject, container: JsonObject = { name: 'main', image: 'registry.k8s.io/kube-proxy:v1.37.2', command: ['/usr/local/bin/kube-proxy'], args: ['--v=2'] }): JsonObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { namespace: 'kube-system', uid: 'u-1', resourceVersion: '42', ownerReferences: [{ kind: 'DaemonSet', name: 'x' }], managedFields, ...meta },
    spec: { nodeName: 'cp1', containers: [{ ...container, ...heavyContainer }, { name: 'sidecar', image: 'sidecar:1', ...heavyContainer }], ...heavySpec },
    status,
  };
}

/** The slim form of `pod(meta)`: metadata without managedFields, containers' name/image/command/args, status. */
function slim(meta: JsonObject, container: JsonObject = { name: 'main', image: 'registry.k8s.io/kube-proxy:v1.37.2', command: ['/usr/local/bin/kube-proxy'], args: ['--v=2'] }): JsonObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { namespace: 'kube-system', uid: 'u-1', resourceVersion: '42', ownerReferences: [{ kind: 'DaemonSet', name: 'x' }], ...meta },
    spec: { nodeName: 'cp1', containers: [container, { name: 'sidecar', image: 'sidecar:1' }] },
    status,
  };
}

function stub(name: string, labels?: Record<string, string>): JsonObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'kube-system', uid: 'u-1', resourceVersion: '42', ...(labels === undefined ? {} : { labels }) } };
}

function withoutManagedFields(obj: JsonObject): JsonObject {
  const meta = { ...(obj['metadata'] as JsonObject) };
  delete meta['managedFields'];
  return { ...obj, metadata: meta };
}

describe('computeCachedPod', () => {
  const mirrorMeta = { name: 'kube-apiserver-cp1', annotations: { 'kubernetes.io/config.mirror': 'h', 'kubernetes.io/config.source': 'file' } };
  const snapshotPod = pod({ name: 'selfhost-etcd-snapshot-x-abcde', labels: { 'selfhost.dev/component': 'etcd-snapshot', 'batch.kubernetes.io/job-name': 'selfhost-etcd-snapshot-x' } });
  it.each<[string, JsonObject, JsonObject]>([
    ['a pod no pass reads (coredns): a stub of identity and labels', pod({ name: 'coredns-1', labels: { 'k8s-app': 'kube-dns' } }), stub('coredns-1', { 'k8s-app': 'kube-dns' })],
    ['kube-proxy before its adoption (no selfhost label): a stub', pod({ name: 'kube-proxy-a', labels: { 'k8s-app': 'kube-proxy' } }), stub('kube-proxy-a', { 'k8s-app': 'kube-proxy' })],
    ['a pod without labels no pass reads: a stub without labels', pod({ name: 'lonely' }), stub('lonely')],
    [
      'an adopted kube-proxy pod (selfhost label): slim',
      pod({ name: 'kube-proxy-b', labels: { 'k8s-app': 'kube-proxy', 'selfhost.dev/component': 'kube-proxy' } }),
      slim({ name: 'kube-proxy-b', labels: { 'k8s-app': 'kube-proxy', 'selfhost.dev/component': 'kube-proxy' } }),
    ],
    ['a mirror pod known by its name only: slim, command kept', pod(mirrorMeta), slim(mirrorMeta)],
    [
      "a self-hosted component's pod with its template hash: slim",
      pod({ name: 'selfhost-etcd-x', labels: { 'selfhost.dev/component': 'etcd' }, annotations: { 'selfhost.dev/template-hash': 'abc' } }),
      slim({ name: 'selfhost-etcd-x', labels: { 'selfhost.dev/component': 'etcd' }, annotations: { 'selfhost.dev/template-hash': 'abc' } }),
    ],
    ["the node agent's pod: slim", pod({ name: 'selfhost-agent-x', labels: { 'selfhost.dev/component': 'agent' } }), slim({ name: 'selfhost-agent-x', labels: { 'selfhost.dev/component': 'agent' } })],
    ["an etcd snapshot Job's pod: whole but managedFields (read raw)", snapshotPod, withoutManagedFields(snapshotPod)],
    [
      'a deleting component pod keeps its deletionTimestamp',
      pod({ name: 'selfhost-etcd-y', labels: { 'selfhost.dev/component': 'etcd' }, deletionTimestamp: '2026-11-25T09:00:00Z' }),
      slim({ name: 'selfhost-etcd-y', labels: { 'selfhost.dev/component': 'etcd' }, deletionTimestamp: '2026-11-25T09:00:00Z' }),
    ],
  ])('%s', (_name, input, want) => {
    const before = structuredClone(input);
    expect(computeCachedPod(input)).toEqual(want);
    expect(input, 'the input is not mutated').toEqual(before);
  });

  it('a component pod with no spec or status gets no status and an empty container list', () => {
    const bare = { metadata: { name: 'etcd-cp1', labels: { component: 'etcd' }, annotations: { 'kubernetes.io/config.mirror': 'h' } } };
    expect(computeCachedPod(bare)).toEqual({ metadata: bare.metadata, spec: { containers: [] } });
  });
});

describe('computeCacheTransform', () => {
  const node: JsonObject = {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: 'cp1', resourceVersion: '9', labels: { 'node-role.kubernetes.io/control-plane': '' }, managedFields },
    status: { images: [{ names: ['registry.k8s.io/etcd:3.6.5'], sizeBytes: 1 }], conditions: [{ type: 'Ready', status: 'True' }] },
  };
  it.each<[string, string, JsonObject, JsonObject]>([
    ['pods: computeCachedPod', PODS, pod({ name: 'coredns-1' }), stub('coredns-1')],
    ['nodes: only managedFields dropped', '/api/v1/nodes', node, withoutManagedFields(node)],
    [
      'DaemonSets: only managedFields dropped',
      '/apis/apps/v1/namespaces/kube-system/daemonsets',
      { kind: 'DaemonSet', metadata: { name: 'kube-proxy', managedFields }, spec: heavySpec },
      { kind: 'DaemonSet', metadata: { name: 'kube-proxy' }, spec: heavySpec },
    ],
  ])('%s', (_name, path, input, want) => {
    expect(computeCachedObject(path, input)).toEqual(want);
    expect(computeCacheTransform(path)(input as unknown as KubernetesObject)).toEqual(want);
  });
});

describe('a pass reads the same world from the cached pods', () => {
  /** The simulator's pods as the API would hold them: with managedFields, full specs, and other pods around. */
  function asApiHolds(raw: RawWorld): RawWorld {
    const pods = raw.pods.map((p) => {
      const spec = (p['spec'] ?? {}) as JsonObject;
      const containers = ((spec['containers'] ?? []) as JsonObject[]).map((c) => ({ ...c, ...heavyContainer }));
      return { ...p, metadata: { ...(p['metadata'] as JsonObject), managedFields }, spec: { ...spec, ...heavySpec, containers } };
    });
    const others = [
      pod({ name: 'coredns-1', labels: { 'k8s-app': 'kube-dns' } }),
      pod({ name: 'kube-proxy-w1', labels: { 'k8s-app': 'kube-proxy' } }),
      pod({ name: 'static-web-cp1', annotations: { 'kubernetes.io/config.mirror': 'h' } }),
    ];
    return { ...raw, pods: [...pods, ...others] };
  }
  const cached = (raw: RawWorld): RawWorld => ({ ...raw, pods: raw.pods.map(computeCachedPod) });
  const whole = (raw: RawWorld): RawWorld => ({ ...raw, pods: raw.pods.map(withoutManagedFields) });

  it('at every step of a pivot: the same snapshot and the same next action', () => {
    const w = new SimWorld();
    const seen: string[] = [];
    for (let i = 0; i < 100; i++) {
      const api = asApiHolds(w.raw());
      const fromCache = computeSnapshot(cached(api), agentConfigMapName);
      expect(fromCache).toEqual(computeSnapshot(whole(api), agentConfigMapName));
      const { action } = computePivotPlan(fromCache, computeDesiredState(fromCache, { image: IMAGE }), computeWantedStates(fromCache, parseAgentDesired));
      expect(action).toEqual(w.plan().action);
      seen.push(action.type);
      if (action.type === 'Done' || action.type === 'Blocked' || action.type === 'Wait') break;
      w.apply(action);
    }
    expect(seen.at(-1)).toBe('Done');
    expect(seen.length).toBeGreaterThan(5);
  });
});
