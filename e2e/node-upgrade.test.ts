import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { load } from 'js-yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProber, summarize } from '../test/support/prober.js';
import { createWorld } from '../test/support/world.js';
import { clients, nodeVersion, REPO, runNodeScript, type Clients } from './node.js';
import { freshNodeForSelfhost, kubectl, logTail, readControlPlane, startAckWriter, superviseOperator, waitControlPlane, type SupervisedOperator } from './pivot.js';

/**
 * Rollouts after the pivot on a real node (make e2e): a broken override of the apiserver rolled
 * back automatically to the exact object that ran, then three version changes (up, down, up) with
 * the operator SIGKILLed at random points in each, every one converging with nothing lost.
 */
const FROM = process.env.SELFHOST_UPGRADE_FROM ?? 'v1.37.1';
const TO = process.env.SELFHOST_UPGRADE_TO ?? 'v1.37.2';
const SAMPLE = path.join(REPO, 'deploy', 'samples', 'controlplane.yaml');

interface Status {
  phase?: string;
  version?: string;
  conditions: { type: string; status: string; reason: string; message: string }[];
  lastUpgrade?: { fromVersion?: string; toVersion: string; result: string; failedComponent?: string; message?: string; targetHash: string };
  plan?: { operation?: string; steps: { component: string; action?: string; state: string }[] };
}

async function status(c: Clients): Promise<Status | undefined> {
  return (await readControlPlane(c.kc)) as Status | undefined;
}

function waitFor(c: Clients, what: string, ok: (s: Status) => boolean, timeoutMs: number, op?: SupervisedOperator): Promise<Status> {
  return waitControlPlane(c.kc, what, ok, timeoutMs, () => `operator log:\n${logTail(op?.current().log ?? '', 60)}`);
}

const ready = (s: Status): boolean => s.conditions.some((x) => x.type === 'Ready' && x.status === 'True');
const condition = (s: Status, type: string) => s.conditions.find((x) => x.type === type);

function patchSpec(spec: Record<string, unknown>): void {
  const r = kubectl(['patch', 'controlplane', 'cluster', '--type=merge', '-p', JSON.stringify({ spec })]);
  if (r.code !== 0) throw new Error(`kubectl patch: ${r.out}`);
}

function apiserverSpec(): string {
  const r = kubectl(['-n', 'kube-system', 'get', 'daemonset', 'selfhost-kube-apiserver', '-o', 'jsonpath={.spec.template.spec}']);
  if (r.code !== 0) throw new Error(r.out);
  return r.out;
}

