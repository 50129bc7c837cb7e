/**
 * `make bench-memory`: what the operator process holds, idle, in a realistic cluster. Figures are
 * printed, not asserted (docs/testbed.md "Operator memory").
 *
 *   node .cache/tsbuild/test/sim/bench-memory.js [--nodes 1000] [--pods 3000] [--configmaps 1000]
 *     [--settle-seconds 30] [--cli dist/cli/main.js] [--variant NAME=NODE_FLAGS[@CLI] ...] [--heap-snapshot DIR]
 *     [--operator-log-level info]
 *
 * 1. Module-load baselines, per variant: `node -e ''` and `node <cli> --help` (loads every command's
 *    modules and exits), measured at exit by the probe (memory-probe.ts, preloaded with --import).
 * 2. Tier sim with --nodes kwok nodes (3 control-plane), and a world as in a real cluster: kube-proxy
 *    and the CNI as DaemonSets (a pod per node in kube-system), the static control plane's mirror
 *    pods (in-process node agents and fake kubelets, as in operator.test.ts), --pods pods and
 *    --configmaps ConfigMaps in another namespace and 100 unlabelled ConfigMaps in kube-system (out
 *    of the operator's scope: they show that its watches are narrow), the CRD and the sample
 *    ControlPlane.
 * 3. The operator as a child process (`node --expose-gc --import <probe> <cli> run`, deploy/rbac's
 *    ServiceAccount): the pivot to SelfHosted (peak RSS during it), --settle-seconds idle, then the
 *    probe's report (SIGUSR2: before and after a forced GC).
 * 4. Each variant (default: deploy/manager/operator.yaml's node flags and memory limit, then no
 *    flags) restarted on the pivoted, idle world: informers synced, --settle-seconds, report.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadAll } from 'js-yaml';
import { computeCachedObject } from '../../src/operator/cache-transform.js';
import { kubeClient, type JsonObject, type KubeClient } from '../../src/kube/client.js';
import {
  arr,
  cniObjects,
  CP_PATH,
  FakeNode,
  fixtureManifests,
  kubeProxyObjects,
  LogFiles,
  objectPath,
  rbacObjects,
  rec,
  REPO,
  sampleControlPlane,
  serviceAccountKubeConfig,
  str,
} from '../integration/operator-world.js';
import { ensureControlPlaneCrd } from '../support/crd.js';
import { kubeConfigFrom } from '../support/kube.js';
import { freePort } from '../support/ports.js';
import { procMemory } from '../support/process.js';
import { waitFor } from '../support/wait.js';
import { startSimCluster } from './cluster.js';
import { computeCgroupArgv, createMemoryCgroup, type MemoryCgroup } from './memory-cgroup.js';
import type { MemoryReport } from './memory-probe.js';

const PROBE = join(import.meta.dirname, 'memory-probe.js');
const NS = 'kube-system';
const BENCH_NS = 'bench';
const IMAGE = 'localhost/selfhost/selfhost:bench';
const MIB = 1024 * 1024;

const { values } = parseArgs({
  options: {
    nodes: { type: 'string', default: '1000' },
    pods: { type: 'string', default: '3000' },
    configmaps: { type: 'string', default: '1000' },
    'settle-seconds': { type: 'string', default: '30' },
    cli: { type: 'string', default: join(REPO, 'dist', 'cli', 'main.js') },
    variant: { type: 'string', multiple: true },
    'heap-snapshot': { type: 'string' },
    'operator-log-level': { type: 'string', default: 'info' },
  },
});

function positiveInt(flag: string, text: string | undefined, min: number): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) throw new Error(`bench-memory: --${flag}: Invalid value: "${String(text)}": an integer >= ${min}`);
  return n;
}
const nodes = positiveInt('nodes', values.nodes, 3);
const podCount = positiveInt('pods', values.pods, 0);
const configMapCount = positiveInt('configmaps', values.configmaps, 0);
const settleMs = positiveInt('settle-seconds', values['settle-seconds'], 0) * 1000;
const cli = resolve(values.cli);
if (!existsSync(cli)) throw new Error(`bench-memory: --cli: ${cli} does not exist (run make build)`);
const snapshotDir = values['heap-snapshot'] === undefined ? undefined : resolve(values['heap-snapshot']);
if (snapshotDir !== undefined) mkdirSync(snapshotDir, { recursive: true });

/**
 * The variant deploy/manager/operator.yaml runs: the node flags of its command and, as root, its
 * memory limit as a memory cgroup (without one, Node sizes V8's heap from the host's memory).
 */
