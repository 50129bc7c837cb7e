import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../test/support/wait.js';
import {
  type Clients,
  NODE_NAME,
  STATE,
  STATIC_PODS,
  askService,
  clients,
  echoWorkload,
  podIsReady,
  runNodeScript,
  systemPods,
} from './node.js';

function containerIds(pods: Map<string, { status?: { containerStatuses?: { containerID?: string }[] } }>) {
  return new Map([...pods].map(([name, p]) => [name, p.status?.containerStatuses?.[0]?.containerID ?? '']));
}

/**
 * `make node-reboot` (hack/node/reboot.sh) simulates a cold reboot: every container, the kubelet
 * and containerd are killed, runtime state, iptables rules, the pod bridge and the node interface
 * are dropped, then the node boots again. The static-pod control plane must come back on its
 * own (new containers), the node Ready, and a service must answer again (CNI and kube-proxy
 * rebuilt their state).
 */
describe('tier node: cold reboot', () => {
  let c: Clients;
  const namespace = `e2e-reboot-${randomBytes(3).toString('hex')}`;

  beforeAll(async () => {
    c = clients();
    await c.core.createNamespace({ body: { metadata: { name: namespace } } });
  });

  afterAll(async () => {
    await c.core.deleteNamespace({ name: namespace }).catch(() => undefined);
  });

  it('brings the static-pod cluster back to Ready', async () => {
    const { deployment, service } = echoWorkload(namespace, 2);
    await c.apps.createNamespacedDeployment({ namespace, body: deployment });
    const ip = (await c.core.createNamespacedService({ namespace, body: service })).spec?.clusterIP ?? '';
    await waitFor(
      'the echo service answering before the reboot',
      async () => ((await askService(ip, 4)).size > 0 ? true : undefined),
      { timeoutMs: 120_000, intervalMs: 1000 },
    );
    const before = containerIds((await systemPods(c.core)).mirror);
    expect(before.size).toBe(4);

    const reboot = await runNodeScript('reboot');
    const seconds = Number(readFileSync(path.join(STATE, 'reboot-seconds'), 'utf8'));
    console.log(`node-reboot: back in ${seconds} s after power-on (${reboot.ms} ms in all)`);

    // reboot.sh returns once the node is Ready and all six pods run containers started after the boot.
    const node = await c.core.readNode({ name: NODE_NAME });
    expect(node.status?.conditions?.find((x) => x.type === 'Ready')?.status).toBe('True');
    const after = await systemPods(c.core);
    for (const name of STATIC_PODS) {
      const pod = after.mirror.get(name);
      expect(podIsReady(pod), `${name} Ready after the reboot`).toBe(true);
      const id = pod?.status?.containerStatuses?.[0]?.containerID;
      expect(id, `${name} runs a new container`).not.toBe(before.get(name));
    }
    expect(after.proxy.every(podIsReady)).toBe(true);
    expect(after.cni.every(podIsReady)).toBe(true);

    const answered = await waitFor(
      'the echo service answering from both pods after the reboot',
      async () => {
        const who = await askService(ip, 20);
        return who.size === 2 ? who : undefined;
      },
      { timeoutMs: 180_000, intervalMs: 1000 },
    );
    expect(answered.size).toBe(2);
  });
});
