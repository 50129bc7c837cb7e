/**
 * The in-cluster spec, shared by tier node (e2e/node-incluster.test.ts) and kind
 * (e2e/kind-incluster.kind.ts, `make e2e-kind`): the operator in its own cluster, installed as a
 * user installs it (issue 12): `kubectl apply --server-side -k deploy/default` on a kubeadm node at
 * FROM (one replica: a one-node cluster, deploy/README.md "One node"), the sample ControlPlane,
 * then one edit of spec.version to TO. The operator talks to the very apiserver it replaces
 * (hostNetwork, the node's address): it must come through the pivot and the upgrade of its own
 * control plane, restarted by its Deployment when it loses its Lease. Throughout: the /readyz
 * prober, acknowledged writes (none lost), the world snapshot, a Service. `make demo` is this path
 * with a live `kubectl selfhost status --watch`.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { load } from 'js-yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { startProber, summarize } from '../test/support/prober.js';
import { createWorld } from '../test/support/world.js';
import { askService, clients, REPO, startEchoService, type Clients } from './node.js';
import { kubectl, waitControlPlane, startAckWriter, type ControlPlaneView } from './pivot.js';

export interface InClusterEnv {
  /** What the cluster is, for the test's title ("tier node", "kind"). */
  readonly tier: string;
  readonly from: string;
  readonly to: string;
  /** A fresh kubeadm cluster at `from`, the selfhost image on its node, `to`'s images pullable. */
  setUp(): Promise<void>;
  /** The operator's metrics URL (hostNetwork) when this machine reaches the node's address. */
  readonly metricsUrl?: string;
  /** GETs a URL from this machine (the metrics check). */
  httpGet?(url: string): Promise<{ status: number; body: string }>;
  /** Whether this machine reaches a Service's ClusterIP (tier node: it is the node; kind: no). */
  readonly reachesServices: boolean;
}

const SAMPLE = path.join(REPO, 'deploy', 'samples', 'controlplane.yaml');
const OPERATOR = ['-n', 'kube-system'];

interface Cp extends ControlPlaneView {
  version?: string;
  lastUpgrade?: { fromVersion?: string; toVersion: string; result: string };
  plan?: { operation?: string; steps: { component: string; action?: string; fromVersion?: string; toVersion?: string; state: string }[] };
}

const isReady = (v: Cp): boolean => v.conditions.some((c) => c.type === 'Ready' && c.status === 'True');

/** The operator pods' names, phases and container restarts (kubectl, as a user would look). */
function operatorPods(): { name: string; phase: string; restarts: number }[] {
  const r = kubectl([...OPERATOR, 'get', 'pods', '-l', 'app.kubernetes.io/name=selfhost,app.kubernetes.io/component=operator', '-o', 'json']);
  if (r.code !== 0) return [];
  const list = JSON.parse(r.out) as { items: { metadata: { name: string }; status: { phase?: string; containerStatuses?: { restartCount: number }[] } }[] };
  return list.items.map((p) => ({
    name: p.metadata.name,
    phase: p.status.phase ?? '?',
    restarts: (p.status.containerStatuses ?? []).reduce((n, s) => n + s.restartCount, 0),
  }));
}

function operatorLogs(): string {
  const now = kubectl([...OPERATOR, 'logs', 'deploy/selfhost-operator', '--tail=60']);
  const before = kubectl([...OPERATOR, 'logs', 'deploy/selfhost-operator', '--previous', '--tail=20']);
  return `operator pods: ${JSON.stringify(operatorPods())}\nlog:\n${now.out}\nprevious container:\n${before.out}`;
}

