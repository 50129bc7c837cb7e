import { execFileSync } from 'node:child_process';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { waitFor } from '../test/support/wait.js';
import {
  type Clients,
  NODE_IP,
  NODE_NAME,
  STATIC_PODS,
  clients,
  k8sBin,
  podIsReady,
  systemPods,
} from './node.js';

/**
 * Tier node smoke test (what `kubectl get pods -n kube-system -o wide` shows after
 * `make cluster-up TIER=node`): the node is Ready; etcd, kube-apiserver, kube-controller-manager
 * and kube-scheduler run as static pods (mirror pods of the node) with the images kubeadm names;
 * kube-proxy (kubeadm's addon) and the CNI DaemonSet pods run.
 */
describe('tier node: a real kubeadm node', () => {
  let c: Clients;
  const version = inject('nodeVersion');

  beforeAll(() => {
    c = clients();
  });

  it('has its node Ready, on the tier address, schedulable for workloads', async () => {
    const node = await waitFor(
      `node ${NODE_NAME} Ready`,
      async () => {
        const n = await c.core.readNode({ name: NODE_NAME });
        return n.status?.conditions?.some((x) => x.type === 'Ready' && x.status === 'True') ? n : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 1000 },
    );
    expect(node.status?.nodeInfo?.kubeletVersion).toBe(version);
    expect(node.status?.addresses).toContainEqual({ type: 'InternalIP', address: NODE_IP });
    expect(node.spec?.podCIDR).toBe('10.244.0.0/24');
    expect(node.metadata?.labels?.['node-role.kubernetes.io/control-plane']).toBe('');
    // Untainted: the control-plane taint is not applied, so test workloads can run here.
    expect((node.spec?.taints ?? []).map((t) => t.key)).toEqual([]);
  });

  it('runs the control plane as static pods with the images kubeadm lists', async () => {
    const { mirror } = await waitFor(
      'the four static pods Running and Ready',
      async () => {
        const pods = await systemPods(c.core);
        return STATIC_PODS.every((s) => podIsReady(pods.mirror.get(s))) ? pods : undefined;
      },
      { timeoutMs: 180_000, intervalMs: 1000 },
    );
    const listed = execFileSync(k8sBin(version, 'kubeadm'), ['config', 'images', 'list', '--kubernetes-version', version], {
      encoding: 'utf8',
    })
      .trim()
      .split('\n');
    for (const name of STATIC_PODS) {
      const pod = mirror.get(name);
      expect(pod, name).toBeDefined();
      // A mirror pod: the kubelet's copy of a static pod, owned by the node.
      expect(pod?.metadata?.annotations?.['kubernetes.io/config.mirror'], name).toBeTruthy();
      expect(pod?.metadata?.annotations?.['kubernetes.io/config.source'], name).toBe('file');
      expect(pod?.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'Node', name: NODE_NAME });
      expect(pod?.spec?.hostNetwork, name).toBe(true);
      expect(pod?.status?.phase, name).toBe('Running');
      const image = pod?.spec?.containers[0]?.image ?? '';
      expect(listed, `${name}'s image ${image}`).toContain(image);
    }
  });

  it('runs kube-proxy as kubeadm installs it and the CNI as a DaemonSet', async () => {
    await waitFor(
      'kube-proxy and the CNI pod Running and Ready',
      async () => {
        const { proxy, cni } = await systemPods(c.core);
        return proxy.length === 1 && cni.length === 1 && podIsReady(proxy[0]) && podIsReady(cni[0]) ? true : undefined;
      },
      { timeoutMs: 180_000, intervalMs: 1000 },
    );
    const proxyDs = await c.apps.readNamespacedDaemonSet({ name: 'kube-proxy', namespace: 'kube-system' });
    expect(proxyDs.spec?.template.spec?.containers[0]?.image).toBe(`registry.k8s.io/kube-proxy:${version}`);
    expect(proxyDs.status?.numberReady).toBe(1);
    const cm = await c.core.readNamespacedConfigMap({ name: 'kube-proxy', namespace: 'kube-system' });
    expect(cm.data?.['config.conf']).toMatch(/mode: iptables/);
    const cniDs = await c.apps.readNamespacedDaemonSet({ name: 'selfhost-cni', namespace: 'kube-system' });
    expect(cniDs.metadata?.labels?.['k8s-app']).toBe('selfhost-cni');
    expect(cniDs.status?.numberReady).toBe(cniDs.status?.desiredNumberScheduled);
    expect(cniDs.status?.numberReady).toBe(1);
  });
});
