import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { load } from 'js-yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProber, summarize } from '../test/support/prober.js';
import { createWorld } from '../test/support/world.js';
import { waitFor } from '../test/support/wait.js';
import { clients, k8sBin, nodeVersion, REPO, runCommand, runNodeScript, startEchoService, waitForBothEchoPods, type Clients } from './node.js';
import { freshNodeForSelfhost, kubectl, logTail, make, readControlPlane, startAckWriter, superviseOperator, type ControlPlaneView, type SupervisedOperator } from './pivot.js';
import { expectNothingOfSelfhostLeft, STATIC_COMPONENTS } from './unpivot.js';

/**
 * The unpivot on tier node (issue "Undo the pivot"): pivot → unpivot → pivot → unpivot of one
 * kubeadm node, each under the /readyz prober, with a client whose acknowledged writes must all
 * survive, a world snapshot and a Service that must keep answering; after each unpivot nothing of
 * selfhost is left but what docs/design.md lists. Then kubeadm takes over for real: `kubeadm
 * upgrade plan` is happy and `kubeadm upgrade apply` moves the node to the test bed's other patch.
 */
const FROM = process.env.SELFHOST_UPGRADE_FROM ?? 'v1.37.1';
const TO = process.env.SELFHOST_UPGRADE_TO ?? 'v1.37.2';
const SAMPLE = path.join(REPO, 'deploy', 'samples', 'controlplane.yaml');

interface View extends ControlPlaneView {
  version?: string;
  plan?: { operation?: string; steps: { component: string; action?: string; state: string }[] };
}

const isReady = (v: View): boolean => v.conditions.some((c) => c.type === 'Ready' && c.status === 'True');

async function waitPhase(c: Clients, phase: string, op: SupervisedOperator, timeoutMs = 15 * 60_000): Promise<View> {
  const deadline = Date.now() + timeoutMs;
  let last: View | undefined;
  while (Date.now() < deadline) {
    last = (await readControlPlane(c.kc).catch(() => undefined)) as View | undefined;
    if (last !== undefined && last.phase === phase && isReady(last)) return last;
    await new Promise((r) => setTimeout(r, 2000));
  }
  throw new Error(`phase ${phase} and Ready not reached; last: ${JSON.stringify(last)}\noperator log:\n${logTail(op.current().log, 80)}`);
}

