/**
 * Tier sim really does what the operator needs from a cluster: fake nodes Ready with kubeadm's
 * control-plane labels and taints, and the real DaemonSet/Deployment controllers and scheduler
 * placing, rolling and replacing pods (faked Running/Ready by kwok).
 */
import { randomBytes } from 'node:crypto';
import { AppsV1Api, CoordinationV1Api, CoreV1Api, type V1DaemonSet, type V1DaemonSetUpdateStrategy, type V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { captureLogsOnFailure } from '../support/failure-logs.js';
import { kubeConfigFrom } from '../support/kube.js';
import { waitFor, waitForNodesReady, waitForRollout } from '../support/wait.js';

captureLogsOnFailure();
const kc = kubeConfigFrom(inject('kubeconfig'));
const nodes = inject('simNodes');
const core = kc.makeApiClient(CoreV1Api);
const apps = kc.makeApiClient(AppsV1Api);
const leases = kc.makeApiClient(CoordinationV1Api);
const namespace = `sim-${randomBytes(3).toString('hex')}`;
const CP = 'node-role.kubernetes.io/control-plane';

beforeAll(async () => {
  await core.createNamespace({ body: { metadata: { name: namespace } } });
  // Pods are refused until the serviceaccount controller has made the namespace's default SA.
  await waitFor(`ServiceAccount ${namespace}/default`, async () => {
    await core.readNamespacedServiceAccount({ namespace, name: 'default' });
    return true;
  });
});

afterAll(async () => {
  await core.deleteNamespace({ name: namespace });
});

async function podsOf(app: string): Promise<V1Pod[]> {
  const list = await core.listNamespacedPod({ namespace, labelSelector: `app=${app}` });
  return list.items.filter((p) => !p.metadata?.deletionTimestamp);
}

describe('nodes', () => {
  it('are Ready: cp-N labelled and tainted like kubeadm control-plane nodes, worker-N plain', async () => {
    const all = [...nodes.controlPlane, ...nodes.workers];
    expect(nodes.controlPlane).toEqual(['cp-1', 'cp-2', 'cp-3']);
    expect(nodes.workers).toEqual(['worker-1', 'worker-2']);
    expect((await waitForNodesReady(kc, all.length)).sort()).toEqual([...all].sort());
    for (const name of all) {
      const node = await core.readNode({ name });
      const isCp = name.startsWith('cp-');
      expect(node.metadata?.labels?.[CP] !== undefined).toBe(isCp);
      expect(node.spec?.taints?.some((t) => t.key === CP && t.effect === 'NoSchedule') ?? false).toBe(isCp);
      expect(node.status?.addresses?.find((a) => a.type === 'InternalIP')?.address).toMatch(/^127\./);
      // kwok renews the node's Lease, which the node lifecycle controller reads as the heartbeat.
      const lease = await leases.readNamespacedLease({ namespace: 'kube-node-lease', name });
      expect(lease.spec?.renewTime).toBeDefined();
    }
  });
});

describe('DaemonSet', () => {
  const strategies: [string, V1DaemonSetUpdateStrategy][] = [
    ['maxUnavailable 1 (delete first)', { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } }],
    ['maxSurge 1 (new pod first, as a self-hosted control plane rolls)', {
      type: 'RollingUpdate',
      rollingUpdate: { maxSurge: 1, maxUnavailable: 0 },
    }],
  ];

  it.each(strategies)('tolerating the control-plane taint runs one Ready pod per node and rolls an image change: %s', async (_what, updateStrategy) => {
    const name = `ds-${randomBytes(2).toString('hex')}`;
    const body: V1DaemonSet = {
      metadata: { name },
      spec: {
        selector: { matchLabels: { app: name } },
        updateStrategy,
        template: {
          metadata: { labels: { app: name } },
          spec: {
            hostNetwork: true,
            tolerations: [{ key: CP, operator: 'Exists', effect: 'NoSchedule' }],
            containers: [{ name: 'main', image: 'registry.k8s.io/pause:3.10' }],
          },
        },
      },
    };
    await apps.createNamespacedDaemonSet({ namespace, body });
    const first = await waitForRollout(kc, 'DaemonSet', namespace, name);
    expect(first).toEqual({ desired: 5, updated: 5, available: 5 });
    const pods = await podsOf(name);
    expect(pods.map((p) => p.spec?.nodeName).sort()).toEqual([...nodes.controlPlane, ...nodes.workers].sort());
    for (const p of pods) {
      expect(p.status?.phase).toBe('Running');
      expect(p.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    }

    await apps.patchNamespacedDaemonSet({
      namespace,
      name,
      body: [{ op: 'replace', path: '/spec/template/spec/containers/0/image', value: 'registry.k8s.io/pause:3.10.1' }],
    });
    const rolled = await waitForRollout(kc, 'DaemonSet', namespace, name);
    expect(rolled).toEqual({ desired: 5, updated: 5, available: 5 });
    const ds = await apps.readNamespacedDaemonSet({ namespace, name });
    expect(ds.status?.updatedNumberScheduled).toBe(ds.status?.desiredNumberScheduled);
    // Every old pod was replaced: one pod per node, all on the new image.
    await waitFor('old DaemonSet pods gone', async () => {
      const now = await podsOf(name);
      return now.length === 5 && now.every((p) => p.spec?.containers[0]?.image === 'registry.k8s.io/pause:3.10.1')
        ? now
        : undefined;
    });
  });
});

describe('Deployment', () => {
  it('rolls out on the workers only (no toleration) and rolls again on an image change', async () => {
    const name = 'web';
    await apps.createNamespacedDeployment({
      namespace,
      body: {
        metadata: { name },
        spec: {
          replicas: 4,
          selector: { matchLabels: { app: name } },
          strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
          template: {
            metadata: { labels: { app: name } },
            spec: { containers: [{ name: 'main', image: 'registry.k8s.io/pause:3.10' }] },
          },
        },
      },
    });
    expect(await waitForRollout(kc, 'Deployment', namespace, name)).toEqual({ desired: 4, updated: 4, available: 4 });
    const placed = new Set((await podsOf(name)).map((p) => p.spec?.nodeName));
    expect([...placed].every((n) => n !== undefined && nodes.workers.includes(n))).toBe(true);

    await apps.patchNamespacedDeployment({
      namespace,
      name,
      body: [{ op: 'replace', path: '/spec/template/spec/containers/0/image', value: 'registry.k8s.io/pause:3.10.1' }],
    });
    expect(await waitForRollout(kc, 'Deployment', namespace, name)).toEqual({ desired: 4, updated: 4, available: 4 });
    const sets = await apps.listNamespacedReplicaSet({ namespace, labelSelector: `app=${name}` });
    expect(sets.items).toHaveLength(2);
    const current = sets.items.find((rs) => rs.spec?.template?.spec?.containers[0]?.image === 'registry.k8s.io/pause:3.10.1');
    expect(current?.status?.readyReplicas).toBe(4);
    expect(sets.items.find((rs) => rs !== current)?.spec?.replicas).toBe(0);
  });
});