function deploymentVariant(): string {
  const docs = loadAll(readFileSync(join(REPO, 'deploy/manager/operator.yaml'), 'utf8')).map(rec);
  const pod = rec(rec(rec(docs.find((d) => d['kind'] === 'Deployment')?.['spec'])['template'])['spec']);
  const container = arr(pod['containers']).map(rec).find((c) => c['name'] === 'operator');
  // command: [node, ...flags, /app/dist/cli/main.js]
  const nodeOptions = arr(container?.['command']).filter((w): w is string => typeof w === 'string' && w.startsWith('--')).join(' ');
  const limit = /^(\d+)(Mi|Gi)$/.exec(str(rec(rec(container?.['resources'])['limits'])['memory']) ?? '');
  const limitMiB = limit === null ? undefined : Number(limit[1]) * (limit[2] === 'Gi' ? 1024 : 1);
  const cgroup = limitMiB !== undefined && process.getuid?.() === 0 ? `MEMORY_LIMIT_MIB=${limitMiB} ` : '';
  if (limitMiB !== undefined && cgroup === '') console.log(`bench-memory: not root: the deployment variant runs without its ${limitMiB} MiB memory cgroup`);
  return `deployment=${cgroup}${nodeOptions}`;
}

/**
 * Variants: `NAME=[ENV=VALUE ...] NODE_FLAGS[@CLI]` (flags may be empty; CLI defaults to --cli, so
 * that builds can be compared in one run). The pseudo variable MEMORY_LIMIT_MIB=N runs the operator
 * in a memory cgroup with that limit (memory-cgroup.ts; root only), as its Deployment would. The
 * first variant also runs the pivot. Default: the Deployment's (deploymentVariant), then no flags.
 */
const variants = (values.variant ?? [deploymentVariant(), 'defaults=']).map((v) => {
  const eq = v.indexOf('=');
  if (eq <= 0) throw new Error(`bench-memory: --variant: Invalid value: "${v}": NAME=NODE_FLAGS[@CLI] (flags may be empty)`);
  const [flags = '', path] = v.slice(eq + 1).split('@');
  const variantCli = path === undefined ? cli : resolve(path);
  if (!existsSync(variantCli)) throw new Error(`bench-memory: --variant: ${variantCli} does not exist`);
  const words = flags.split(' ').filter((f) => f !== '');
  // Words like MALLOC_ARENA_MAX=2 are environment variables of the process, the rest node flags.
  const env = Object.fromEntries(words.filter((w) => /^[A-Z_]+=/.test(w)).map((w) => [w.slice(0, w.indexOf('=')), w.slice(w.indexOf('=') + 1)]));
  const limit = env['MEMORY_LIMIT_MIB'];
  delete env['MEMORY_LIMIT_MIB'];
  const memoryLimitMiB = limit === undefined ? undefined : positiveInt('variant MEMORY_LIMIT_MIB', limit, 32);
  return {
    name: v.slice(0, eq),
    flags: words.filter((w) => !/^[A-Z_]+=/.test(w)),
    env,
    cli: variantCli,
    ...(memoryLimitMiB === undefined ? {} : { memoryLimitMiB }),
  };
});

const work = mkdtempSync(join(tmpdir(), 'selfhost-bench-memory-'));

// ---------------------------------------------------------------------------------------------
// figures

