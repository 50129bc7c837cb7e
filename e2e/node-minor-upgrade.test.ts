import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { load } from 'js-yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProber, summarize } from '../test/support/prober.js';
import { gapIn } from './figures.js';
import { createWorld } from '../test/support/world.js';
import { askService, clients, REPO, startEchoService, type Clients } from './node.js';
import { freshNodeForSelfhost, kubectl, logTail, startAckWriter, superviseOperator, waitControlPlane, type ControlPlaneView, type SupervisedOperator } from './pivot.js';

/**
 * A minor upgrade in one edit on a real node (make e2e): a kubeadm cluster at MINOR_FROM (v1.36.4,
 * etcd 3.6.8) pivoted, then spec.version set to the newest version (v1.37.2, etcd 3.7.0). etcd 3.7
 * wants every member on 3.6.11 first, and the release table lists the published 3.6.11 image, so
 * the plan has two etcd steps (3.6.8 → 3.6.11 → 3.7.0) before the Kubernetes components. The
 * node gets the target's images as a registry would serve them (`make load-images VERSION=...`
 * builds etcd:3.6.11-0 too). Throughout: the /readyz prober, acknowledged writes (none lost), the
 * world snapshot, a Service.
 */
const FROM = process.env.SELFHOST_MINOR_FROM ?? 'v1.36.4';
const TO = process.env.SELFHOST_UPGRADE_TO ?? 'v1.37.2';
const SAMPLE = path.join(REPO, 'deploy', 'samples', 'controlplane.yaml');

interface Cp extends ControlPlaneView {
  version?: string;
  lastUpgrade?: { fromVersion?: string; toVersion: string; result: string; message?: string };
  plan?: { operation?: string; steps: { component: string; action?: string; fromVersion?: string; toVersion?: string; state: string; startedAt?: string; finishedAt?: string }[] };
}

const isReady = (v: Cp): boolean => v.conditions.some((c) => c.type === 'Ready' && c.status === 'True');
const fmt = (s: { component: string; action?: string; fromVersion?: string; toVersion?: string; state: string }): string =>
  `${s.component} ${s.action ?? ''} ${s.fromVersion ?? ''}→${s.toVersion ?? ''} ${s.state}`;

describe('tier node: a minor upgrade in one edit (etcd through its intermediate patch)', () => {
  let c: Clients;
  let op: SupervisedOperator | undefined;

  const waitCp = (what: string, ok: (v: Cp) => boolean, timeoutMs: number): Promise<Cp> => waitControlPlane(c.kc, what, ok, timeoutMs, () => `operator log:\n${logTail(op?.current().log ?? '', 80)}`);

  beforeAll(async () => {
    await freshNodeForSelfhost(FROM, { imagesOf: TO });
    c = clients();
  });

  afterAll(async () => {
    await op?.stop();
  });

  it(`pivots at ${FROM}, then one edit to ${TO}: etcd 3.6.8 → 3.6.11 → 3.7.0, then every Kubernetes component, nothing lost`, { timeout: 40 * 60_000 }, async () => {
    const namespace = `e2e-minor-${randomBytes(3).toString('hex')}`;
    const world = await createWorld(c.kc);
    const ip = await startEchoService(c, namespace);
    op = await superviseOperator('minor');
    const sample = load(readFileSync(SAMPLE, 'utf8')) as { spec: Record<string, unknown> };
    sample.spec['version'] = FROM;
    const applied = kubectl(['apply', '-f', '-'], JSON.stringify(sample));
    expect(applied.code, applied.out).toBe(0);
    const pivotStart = Date.now();
    await waitCp(`Ready at ${FROM}`, (v) => isReady(v) && v.phase === 'SelfHosted', 15 * 60_000);
    console.log(`minor e2e: pivot at ${FROM} ${((Date.now() - pivotStart) / 1000).toFixed(1)} s`);

    const ack = await startAckWriter(c.kc, namespace);
    const prober = await startProber(c.kc, { hz: 10 });
    const start = Date.now();
    const edit = kubectl(['patch', 'controlplane', 'cluster', '--type=merge', '-p', JSON.stringify({ spec: { version: TO } })]);
    expect(edit.code, edit.out).toBe(0);
    // Before (or as) the first step runs, status.plan lists every step in order.
    const planned = await waitCp('status.plan for the upgrade', (v) => v.plan?.operation === 'Upgrade' && (v.plan.steps.length ?? 0) > 0 && v.lastUpgrade?.toVersion === TO, 180_000);
    const expected = [
      'etcd Snapshot →',
      'etcd Upgrade 3.6.8→3.6.11',
      'etcd Upgrade 3.6.11→3.7.0',
      ...['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kube-proxy'].map((x) => `${x} Upgrade ${FROM}→${TO}`),
    ];
    expect(planned.plan?.steps.map((s) => fmt(s).replace(/ \w+$/, ''))).toEqual(expected);
    const done = await waitCp(`Ready at ${TO}`, (v) => isReady(v) && v.version === TO && v.lastUpgrade?.result === 'Succeeded', 25 * 60_000);
    const ms = Date.now() - start;
    const report = await prober.stop();
    const writes = await ack.stop();
    console.log(`minor e2e: upgrade ${FROM} → ${TO} ${(ms / 1000).toFixed(1)} s; ${summarize(report)}; acknowledged writes ${writes.acked}, failed ${writes.failed}`);
    for (const s of done.plan?.steps ?? []) {
      const from = Date.parse(s.startedAt ?? '');
      const to = Date.parse(s.finishedAt ?? '') + 999; // status times are whole seconds
      const g = Number.isNaN(from) || Number.isNaN(to) ? undefined : gapIn(report.samples, from, to);
      const api = g === undefined ? '' : `; /readyz failed ${g.failures} (${g.errors || 'none'}), longest gap ${(g.longestMs / 1000).toFixed(2)} s`;
      console.log(`  ${fmt(s)} ${s.startedAt ?? ''} → ${s.finishedAt ?? ''}${api}`);
    }

    expect(done.plan?.steps.map(fmt)).toEqual(expected.map((e) => `${e} Succeeded`));
    expect(done.lastUpgrade).toMatchObject({ fromVersion: FROM, toVersion: TO, result: 'Succeeded' });
    const waited = kubectl(['wait', '--for=condition=Ready', 'controlplane/cluster', '--timeout=60s']);
    expect(waited.code, waited.out).toBe(0);
    const version = kubectl(['version', '-o', 'json']);
    expect(JSON.parse(version.out.slice(version.out.indexOf('{'))) as { serverVersion?: { gitVersion?: string } }).toMatchObject({ serverVersion: { gitVersion: TO } });
    const images = kubectl(['-n', 'kube-system', 'get', 'pods', '-l', '!selfhost.dev/checkpoint-of', '-o', 'jsonpath={range .items[*]}{.spec.containers[0].image}{"\\n"}{end}']);
    const tagsOf = (component: string) => [...new Set(images.out.split('\n').filter((l) => l.includes(`/${component}:`)).map((t) => t.split(':').pop()))];
    expect(tagsOf('etcd')).toEqual(['3.7.0-0']);
    for (const component of ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kube-proxy']) expect({ component, tags: tagsOf(component) }).toEqual({ component, tags: [TO] });
    expect(await ack.verify()).toEqual([]);
    await world.expectIntact();
    expect((await askService(ip, 20)).size).toBe(2);
    await world.cleanup();
    await c.core.deleteNamespace({ name: namespace });
  });
});
