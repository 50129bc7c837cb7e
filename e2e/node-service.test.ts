import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../test/support/wait.js';
import { type Clients, askService, clients, echoWorkload } from './node.js';

/**
 * kube-proxy and the CNI really work: a Deployment of 2 busybox httpd pods (pod network on the
 * tier's bridge) behind a ClusterIP Service answers from the host through the service IP
 * (kube-proxy's iptables DNAT), and both pods take turns.
 */
describe('tier node: a ClusterIP service from the host', () => {
  let c: Clients;
  const namespace = `e2e-svc-${randomBytes(3).toString('hex')}`;

  beforeAll(async () => {
    c = clients();
    await c.core.createNamespace({ body: { metadata: { name: namespace } } });
  });

  afterAll(async () => {
    await c.core.deleteNamespace({ name: namespace }).catch(() => undefined);
  });

  it('answers through the service IP from both pods of a Deployment', async () => {
    const { deployment, service } = echoWorkload(namespace, 2);
    await c.apps.createNamespacedDeployment({ namespace, body: deployment });
    const svc = await c.core.createNamespacedService({ namespace, body: service });
    const ip = svc.spec?.clusterIP ?? '';
    expect(ip).toMatch(/^10\.96\./);

    const pods = await waitFor(
      'the 2 echo pods Ready with pod-network addresses',
      async () => {
        const list = await c.core.listNamespacedPod({ namespace, labelSelector: 'app=echo' });
        const ready = list.items.filter((p) =>
          p.status?.conditions?.some((x) => x.type === 'Ready' && x.status === 'True'),
        );
        return ready.length === 2 ? ready : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 1000 },
    );
    for (const p of pods) expect(p.status?.podIP).toMatch(/^10\.244\.0\./);

    // kube-proxy programs the service once the endpoints are ready; the first answers may race it.
    const answered = await waitFor(
      `both pods answering on http://${ip}/`,
      async () => {
        const who = await askService(ip, 20);
        return who.size === 2 ? who : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 1000 },
    );
    expect([...answered].sort()).toEqual(pods.map((p) => p.metadata?.name).sort());
  });
});