export function describeInCluster(env: InClusterEnv): void {
  const { from: FROM, to: TO } = env;
  describe(`${env.tier}: the operator in its own cluster (kubectl apply -k deploy/default), through the pivot and an upgrade`, () => {
    let c: Clients;

    const waitCp = (what: string, ok: (v: Cp) => boolean, timeoutMs: number): Promise<Cp> => waitControlPlane(c.kc, what, ok, timeoutMs, () => operatorLogs());

    beforeAll(async () => {
      await env.setUp();
      c = clients();
    });

    it(`installs with kubectl apply -k deploy/default, pivots at ${FROM}, upgrades to ${TO} with one edit, loses nothing`, { timeout: 40 * 60_000 }, async () => {
      // 1. The install, as the README says: everything from deploy/default, one replica on one node.
      const installStart = Date.now();
      const applied = kubectl(['apply', '--server-side', '-k', path.join(REPO, 'deploy', 'default')]);
      expect(applied.code, applied.out).toBe(0);
      expect(kubectl([...OPERATOR, 'scale', 'deployment/selfhost-operator', '--replicas=1']).code).toBe(0);
      const established = kubectl(['wait', '--for=condition=Established', 'crd/controlplanes.selfhost.dev', '--timeout=60s']);
      expect(established.code, established.out).toBe(0);
      const rolled = kubectl([...OPERATOR, 'rollout', 'status', 'deployment/selfhost-operator', '--timeout=300s']);
      expect(rolled.code, `${rolled.out}\n${operatorLogs()}`).toBe(0);
      console.log(`in-cluster e2e: operator Available ${((Date.now() - installStart) / 1000).toFixed(1)} s after kubectl apply -k`);

      // Its metrics endpoint answers on the node (hostNetwork) with selfhost's own series.
      if (env.metricsUrl !== undefined && env.httpGet !== undefined) {
        const metrics = await env.httpGet(env.metricsUrl);
        expect(metrics.status).toBe(200);
        expect(metrics.body).toMatch(/^selfhost_/m);
      }

      const namespace = `e2e-incluster-${randomBytes(3).toString('hex')}`;
      const world = await createWorld(c.kc);
      // A Service answering from both pods, where this machine reaches ClusterIPs; else the namespace alone.
      const ip = env.reachesServices ? await startEchoService(c, namespace) : await c.core.createNamespace({ body: { metadata: { name: namespace } } }).then(() => undefined);
      const ack = await startAckWriter(c.kc, namespace);
      const prober = await startProber(c.kc, { hz: 10, maxDurationMs: 40 * 60_000 });

      // 2. The pivot: the sample ControlPlane at the version the cluster runs.
      const sample = load(readFileSync(SAMPLE, 'utf8')) as { spec: Record<string, unknown> };
      sample.spec['version'] = FROM;
      const cp = kubectl(['apply', '-f', '-'], JSON.stringify(sample));
      expect(cp.code, cp.out).toBe(0);
      const pivotStart = Date.now();
      const pivoted = await waitCp(`Ready at ${FROM}`, (v) => isReady(v) && v.phase === 'SelfHosted', 20 * 60_000);
      const pivotMs = Date.now() - pivotStart;
      const afterPivot = operatorPods();
      console.log(`in-cluster e2e: pivot ${(pivotMs / 1000).toFixed(1)} s; operator pods ${JSON.stringify(afterPivot)}`);
      expect(pivoted.version).toBe(FROM);

      // 3. The upgrade: one edit of spec.version.
      const upgradeStart = Date.now();
      const edit = kubectl(['patch', 'controlplane', 'cluster', '--type=merge', '-p', JSON.stringify({ spec: { version: TO } })]);
      expect(edit.code, edit.out).toBe(0);
      const done = await waitCp(`Ready at ${TO}`, (v) => isReady(v) && v.version === TO && v.lastUpgrade?.result === 'Succeeded', 20 * 60_000);
      const upgradeMs = Date.now() - upgradeStart;
      const report = await prober.stop();
      const writes = await ack.stop();
      const afterUpgrade = operatorPods();
      console.log(
        `in-cluster e2e: upgrade ${FROM} → ${TO} ${(upgradeMs / 1000).toFixed(1)} s; operator pods ${JSON.stringify(afterUpgrade)}; ` +
          `over pivot and upgrade: ${summarize(report)}; acknowledged writes ${writes.acked}, failed ${writes.failed}`,
      );
      expect(done.lastUpgrade).toMatchObject({ fromVersion: FROM, toVersion: TO, result: 'Succeeded' });
      expect(done.plan?.steps.every((s) => s.state === 'Succeeded'), JSON.stringify(done.plan)).toBe(true);
      const waited = kubectl(['wait', '--for=condition=Ready', 'controlplane/cluster', '--timeout=60s']);
      expect(waited.code, waited.out).toBe(0);
      const version = kubectl(['version', '-o', 'json']);
      expect(JSON.parse(version.out.slice(version.out.indexOf('{'))) as { serverVersion?: { gitVersion?: string } }).toMatchObject({ serverVersion: { gitVersion: TO } });

      // The operator is still the Deployment's one Running pod, serving its probes.
      expect(afterUpgrade.map((p) => p.phase)).toEqual(['Running']);
      const available = kubectl([...OPERATOR, 'rollout', 'status', 'deployment/selfhost-operator', '--timeout=120s']);
      expect(available.code, available.out).toBe(0);
      // Its logs are JSON lines (pino).
      const logs = kubectl([...OPERATOR, 'logs', 'deploy/selfhost-operator', '--tail=200']);
      const lines = logs.out.split('\n').filter((l) => l.startsWith('{'));
      expect(lines.length).toBeGreaterThan(0);
      for (const l of lines) expect(() => JSON.parse(l) as unknown).not.toThrow();

      expect(await ack.verify()).toEqual([]);
      await world.expectIntact();
      if (ip !== undefined) expect((await askService(ip, 20)).size).toBe(2);
      await world.cleanup();
      await c.core.deleteNamespace({ name: namespace });
    });
  });
}