interface Row {
  run: string;
  /** Peak use of the operator's memory cgroup, bytes (MEMORY_LIMIT_MIB variants). */
  cgroupPeak?: number;
  report?: MemoryReport;
  afterGc?: MemoryReport;
  /** VmHWM (peak RSS) of the process, bytes. */
  peak?: number;
}
const rows: Row[] = [];

const mib = (bytes: number | undefined): string => (bytes === undefined ? '-' : (bytes / MIB).toFixed(1));

function table(): string {
  const head = ['run', 'RSS', 'anon', 'file', 'heapTotal', 'heapUsed', 'external', 'arrayBuf', 'RSS gc', 'heapUsed gc', 'peak RSS', 'cg peak'];
  const body = rows.map((r) => [
    r.run,
    mib(r.report?.rss),
    mib(r.report?.rssAnon),
    mib(r.report?.rssFile),
    mib(r.report?.heapTotal),
    mib(r.report?.heapUsed),
    mib(r.report?.external),
    mib(r.report?.arrayBuffers),
    mib(r.afterGc?.rss),
    mib(r.afterGc?.heapUsed),
    mib(r.peak),
    mib(r.cgroupPeak),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] ?? '').length)));
  const line = (cells: string[]): string => `  ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ')}`;
  const spaces = rows.flatMap((r) => {
    const sp = r.report?.spaces;
    if (sp === undefined || !r.run.startsWith('operator')) return [];
    const parts = Object.entries(sp).map(([name, v]) => `${name.replace(/_space$/, '')} ${mib(v.size)}/${mib(v.used)}`);
    return [`  ${r.run}: ${parts.join(', ')}; malloced ${mib(r.report?.mallocedMemory)}`];
  });
  return [
    line(head),
    ...body.map(line),
    '  (MiB; anon/file: RssAnon/RssFile; gc: after two forced full GCs; cg peak: the memory cgroup\'s peak use)',
    ...(spaces.length === 0 ? [] : ['  V8 heap spaces at settle (committed/used MiB):', ...spaces]),
  ].join('\n');
}

function readReports(path: string): MemoryReport[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as MemoryReport);
}

// ---------------------------------------------------------------------------------------------
// 1. module-load baselines

function runToExit(args: string[], env: Record<string, string>, out: string): Promise<number> {
  return new Promise((res, rej) => {
    const child = spawn(process.execPath, args, { stdio: 'ignore', env: { ...process.env, ...env, SELFHOST_MEMORY_PROBE_OUT: out } });
    child.once('error', rej);
    child.once('exit', (code) => res(code ?? 1));
  });
}

async function baselines(): Promise<void> {
  for (const v of variants) {
    for (const [what, args] of [['node -e ""', ['-e', '']], ['selfhost --help', [v.cli, '--help']]] as const) {
      const out = join(work, `baseline-${rows.length}.jsonl`);
      const code = await runToExit([...v.flags, '--import', PROBE, ...args], v.env, out);
      if (code !== 0) throw new Error(`bench-memory: ${what} exited ${code}`);
      const report = readReports(out).find((r) => r.label === 'exit');
      rows.push({ run: `${what} [${v.name}]`, ...(report === undefined ? {} : { report }) });
    }
  }
}

// ---------------------------------------------------------------------------------------------
// 2. the world

/** kube-proxy, the CNI and deploy/rbac as operator.test.ts applies them (the workloads in kube-system). */
function worldObjects(): JsonObject[] {
  const inNs = (o: JsonObject): JsonObject => ({ ...o, metadata: { ...rec(o['metadata']), namespace: NS } });
  return [...rbacObjects(), ...[...kubeProxyObjects(), ...cniObjects()].map(inNs)];
}

/** Runs `fn` over `items` with `parallel` in flight. */
async function inParallel<T>(items: readonly T[], parallel: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < items.length; i = next++) await fn(items[i] as T);
  };
  await Promise.all(Array.from({ length: Math.min(parallel, items.length) }, worker));
}