describe('tier node: the unpivot (pivot → unpivot → pivot → unpivot, then kubeadm upgrades)', () => {
  let c: Clients;
  let op: SupervisedOperator | undefined;

  beforeAll(async () => {
    await freshNodeForSelfhost(FROM);
    // What a registry pull would give the node for kubeadm's upgrade at the end.
    make('load-images', { VERSION: TO });
    c = clients();
  });

  afterAll(async () => {
    await op?.stop();
    await runNodeScript('down');
    await runNodeScript('up', [nodeVersion()]);
  });

  it(`hands the control plane back twice at ${FROM}, then kubeadm upgrades it to ${TO}`, { timeout: 45 * 60_000 }, async () => {
    const namespace = `e2e-unpivot-${randomBytes(3).toString('hex')}`;
    const world = await createWorld(c.kc);
    const ip = await startEchoService(c, namespace);
    const supervised = await superviseOperator('unpivot');
    op = supervised;

    for (const round of [1, 2]) {
      // The pivot (round 1: kubectl apply the sample; round 2: spec.mode back to SelfHosted).
      const pivotProber = await startProber(c.kc, { hz: 10 });
      const pivotStart = Date.now();
      if (round === 1) {
        const obj = load(readFileSync(SAMPLE, 'utf8')) as { spec: Record<string, unknown> };
        obj.spec['version'] = FROM;
        const applied = kubectl(['apply', '-f', '-'], JSON.stringify(obj));
        expect(applied.code, applied.out).toBe(0);
      } else {
        const edit = kubectl(['patch', 'controlplane', 'cluster', '--type=merge', '-p', JSON.stringify({ spec: { mode: 'SelfHosted' } })]);
        expect(edit.code, edit.out).toBe(0);
      }
      const pivoted = await waitPhase(c, 'SelfHosted', supervised);
      const pivotReport = await pivotProber.stop();
      console.log(`unpivot e2e round ${round}: pivot ${((Date.now() - pivotStart) / 1000).toFixed(1)} s; ${summarize(pivotReport)}`);
      expect(pivoted.version).toBe(FROM);

      if (round === 2) {
        // One component alone: dropped from spec.components, the scheduler goes back to its static
        // pod while the others stay self-hosted.
        const others = ['cni', 'kube-proxy', 'etcd', 'kube-apiserver', 'kube-controller-manager'];
        const drop = kubectl(['patch', 'controlplane', 'cluster', '--type=merge', '-p', JSON.stringify({ spec: { components: others } })]);
        expect(drop.code, drop.out).toBe(0);
        await waitFor('the scheduler handed back alone', async () => {
          const gone = kubectl(['-n', 'kube-system', 'get', 'deployment', 'selfhost-kube-scheduler', '-o', 'name']).code !== 0;
          const mirror = kubectl(['-n', 'kube-system', 'get', 'pod', '-l', 'component=kube-scheduler', '-o', 'jsonpath={.items[*].status.conditions[?(@.type=="Ready")].status}']);
          const manifest = existsSync('/etc/kubernetes/manifests/kube-scheduler.yaml') ? readFileSync('/etc/kubernetes/manifests/kube-scheduler.yaml', 'utf8') : '';
          return gone && mirror.out.trim() === 'True' && manifest !== '' && !manifest.includes('permit-port-sharing') ? true : undefined;
        }, { timeoutMs: 5 * 60_000, intervalMs: 2000 });
        expect(kubectl(['-n', 'kube-system', 'get', 'daemonset', 'selfhost-kube-apiserver', '-o', 'name']).code).toBe(0);
        await waitPhase(c, 'SelfHosted', supervised);
      }

      // The unpivot (round 2: the scheduler listed again, already static).
      const ack = await startAckWriter(c.kc, namespace, `acked-writes-${round}`);
      const prober = await startProber(c.kc, { hz: 10 });
      const start = Date.now();
      const edit = kubectl(['patch', 'controlplane', 'cluster', '--type=merge', '-p', JSON.stringify({ spec: { mode: 'StaticPods', components: ['cni', 'kube-proxy', 'kube-scheduler', 'kube-controller-manager', 'kube-apiserver', 'etcd'] } })]);
      expect(edit.code, edit.out).toBe(0);
      const back = await waitPhase(c, 'StaticPods', supervised);
      const report = await prober.stop();
      const writes = await ack.stop();
      console.log(`unpivot e2e round ${round}: unpivot ${((Date.now() - start) / 1000).toFixed(1)} s; ${summarize(report)}; acknowledged writes ${writes.acked}, failed ${writes.failed}`);
      expect(back.plan?.steps.map((s) => `${s.action ?? ''} ${s.component} ${s.state}`)).toEqual(STATIC_COMPONENTS.map((x) => `Unpivot ${x} Succeeded`));
      const waited = kubectl(['wait', '--for=condition=Ready', 'controlplane/cluster', '--timeout=60s']);
      expect(waited.code, waited.out).toBe(0);
      expectNothingOfSelfhostLeft(FROM);
      expect(await ack.verify()).toEqual([]);
      await world.expectIntact();
      await waitForBothEchoPods(ip, 120_000);
    }
    await supervised.stop();

    // kubeadm takes over: its plan reads kubeadm-config and the static pods; its apply upgrades them.
    const kubeadm = k8sBin(TO, 'kubeadm');
    const plan = await runCommand(kubeadm, ['upgrade', 'plan', TO, '--ignore-preflight-errors=CoreDNSUnsupportedPlugins,CoreDNSMigration', '--kubeconfig=/etc/kubernetes/admin.conf']);
    expect(plan.code, plan.out).toBe(0);
    expect(plan.out).toContain(`Cluster version: ${FROM.slice(1)}`);
    const apply = await runCommand(kubeadm, ['upgrade', 'apply', TO, '--yes', '--ignore-preflight-errors=all', '--kubeconfig=/etc/kubernetes/admin.conf']);
    expect(apply.code, apply.out.slice(-3000)).toBe(0);
    const version = kubectl(['version', '-o', 'json']);
    expect(JSON.parse(version.out.slice(version.out.indexOf('{'))) as { serverVersion?: { gitVersion?: string } }).toMatchObject({ serverVersion: { gitVersion: TO } });
    for (const component of STATIC_COMPONENTS.filter((x) => x !== 'etcd')) {
      expect(readFileSync(`/etc/kubernetes/manifests/${component}.yaml`, 'utf8')).toContain(`/${component}:${TO}`);
    }
    await world.expectIntact();
    await world.cleanup();
    await c.core.deleteNamespace({ name: namespace });
  });
});