describe('tier node: rollouts after the pivot', () => {
  let c: Clients;
  let op: SupervisedOperator | undefined;

  beforeAll(async () => {
    await freshNodeForSelfhost(FROM, { imagesOf: TO });
    c = clients();
    const supervised = await superviseOperator('upgrade');
    op = supervised;
    const sample = load(readFileSync(SAMPLE, 'utf8')) as { spec: Record<string, unknown> };
    sample.spec['version'] = FROM;
    const r = kubectl(['apply', '-f', '-'], JSON.stringify(sample));
    if (r.code !== 0) throw new Error(r.out);
    await waitFor(c, 'the pivot', (s) => ready(s) && s.phase === 'SelfHosted', 15 * 60_000, supervised);
  });

  afterAll(async () => {
    await op?.stop();
    await runNodeScript('down');
    await runNodeScript('up', [nodeVersion()]);
  });

  it('rolls a broken apiserver override back to the exact object that ran, says why, and does not retry it', async () => {
    const before = apiserverSpec();
    const prober = await startProber(c.kc, { hz: 10 });
    const started = Date.now();
    patchSpec({ overrides: { 'kube-apiserver': { extraArgs: [{ name: 'audit-log-maxage', value: '30' }, { name: 'selfhost-e2e-no-such-flag', value: 'x' }] } } });
    const rolledBack = await waitFor(c, 'RolledBack', (s) => s.lastUpgrade?.result === 'RolledBack' && s.phase === 'Degraded', 10 * 60_000, op);
    const ms = Date.now() - started;
    const report = await prober.stop();
    console.log(`broken override → rolled back in ${(ms / 1000).toFixed(1)} s; ${summarize(report)}`);
    expect(rolledBack.lastUpgrade?.failedComponent).toBe('kube-apiserver');
    expect(rolledBack.lastUpgrade?.message).toMatch(/selfhost-e2e-no-such-flag|CrashLoopBackOff|Error/);
    expect(condition(rolledBack, 'Degraded')).toMatchObject({ status: 'True', reason: 'RolledBack' });
    expect(rolledBack.plan?.operation).toBe('Rollback');
    expect(apiserverSpec()).toBe(before);
    // Healthy on what ran before: every apiserver pod Ready, the old template.
    // (the failed surge pod may still be terminating for a moment)
    const deadline = Date.now() + 120_000;
    let pods = '';
    while (Date.now() < deadline) {
      pods = kubectl(['-n', 'kube-system', 'get', 'pods', '-l', 'selfhost.dev/component=kube-apiserver', '-o', 'jsonpath={range .items[*]}{.metadata.name} {.status.conditions[?(@.type=="Ready")].status}{"\\n"}{end}']).out.trim();
      if (pods.split('\n').length === 1) break;
      await new Promise((r) => setTimeout(r, 2000));
    }
    expect(pods.split('\n').map((l) => l.split(' ')[1])).toEqual(['True']);
    // No loop: half a minute later it is still rolled back, nothing re-applied.
    const hash = rolledBack.lastUpgrade?.targetHash;
    await new Promise((r) => setTimeout(r, 30_000));
    const later = await status(c);
    expect(later?.lastUpgrade).toMatchObject({ result: 'RolledBack', targetHash: hash });
    expect(apiserverSpec()).toBe(before);
    // Undo the edit: the proven objects are the target again, Ready without any rollout.
    patchSpec({ overrides: { 'kube-apiserver': { extraArgs: [{ name: 'audit-log-maxage', value: '30' }] } } });
    const back = await waitFor(c, 'Ready again', (s) => ready(s), 5 * 60_000, op);
    expect(condition(back, 'Degraded')?.status).toBe('False');
    expect(apiserverSpec()).toBe(before);
  });

  const operator = (): SupervisedOperator => {
    if (op === undefined) throw new Error('no operator');
    return op;
  };

  it('converges in three version changes (up, down, up) with the operator SIGKILLed at random points', async () => {
    const namespace = `e2e-upgrade-${randomBytes(3).toString('hex')}`;
    await c.core.createNamespace({ body: { metadata: { name: namespace } } });
    const world = await createWorld(c.kc);
    const ack = await startAckWriter(c.kc, namespace);
    for (const [i, target] of [TO, FROM, TO].entries()) {
      const prober = await startProber(c.kc, { hz: 10 });
      const started = Date.now();
      patchSpec({ version: target });
      // Kill the operator three times at random moments of the rollout.
      let kills = 0;
      const killer = (async () => {
        for (let k = 0; k < 3; k++) {
          await new Promise((r) => setTimeout(r, 5_000 + Math.random() * 25_000));
          await operator().kill();
          kills++;
        }
      })();
      const done = await waitFor(c, `round ${i + 1}: Ready at ${target}`, (s) => ready(s) && s.version === target && s.lastUpgrade?.result === 'Succeeded', 15 * 60_000, op);
      await killer;
      const report = await prober.stop();
      console.log(`round ${i + 1} → ${target}: ${((Date.now() - started) / 1000).toFixed(1)} s, ${kills} kills; ${summarize(report)}`);
      expect(done.lastUpgrade?.toVersion).toBe(target);
      // A kill after Ready must not start anything: still Ready a little later.
      await new Promise((r) => setTimeout(r, 5_000));
      const after = await waitFor(c, `round ${i + 1}: still Ready`, (s) => ready(s) && s.version === target, 5 * 60_000, op);
      expect(after.plan?.steps.every((s) => s.state === 'Succeeded')).toBe(true);
    }
    const writes = await ack.stop();
    console.log(`acknowledged writes ${writes.acked}, failed ${writes.failed}`);
    expect(await ack.verify()).toEqual([]);
    await world.expectIntact();
    await world.cleanup();
    await c.core.deleteNamespace({ name: namespace });
  });
});