async function fillers(admin: KubeClient): Promise<void> {
  await admin.create('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: BENCH_NS } });
  // About 1 KiB of data each, like a typical application ConfigMap.
  const data = { 'app.properties': Array.from({ length: 24 }, (_, i) => `key.${i}=value-${'x'.repeat(24)}`).join('\n') };
  const cms = [
    ...Array.from({ length: configMapCount }, (_, i) => ({ ns: BENCH_NS, name: `filler-${i}` })),
    ...Array.from({ length: 100 }, (_, i) => ({ ns: NS, name: `unrelated-${i}` })),
  ];
  await inParallel(cms, 32, (c) => admin.create(`/api/v1/namespaces/${c.ns}/configmaps`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: c.name }, data }));
  if (podCount === 0) return;
  await admin.create(`/apis/apps/v1/namespaces/${BENCH_NS}/deployments`, {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'filler' },
    spec: {
      replicas: podCount,
      selector: { matchLabels: { app: 'filler' } },
      template: {
        metadata: { labels: { app: 'filler' } },
        spec: {
          containers: [{
            name: 'app',
            image: 'registry.example/filler:1.0',
            args: ['--listen=:8080', '--log-level=info'],
            env: [{ name: 'MODE', value: 'bench' }],
            resources: { requests: { cpu: '1m', memory: '1Mi' } },
            ports: [{ containerPort: 8080, name: 'http' }],
            readinessProbe: { httpGet: { path: '/healthz', port: 8080 } },
          }],
        },
      },
    },
  });
}

async function countPods(admin: KubeClient, ns: string, labelSelector: string): Promise<number> {
  return (await admin.list(`/api/v1/namespaces/${ns}/pods`, { labelSelector, limit: '5000' })).length;
}

