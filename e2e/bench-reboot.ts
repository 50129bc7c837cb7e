/**
 * `make bench-reboot`: a cold reboot of the same node with static pods and then pivoted, in one run.
 * Prints figures; asserts nothing (e2e/node-checkpoint.test.ts and the golden path assert).
 *
 *  - from power-on until the API answers /readyz, and until the control plane's pods (static, or
 *    self-hosted after the checkpoints handed back), kube-proxy and the CNI run again;
 *  - pivoted: until the ControlPlane is Ready with every checkpoint standing by;
 *  - per component: when its checkpoint started, and when it stood aside for the real pod (from the
 *    checkpoint supervisor's own log lines, which carry the container runtime's timestamps);
 *  - the ratios pivoted / static (goal ≤ 1.5).
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { load } from 'js-yaml';
import { KubeConfig } from '@kubernetes/client-node';
import { KUBECONFIG, nodeVersion, REPO, runNodeScript, STATE } from './node.js';
import { freshNodeForSelfhost, isReadyView, kubectl, readControlPlane, superviseOperator } from './pivot.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const COMPONENTS = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler'];

interface Reboot {
  bootMs: number;
  apiS: number;
  podsS: number;
}

async function reboot(): Promise<Reboot> {
  await runNodeScript('reboot');
  const read = (f: string): string => readFileSync(path.join(STATE, f), 'utf8').trim();
  return { bootMs: Date.parse(read('reboot-boot-time')), apiS: Number(read('reboot-api-seconds')), podsS: Number(read('reboot-seconds')) };
}

/** First timestamp (CRI log line prefix) at or after `since` of a line containing `text`, in a checkpoint pod's logs. */
function checkpointLogTime(component: string, text: string, since: number): number | undefined {
  const dir = '/var/log/pods';
  let best: number | undefined;
  for (const pod of readdirSync(dir).filter((d) => d.startsWith(`kube-system_selfhost-checkpoint-${component}-`))) {
    for (const container of readdirSync(path.join(dir, pod))) {
      for (const file of readdirSync(path.join(dir, pod, container))) {
        for (const line of readFileSync(path.join(dir, pod, container, file), 'utf8').split('\n')) {
          if (!line.includes(text)) continue;
          const t = Date.parse(line.slice(0, line.indexOf(' ')));
          if (t >= since && (best === undefined || t < best)) best = t;
        }
      }
    }
  }
  return best;
}

interface Checkpoints {
  checkpoints?: { saved: boolean; active: boolean }[];
}

async function main(): Promise<void> {
  console.log('bench-reboot: fresh node cluster (static pods)…');
  await freshNodeForSelfhost(nodeVersion());
  const kc = new KubeConfig();
  kc.loadFromFile(KUBECONFIG);

  const stat = await reboot();
  console.log(`static pods: API ${stat.apiS} s, pods Ready ${stat.podsS} s after power-on`);

  console.log('bench-reboot: pivot…');
  const op = await superviseOperator('bench-reboot');
  const sample = load(readFileSync(path.join(REPO, 'deploy', 'samples', 'controlplane.yaml'), 'utf8')) as { spec: Record<string, unknown> };
  sample.spec['version'] = nodeVersion();
  const applied = kubectl(['apply', '-f', '-'], JSON.stringify(sample));
  if (applied.code !== 0) throw new Error(applied.out);
  const settled = async (): Promise<boolean> => {
    const v = (await readControlPlane(kc).catch(() => undefined)) as (Awaited<ReturnType<typeof readControlPlane>> & Checkpoints) | undefined;
    const cps = v?.checkpoints ?? [];
    return isReadyView(v) && cps.length === 4 && cps.every((c) => c.saved && !c.active);
  };
  for (let deadline = Date.now() + 15 * 60_000; !(await settled()); await sleep(1000)) {
    if (Date.now() > deadline) throw new Error('the pivot did not settle within 15 min');
  }

  const piv = await reboot();
  let readyAt = Date.now();
  for (let deadline = Date.now() + 10 * 60_000; !(await settled()); await sleep(500)) {
    if (Date.now() > deadline) throw new Error('not Ready with every checkpoint standing by within 10 min of the reboot');
    readyAt = Date.now();
  }
  const readyS = (readyAt - piv.bootMs) / 1000;
  await op.stop();

  const rows = COMPONENTS.map((c) => {
    const started = checkpointLogTime(c, "starting the checkpoint's", piv.bootMs);
    const aside = checkpointLogTime(c, 'is fresh (the real pod runs): stopping', piv.bootMs);
    const s = (t: number | undefined): string => (t === undefined ? '-' : ((t - piv.bootMs) / 1000).toFixed(1));
    return `| ${c} | ${s(started)} | ${s(aside)} |`;
  });
  console.log('\nbench-reboot figures (seconds after power-on; one run, the same node):\n');
  console.log('| | API answers | control-plane pods Ready | ControlPlane Ready |');
  console.log('| --- | --- | --- | --- |');
  console.log(`| static pods | ${stat.apiS} | ${stat.podsS} | - |`);
  console.log(`| pivoted (checkpoints) | ${piv.apiS} | ${piv.podsS} | ${readyS.toFixed(1)} |`);
  console.log(`| ratio pivoted / static | ${(piv.apiS / stat.apiS).toFixed(2)} | ${(piv.podsS / stat.podsS).toFixed(2)} | ${(readyS / stat.podsS).toFixed(2)} (vs static pods Ready) |`);
  console.log('\n| component | checkpoint started | real pod took over (checkpoint stood aside) |');
  console.log('| --- | --- | --- |');
  for (const r of rows) console.log(r);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