/** What the operator's informers hold: objects and JSON bytes, raw and as cached (cache-transform.ts). */
async function scope(admin: KubeClient): Promise<string> {
  const lists: [string, string, Record<string, string>][] = [
    ['controlplanes', CP_PATH, {}],
    ['control-plane nodes', '/api/v1/nodes', { labelSelector: 'node-role.kubernetes.io/control-plane' }],
    ['kube-system pods', `/api/v1/namespaces/${NS}/pods`, {}],
    ['selfhost configmaps', `/api/v1/namespaces/${NS}/configmaps`, { labelSelector: 'app.kubernetes.io/managed-by=selfhost' }],
    ['kube-system daemonsets', `/apis/apps/v1/namespaces/${NS}/daemonsets`, {}],
    ['kube-system deployments', `/apis/apps/v1/namespaces/${NS}/deployments`, {}],
  ];
  const lines: string[] = [];
  for (const [what, path, query] of lists) {
    const items = await admin.list(path, { ...query, limit: '10000' });
    const raw = items.reduce((n, o) => n + JSON.stringify(o).length, 0);
    const cached = items.reduce((n, o) => n + JSON.stringify(computeCachedObject(path, o)).length, 0);
    lines.push(`  ${what.padEnd(24)} ${String(items.length).padStart(6)} objects  ${(raw / 1024).toFixed(0).padStart(7)} KiB JSON, ${(cached / 1024).toFixed(0).padStart(7)} KiB as cached`);
  }
  const everything: [string, string][] = [['all nodes', '/api/v1/nodes'], ['all pods', '/api/v1/pods'], ['all configmaps', '/api/v1/configmaps']];
  for (const [what, path] of everything) {
    const items = await admin.list(path, { limit: '20000' });
    lines.push(`  ${what.padEnd(24)} ${String(items.length).padStart(6)} objects  ${(items.reduce((n, o) => n + JSON.stringify(o).length, 0) / 1024).toFixed(0).padStart(7)} KiB JSON (cluster-wide, not watched)`);
  }
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------
// 3./4. the operator

interface OperatorRun {
  child: ChildProcess;
  cgroup?: MemoryCgroup;
  probeOut: string;
  port: number;
  exited: Promise<void>;
}

async function startOperatorProcess(
  kubeconfigPath: string,
  variant: { flags: readonly string[]; env: Record<string, string>; cli: string; memoryLimitMiB?: number },
  tag: string,
): Promise<OperatorRun> {
  const port = await freePort();
  const probeOut = join(work, `probe-${tag}.jsonl`);
  const fd = openSync(join(work, `operator-${tag}.log`), 'a');
  const cgroup = variant.memoryLimitMiB === undefined ? undefined : createMemoryCgroup(`selfhost-bench-memory-${process.pid}-${tag}`, variant.memoryLimitMiB);
  const nodeArgs = [
    ...variant.flags, '--expose-gc', '--import', PROBE, variant.cli, 'run',
    `--kubeconfig=${kubeconfigPath}`, `--agent-image=${IMAGE}`, `--metrics-addr=127.0.0.1:${port}`, `--identity=bench-${tag}`,
    `--log-level=${values['operator-log-level']}`,
  ];
  const [command, args] = cgroup === undefined ? [process.execPath, nodeArgs] : computeCgroupArgv(cgroup, process.execPath, nodeArgs);
  let child: ChildProcess;
  try {
    child = spawn(command, args, { stdio: ['ignore', fd, fd], env: { ...process.env, ...variant.env, SELFHOST_MEMORY_PROBE_OUT: probeOut, ...(snapshotDir === undefined ? {} : { SELFHOST_MEMORY_PROBE_SNAPSHOT_DIR: snapshotDir }) } });
  } finally {
    closeSync(fd);
  }
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return { child, probeOut, port, exited, ...(cgroup === undefined ? {} : { cgroup }) };
}

function assertAlive(op: OperatorRun, tag: string): void {
  if (op.child.exitCode !== null || op.child.signalCode !== null) {
    const log = readFileSync(join(work, `operator-${tag}.log`), 'utf8').trimEnd().split('\n').slice(-20).join('\n');
    throw Object.assign(new Error(`the operator (${tag}) exited:\n${log}`), { name: 'FatalWait' });
  }
}

async function stopOperator(op: OperatorRun): Promise<void> {
  if (op.child.exitCode === null && op.child.signalCode === null) op.child.kill('SIGTERM');
  const timer = setTimeout(() => op.child.kill('SIGKILL'), 15_000);
  await op.exited;
  clearTimeout(timer);
  const kills = op.cgroup?.oomKills() ?? 0;
  if (kills > 0) console.log(`bench-memory: the operator's memory cgroup saw ${kills} OOM kill(s)`);
  op.cgroup?.remove();
}

/** Settles, then asks the probe for its report (and the after-GC one). */
async function measure(op: OperatorRun, run: string, peakDuring?: number): Promise<void> {
  await new Promise((r) => setTimeout(r, settleMs));
  const pid = op.child.pid ?? 0;
  const peak = peakDuring ?? procMemory(pid)?.hwmKiB;
  op.child.kill('SIGUSR2');
  const reports = await waitFor(`${run}: the probe's report`, async () => {
    const r = readReports(op.probeOut);
    return r.some((x) => x.label === 'afterGc') ? r : undefined;
  }, { timeoutMs: 120_000 });
  const report = reports.find((r) => r.label === 'signal');
  const afterGc = reports.find((r) => r.label === 'afterGc');
  const cgroupPeak = op.cgroup?.peak();
  rows.push({
    run,
    ...(cgroupPeak === undefined ? {} : { cgroupPeak }),
    ...(report === undefined ? {} : { report }),
    ...(afterGc === undefined ? {} : { afterGc }),
    ...(peak === undefined ? {} : { peak: peak * 1024 }),
  });
  if (afterGc?.snapshot !== undefined) console.log(`bench-memory: heap snapshot ${afterGc.snapshot}`);
}

async function readyz(port: number): Promise<boolean> {
  try {
    return (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------

const t0 = Date.now();
const at = (): string => `${((Date.now() - t0) / 1000).toFixed(0)} s`;
console.log(`bench-memory: variants: ${variants.map((v) => `${v.name}: ${Object.entries(v.env).map(([k, x]) => `${k}=${x} `).join('')}node ${v.flags.join(' ')} ${v.cli}`).join('; ')}`);
await baselines();
console.log(`bench-memory: module-load baselines:\n${table()}`);

const sim = await startSimCluster({ nodes: { controlPlane: 3, workers: nodes - 3 }, log: (l) => console.log(`  ${l}`) });
const logs = new LogFiles();
const fakeNodes: FakeNode[] = [];
const root = mkdtempSync(join(tmpdir(), 'selfhost-bench-memory-nodes-'));
let op: OperatorRun | undefined;
let finished = false;
try {
  const kc = kubeConfigFrom(sim.kubeconfig);
  const admin = kubeClient(kc);
  await ensureControlPlaneCrd(kc);
  for (const obj of worldObjects()) await admin.apply(objectPath(obj), obj, { fieldManager: 'bench-memory', force: true });
  await fillers(admin);
  const total = sim.nodes.controlPlane.length + sim.nodes.workers.length;
  await waitFor('kube-proxy and the CNI on every node, the filler pods created', async () => {
    const proxy = await countPods(admin, NS, 'k8s-app=kube-proxy');
    const cni = await countPods(admin, NS, 'k8s-app=selfhost-cni');
    const filler = podCount === 0 ? 0 : await countPods(admin, BENCH_NS, 'app=filler');
    if (proxy >= total && cni >= total && filler >= podCount) return true;
    throw new Error(`kube-proxy ${proxy}/${total}, CNI ${cni}/${total}, filler ${filler}/${podCount}`);
  }, { timeoutMs: 600_000, intervalMs: 2000 });
  // The pivot's preflight wants both DaemonSets' rollouts complete (every pod Ready by kwok).
  await waitFor('kube-proxy and the CNI DaemonSets available on every node', async () => {
    const states = await Promise.all(['kube-proxy', 'selfhost-cni'].map(async (name) => {
      const st = rec(rec(await admin.get(`/apis/apps/v1/namespaces/${NS}/daemonsets/${name}`))['status']);
      return { name, want: Number(st['desiredNumberScheduled'] ?? -1), available: Number(st['numberAvailable'] ?? 0) };
    }));
    if (states.every((d) => d.want === total && d.available === total)) return true;
    throw new Error(states.map((d) => `${d.name} ${d.available}/${d.want} available`).join(', '));
  }, { timeoutMs: 600_000, intervalMs: 2000 });
  console.log(`bench-memory: world created at ${at()}`);

  const agentKc = await serviceAccountKubeConfig(admin, kc, NS, 'selfhost-agent');
  for (const name of sim.nodes.controlPlane) {
    const node = await admin.get(`/api/v1/nodes/${name}`);
    const ip = str(arr(rec(node?.['status'])['addresses']).map(rec).find((a) => a['type'] === 'InternalIP')?.['address']);
    if (ip === undefined) throw new Error(`node ${name} has no InternalIP`);
    const fake = new FakeNode({ name, ip, agentKc, kubeletClient: admin, logs, root });
    for (const [file, text] of fixtureManifests({ name, ip })) fake.writeManifest(file, text);
    fakeNodes.push(fake);
    fake.start();
  }
  await waitFor('every static pod mirrored', async () => {
    const mirrors = (await admin.list(`/api/v1/namespaces/${NS}/pods`)).filter((p) => rec(rec(p['metadata'])['annotations'])['kubernetes.io/config.mirror'] !== undefined);
    return mirrors.length === 4 * fakeNodes.length ? true : undefined;
  }, { timeoutMs: 60_000 });
  await admin.create(CP_PATH, sampleControlPlane());
  console.log(`bench-memory: objects in the operator's scope (and out of it):\n${await scope(admin)}`);

  const opKc = await serviceAccountKubeConfig(admin, kc, NS, 'selfhost');
  const opKubeconfig = join(work, 'operator.kubeconfig');
  writeFileSync(opKubeconfig, opKc.exportConfig(), { mode: 0o600 });

  // 3. the pivot
  const first = variants[0] ?? { name: 'defaults', flags: [], env: {}, cli };
  let tag = 'pivot';
  let running = await startOperatorProcess(opKubeconfig, first, tag);
  op = running;
  const pivotStart = Date.now();
  let lastSaid = 0;
  let restarts = 0;
  await waitFor('phase SelfHosted', async () => {
    if (running.child.exitCode !== null || running.child.signalCode !== null) {
      // As its Deployment would, restart an operator that exited mid-pivot (it does so on losing
      // its lease): the pivot resumes from the ControlPlane's status. Said, not hidden.
      if (restarts === 3) assertAlive(running, tag);
      const tail = readFileSync(join(work, `operator-${tag}.log`), 'utf8').trimEnd().split('\n').slice(-3).join('\n');
      console.log(`bench-memory: the operator exited during the pivot at ${at()}; restarting it. Its last lines:\n${tail}`);
      await stopOperator(running);
      tag = `pivot-${++restarts}`;
      running = await startOperatorProcess(opKubeconfig, first, tag);
      op = running;
    }
    const status = rec(rec(await admin.get(`${CP_PATH}/cluster`))['status']);
    if (status['phase'] === 'SelfHosted') return true;
    const steps = (Array.isArray(rec(status['plan'])['steps']) ? (rec(status['plan'])['steps'] as unknown[]) : []).map(rec);
    const now = steps.find((st) => st['state'] !== 'Succeeded');
    const line = `phase ${String(status['phase'])}; step ${String(now?.['component'])} ${String(now?.['state'])}: ${String(now?.['message'] ?? '')}`;
    if (Date.now() - lastSaid > 30_000) {
      lastSaid = Date.now();
      console.log(`bench-memory: pivot at ${at()}: ${line}`);
    }
    throw new Error(line);
  }, { timeoutMs: 900_000, intervalMs: 1000 });
  const pivotPeak = procMemory(running.child.pid ?? 0)?.hwmKiB;
  console.log(`bench-memory: pivot done in ${((Date.now() - pivotStart) / 1000).toFixed(0)} s (at ${at()}${restarts === 0 ? '' : `, ${restarts} operator restart(s)`}); settling ${settleMs / 1000} s`);
  await measure(running, `operator idle after the pivot [${first.name}]`, pivotPeak);
  await stopOperator(running);

  // 4. restarts on the idle world
  for (const v of variants) {
    const tag = `idle-${variants.indexOf(v)}`;
    op = await startOperatorProcess(opKubeconfig, v, tag);
    const current = op;
    await waitFor(`${tag} ready`, async () => {
      assertAlive(current, tag);
      return (await readyz(current.port)) ? true : undefined;
    }, { timeoutMs: 120_000, intervalMs: 500 });
    await measure(current, `operator idle, restarted [${v.name}]`);
    await stopOperator(current);
    op = undefined;
  }
  console.log(`bench-memory: ${nodes} nodes, ${podCount} filler pods, ${configMapCount} filler ConfigMaps; settle ${settleMs / 1000} s; total ${at()}`);
  console.log(table());
  finished = true;
} finally {
  if (op !== undefined) await stopOperator(op);
  for (const n of fakeNodes) await n.shutdown();
  await sim.stop();
  rmSync(root, { recursive: true, force: true });
  if (finished) {
    logs.remove();
    rmSync(work, { recursive: true, force: true });
  } else {
    console.error(`bench-memory: failed; the operator's log and probe output are kept in ${work}, the node agents' in ${logs.dir}`);
  }
}
