/**
 * The world the operator integration test (operator.test.ts) drives: the sim's real apiserver
 * with kwok nodes, plus a "node side" per control-plane node played in this process:
 *
 *  - the REAL node agent (src/agent), whose manifest and backup directories are temp dirs. It
 *    runs with the production paths (/etc/kubernetes/manifests, /etc/kubernetes/selfhost/backup)
 *    over a DiskOps that maps them onto that node's temp dirs, so every node reports the same
 *    paths a kubeadm cluster would and desired.json means the same on every node;
 *  - a fake kubelet: mirrors the manifest directory into mirror pods `<component>-<node>` in
 *    kube-system (created when a file appears, recreated when its content changes, deleted when
 *    it is gone). kwok then plays their status (Running/Ready), as it does for every pod on its
 *    nodes, init containers included (so etcd's handover gate shows as finished).
 *
 * Also the kube-proxy (kubeadm's addon) and CNI (hack/node/manifests/selfhost-cni.yaml)
 * DaemonSets, the RBAC of deploy/rbac (the operator and the agents run as their ServiceAccounts,
 * with tokens from the TokenRequest API), the ControlPlane, and a complete cleanup.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, posix } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { load, loadAll } from 'js-yaml';
import { pino, type LevelWithSilent, type Logger } from 'pino';
import { NodeAgent } from '../../src/agent/agent.js';
import type { AgentConfigMap } from '../../src/agent/configmap.js';
import { nodeDisk, type DiskOps } from '../../src/agent/disk.js';
import { agentConfigMapName, DEFAULT_BACKUP_DIR } from '../../src/api/agent.js';
import { STATIC_MANIFEST_DIR, SYSTEM_NAMESPACE } from '../../src/api/constants.js';
import { API_GROUP, API_VERSION, PLURAL } from '../../src/api/types.js';
import { kubeListWatch } from '../../src/controller/kube-list-watch.js';
import { kubeClient, type JsonObject, type KubeClient } from '../../src/kube/client.js';
import { sha256Hex } from '../../src/convert/hash.js';
import { createLogger } from '../../src/operator/logger.js';
import { runOperator } from '../../src/operator/operator.js';
import { annotationsOf, arr, labelsOf, nameOf, rec, str } from '../../src/operator/snapshot.js';
import { waitFor } from '../support/wait.js';

/**
 * The repository: the nearest directory above this file with the sample. Not a fixed `../..`:
 * bench-memory (test/sim) runs this file compiled, from .cache/tsbuild/test/integration.
 */
export const REPO = ((): string => {
  for (let dir = import.meta.dirname; dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dir, 'deploy/samples/controlplane.yaml'))) return dir;
  }
  throw new Error(`operator-world: no repository above ${import.meta.dirname}`);
})();
export const FIXTURE_DIR = join(REPO, 'src/convert/testdata/kubeadm/v1.37.2');
/** The fixture was generated for this node (kubeadm-config.yaml). */
export const FIXTURE_NODE = { name: 'cp1', ip: '192.0.2.10' };
export const IMAGE = 'localhost/selfhost/selfhost:test';
export const CP_PATH = `/apis/${API_GROUP}/${API_VERSION}/${PLURAL}`;
export const CP_NAME = 'cluster';
export const MIRROR_ANNOTATION = 'kubernetes.io/config.mirror';
const NS = SYSTEM_NAMESPACE;
const PODS = `/api/v1/namespaces/${NS}/pods`;

// ---------------------------------------------------------------------------------------------
// small JSON helpers: the operator's own (re-exported for the test)

export { annotationsOf, arr, labelsOf, nameOf, rec, str };
export { sha256Hex as sha256 };

// ---------------------------------------------------------------------------------------------
// logs: every in-process actor logs JSON lines into a file of its own (tails printed on failure)

const LEVELS: readonly LevelWithSilent[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export class LogFiles {
  readonly dir = mkdtempSync(join(tmpdir(), 'selfhost-operator-test-logs-'));
  private readonly files = new Map<string, string>();
  /** SELFHOST_TEST_LOG overrides (e.g. info); debug shows every planned action. */
  readonly level: LevelWithSilent = LEVELS.find((l) => l === process.env['SELFHOST_TEST_LOG']) ?? 'debug';

  logger(name: string): Logger {
    const path = join(this.dir, `${name}.log`);
    this.files.set(name, path);
    return createLogger({
      level: this.level,
      name,
      destination: pino.destination({ dest: path, sync: true, mkdir: true }),
    });
  }

  paths(): Record<string, string> {
    return Object.fromEntries(this.files);
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// the node side

/** A DiskOps that maps absolute path prefixes onto other directories (a node's "root"). */
export function remapDisk(base: DiskOps, mounts: readonly { from: string; to: string }[]): DiskOps {
  const map = (p: string): string => {
    for (const m of mounts) {
      if (p === m.from) return m.to;
      if (p.startsWith(`${m.from}/`)) return `${m.to}${p.slice(m.from.length)}`;
    }
    throw new Error(`${p} is outside this fake node's directories (${mounts.map((m) => m.from).join(', ')})`);
  };
  return {
    list: (dir) => base.list(map(dir)),
    read: (path) => base.read(map(path)),
    writeAtomic: (path, data) => base.writeAtomic(map(path), data),
    remove: (path) => base.remove(map(path)),
  };
}

/** The fixture's manifests (file name → text) as kubeadm would have written them on `node`. */
export function fixtureManifests(node: { name: string; ip: string } | undefined): Map<string, string> {
  const dir = join(FIXTURE_DIR, 'manifests');
  const out = new Map<string, string>();
  for (const file of readdirSync(dir).sort()) {
    let text = readFileSync(join(dir, file), 'utf8');
    if (node !== undefined) {
      text = text.replaceAll(FIXTURE_NODE.ip, node.ip).replace(new RegExp(`\\b${FIXTURE_NODE.name}\\b`, 'g'), node.name);
    }
    out.set(file, text);
  }
  return out;
}

export interface FakeNodeOptions {
  name: string;
  ip: string;
  /** Client of the agent (its ServiceAccount) and of the fake kubelet. */
  agentKc: KubeConfig;
  kubeletClient: KubeClient;
  logs: LogFiles;
  root: string;
}

/** One control-plane node's disk, agent and kubelet. */
export class FakeNode {
  readonly name: string;
  readonly ip: string;
  readonly manifestDir: string;
  readonly backupDir: string;
  private readonly stop = new AbortController();
  private readonly loops: Promise<void>[] = [];
  private readonly opts: FakeNodeOptions;
  /** Kubelet errors (API down etc.), for failure messages. */
  kubeletErrors: string[] = [];
  kubeletPaused = false;

  constructor(opts: FakeNodeOptions) {
    this.opts = opts;
    this.name = opts.name;
    this.ip = opts.ip;
    this.manifestDir = join(opts.root, opts.name, 'etc/kubernetes/manifests');
    this.backupDir = join(opts.root, opts.name, 'etc/kubernetes/selfhost/backup');
    mkdirSync(this.manifestDir, { recursive: true });
  }

  /** Writes a manifest as kubeadm (or an admin) would: straight into the directory. */
  writeManifest(file: string, content: string): void {
    writeFileSync(join(this.manifestDir, file), content, { mode: 0o600 });
  }

  manifests(): string[] {
    return readdirSync(this.manifestDir).filter((f) => !f.startsWith('.')).sort();
  }

  backups(): Map<string, string> {
    const out = new Map<string, string>();
    let names: string[];
    try {
      names = readdirSync(this.backupDir);
    } catch {
      return out;
    }
    for (const f of names.filter((n) => !n.startsWith('.')).sort()) out.set(f, readFileSync(join(this.backupDir, f), 'utf8'));
    return out;
  }

  start(): void {
    const { name, agentKc, logs } = this.opts;
    const agent = new NodeAgent({
      node: name,
      namespace: NS,
      manifestDir: STATIC_MANIFEST_DIR,
      backupDir: DEFAULT_BACKUP_DIR,
      intervalMs: 500,
      client: kubeClient(agentKc),
      source: kubeListWatch<AgentConfigMap>({
        kc: agentKc,
        path: `/api/v1/namespaces/${NS}/configmaps`,
        fieldSelector: `metadata.name=${agentConfigMapName(name)}`,
      }),
      disk: remapDisk(nodeDisk(), [
        { from: STATIC_MANIFEST_DIR, to: this.manifestDir },
        { from: posix.dirname(DEFAULT_BACKUP_DIR), to: posix.dirname(this.backupDir) },
      ]),
      logger: logs.logger(`agent-${name}`),
      backoff: { initialMs: 200, maxMs: 2000, jitter: 0.2 },
    });
    this.loops.push(agent.run(this.stop.signal));
    this.loops.push(this.kubeletLoop(logs.logger(`kubelet-${name}`)));
  }

  async shutdown(): Promise<void> {
    this.stop.abort();
    await Promise.all(this.loops);
  }

  private async kubeletLoop(logger: Logger): Promise<void> {
    const signal = this.stop.signal;
    while (!signal.aborted) {
      if (!this.kubeletPaused) {
        try {
          await this.syncMirrorPods(logger);
        } catch (err) {
          const msg = err instanceof Error ? err.message : String(err);
          this.kubeletErrors.push(msg);
          if (this.kubeletErrors.length > 50) this.kubeletErrors.shift();
          logger.warn({ err: msg }, 'mirror pod sync failed');
        }
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** The mirror pods the files in the manifest directory call for (name → hash and body). */
  private wantedMirrors(): Map<string, { hash: string; body: JsonObject }> {
    const want = new Map<string, { hash: string; body: JsonObject }>();
    for (const file of this.manifests()) {
      let text: string;
      try {
        text = readFileSync(join(this.manifestDir, file), 'utf8');
      } catch {
        continue; // removed meanwhile
      }
      let pod: Record<string, unknown>;
      try {
        pod = rec(load(text));
      } catch {
        continue; // the kubelet skips what it cannot parse
      }
      const meta = rec(pod['metadata']);
      const podName = `${str(meta['name']) ?? file}-${this.name}`;
      const hash = sha256Hex(text).slice(0, 32);
      want.set(podName, {
        hash,
        body: {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: {
            name: podName,
            namespace: NS,
            labels: rec(meta['labels']),
            annotations: {
              ...rec(meta['annotations']),
              [MIRROR_ANNOTATION]: hash,
              'kubernetes.io/config.hash': hash,
              'kubernetes.io/config.source': 'file',
            },
          },
          spec: { ...rec(pod['spec']), nodeName: this.name },
        },
      });
    }
    return want;
  }

  /** One level-based pass, like the kubelet's mirror-pod sync. */
  private async syncMirrorPods(logger: Logger): Promise<void> {
    const client = this.opts.kubeletClient;
    const want = this.wantedMirrors();
    const pods = await client.list(PODS, { fieldSelector: `spec.nodeName=${this.name}` });
    const mirrors = pods.filter((p) => annotationsOf(p)[MIRROR_ANNOTATION] !== undefined);
    for (const m of mirrors) {
      const w = want.get(nameOf(m));
      if (w !== undefined && w.hash === annotationsOf(m)[MIRROR_ANNOTATION]) continue;
      logger.info({ pod: nameOf(m), reason: w === undefined ? 'file gone' : 'file changed' }, 'deleting mirror pod');
      await client.delete(`${PODS}/${nameOf(m)}`, { apiVersion: 'v1', kind: 'DeleteOptions', gracePeriodSeconds: 0 });
    }
    for (const [name, w] of want) {
      const existing = mirrors.find((m) => nameOf(m) === name);
      if (existing !== undefined && annotationsOf(existing)[MIRROR_ANNOTATION] === w.hash) continue;
      if (existing !== undefined) continue; // deleted just now; created on the next pass
      logger.info({ pod: name }, 'creating mirror pod');
      await client.create(PODS, w.body);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// cluster objects

/** API path of an object (the kinds this test creates). */
export function objectPath(obj: JsonObject): string {
  const kind = str(obj['kind']) ?? '';
  const meta = rec(obj['metadata']);
  const name = str(meta['name']) ?? '';
  const ns = str(meta['namespace']) ?? 'default';
  const table: Record<string, [string, string, boolean]> = {
    ServiceAccount: ['/api/v1', 'serviceaccounts', true],
    ConfigMap: ['/api/v1', 'configmaps', true],
    DaemonSet: ['/apis/apps/v1', 'daemonsets', true],
    Deployment: ['/apis/apps/v1', 'deployments', true],
    Role: ['/apis/rbac.authorization.k8s.io/v1', 'roles', true],
    RoleBinding: ['/apis/rbac.authorization.k8s.io/v1', 'rolebindings', true],
    ClusterRole: ['/apis/rbac.authorization.k8s.io/v1', 'clusterroles', false],
    ClusterRoleBinding: ['/apis/rbac.authorization.k8s.io/v1', 'clusterrolebindings', false],
  };
  const entry = table[kind];
  if (entry === undefined) throw new Error(`objectPath: unsupported kind ${kind}`);
  const [group, plural, namespaced] = entry;
  return namespaced ? `${group}/namespaces/${ns}/${plural}/${name}` : `${group}/${plural}/${name}`;
}

function yamlDocs(path: string): JsonObject[] {
  return loadAll(readFileSync(path, 'utf8')).filter((d): d is JsonObject => typeof d === 'object' && d !== null);
}

/** kubeadm's kube-proxy addon: its ServiceAccount, ConfigMap and DaemonSet (RBAC left out). */
export function kubeProxyObjects(): JsonObject[] {
  return yamlDocs(join(FIXTURE_DIR, 'kube-proxy-addon.yaml')).filter((d) =>
    ['ServiceAccount', 'ConfigMap', 'DaemonSet'].includes(str(d['kind']) ?? ''),
  );
}

/** The node tier's CNI with its ${VARS} filled in with harmless values. */
export function cniObjects(): JsonObject[] {
  const vars: Record<string, string> = {
    POD_BRIDGE: 'selfhost0',
    NODE_POD_CIDR: '10.244.0.0/24',
    POD_GW: '10.244.0.1',
    POD_CIDR: '10.244.0.0/16',
    SERVICE_CIDR: '10.96.0.0/16',
    NODE_IP: '127.0.0.1',
    CNI_BIN_DIR: '/opt/cni/bin',
    CNI_CONF_DIR: '/etc/cni/net.d',
  };
  const text = readFileSync(join(REPO, 'hack/node/manifests/selfhost-cni.yaml'), 'utf8').replace(
    /\$\{([A-Z_]+)\}/g,
    (all, v: string) => vars[v] ?? all,
  );
  const docs = loadAll(text).filter((d): d is JsonObject => typeof d === 'object' && d !== null);
  const left = /\$\{[A-Z_]+\}/.exec(JSON.stringify(docs));
  if (left !== null) throw new Error(`selfhost-cni.yaml has ${left[0]}, which this test does not fill`);
  return docs;
}

/** deploy/rbac: the operator's and the agent's ServiceAccounts and roles. */
export function rbacObjects(): JsonObject[] {
  return [...yamlDocs(join(REPO, 'deploy/rbac/operator.yaml')), ...yamlDocs(join(REPO, 'deploy/rbac/agent.yaml'))];
}

/** deploy/samples/controlplane.yaml with the CNI found by its label. */
export function sampleControlPlane(): JsonObject {
  const cp = rec(load(readFileSync(join(REPO, 'deploy/samples/controlplane.yaml'), 'utf8')));
  const spec = rec(cp['spec']);
  return { ...cp, spec: { ...spec, cni: { namespace: NS, selector: { 'k8s-app': 'selfhost-cni' } } } };
}

/** A kubeconfig for a ServiceAccount (a bound token from the TokenRequest API). */
export async function serviceAccountKubeConfig(
  admin: KubeClient,
  adminKc: KubeConfig,
  namespace: string,
  name: string,
  server?: string,
): Promise<KubeConfig> {
  const res = await admin.create(`/api/v1/namespaces/${namespace}/serviceaccounts/${name}/token`, {
    apiVersion: 'authentication.k8s.io/v1',
    kind: 'TokenRequest',
    spec: { expirationSeconds: 3600 },
  });
  const token = str(rec(res['status'])['token']);
  if (token === undefined) throw new Error(`no token for ${namespace}/${name}`);
  return kubeConfigFor(adminKc, { name: `${namespace}-${name}`, token }, server);
}

/** adminKc's cluster (optionally at another server URL) with another user. */
export function kubeConfigFor(adminKc: KubeConfig, user: { name: string; token: string }, server?: string): KubeConfig {
  const cluster = adminKc.getCurrentCluster();
  if (cluster === null || cluster.caData === undefined) throw new Error('admin kubeconfig lacks a cluster CA');
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'sim', server: server ?? cluster.server, caData: cluster.caData, skipTLSVerify: false }],
    users: [{ name: user.name, token: user.token }],
    contexts: [{ name: 'sim', cluster: 'sim', user: user.name }],
    currentContext: 'sim',
  });
  return kc;
}

/** The admin kubeconfig pointed at another server URL (e.g. the proxy). */
export function withServer(adminKc: KubeConfig, server: string): KubeConfig {
  const user = adminKc.getCurrentUser();
  if (user?.token === undefined) throw new Error('admin kubeconfig lacks a token');
  return kubeConfigFor(adminKc, { name: user.name, token: user.token }, server);
}

// ---------------------------------------------------------------------------------------------
// the operator in-process

export interface RunningOperator {
  readonly identity: string;
  /** The metrics port once listening. */
  readonly port: Promise<number>;
  /** runOperator's exit code. */
  readonly done: Promise<number>;
  /** Set when done settled. */
  exitCode: number | undefined;
  stop(): Promise<number>;
  metrics(): Promise<string>;
}

export function startOperator(opts: {
  kc: KubeConfig;
  identity: string;
  leaderElect: boolean;
  logger: Logger;
  progressRequeueMs?: number;
}): RunningOperator {
  const abort = new AbortController();
  let resolvePort: (port: number) => void = () => undefined;
  const port = new Promise<number>((r) => (resolvePort = r));
  const op: RunningOperator = {
    identity: opts.identity,
    port,
    exitCode: undefined,
    done: runOperator(
      {
        kc: opts.kc,
        image: IMAGE,
        metricsHost: '127.0.0.1',
        metricsPort: 0,
        identity: opts.identity,
        leaderElect: opts.leaderElect,
        logger: opts.logger,
        progressRequeueMs: opts.progressRequeueMs ?? 300,
        onListening: (p) => resolvePort(p),
      },
      abort.signal,
    ).then((code) => {
      op.exitCode = code;
      return code;
    }),
    async stop() {
      abort.abort();
      return op.done;
    },
    async metrics() {
      const res = await fetch(`http://127.0.0.1:${await port}/metrics`);
      return res.text();
    },
  };
  return op;
}

/** Sum of a counter's samples whose labels pass `keep` (Prometheus text format). */
export function sumSamples(text: string, metric: string, keep: (labels: Record<string, string>) => boolean = () => true): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${metric}{`) && !line.startsWith(`${metric} `)) continue;
    const m = /^[a-z_]+(?:\{(.*)\})? ([0-9.eE+-]+|NaN)$/.exec(line);
    if (m === null) continue;
    const labels: Record<string, string> = {};
    for (const pair of (m[1] ?? '').matchAll(/([a-zA-Z_]+)="((?:[^"\\]|\\.)*)"/g)) labels[pair[1] ?? ''] = pair[2] ?? '';
    if (keep(labels)) sum += Number(m[2]);
  }
  return sum;
}

/** Write requests (everything but GET) the operator's KubeClient sent, from its /metrics. */
export async function operatorWrites(op: RunningOperator): Promise<number> {
  return sumSamples(await op.metrics(), 'selfhost_apiserver_requests_total', (l) => l['verb'] !== 'get');
}

// ---------------------------------------------------------------------------------------------
// reading the world

export async function getControlPlane(client: KubeClient): Promise<JsonObject | undefined> {
  return client.get(`${CP_PATH}/${CP_NAME}`);
}

export function conditionOf(cp: JsonObject | undefined, type: string): Record<string, unknown> | undefined {
  return arr(rec(rec(cp)['status'])['conditions']).map(rec).find((c) => c['type'] === type);
}

export function phaseOf(cp: JsonObject | undefined): string | undefined {
  return str(rec(rec(cp)['status'])['phase']);
}

/** A one-line picture of the ControlPlane's status for failure messages. */
export function describeStatus(cp: JsonObject | undefined): string {
  const status = rec(rec(cp)['status']);
  const plan = rec(status['plan']);
  const steps = arr(plan['steps']).map(rec).map((s) => `${String(s['component'])}:${String(s['state'])}${s['message'] === undefined ? '' : ` (${String(s['message'])})`}`);
  const conditions = arr(status['conditions']).map(rec).map((c) => `${String(c['type'])}=${String(c['status'])}`);
  return `phase ${String(status['phase'])}; ${conditions.join(' ')}; steps: ${steps.join(', ')}`;
}

export async function listWorkloads(client: KubeClient): Promise<JsonObject[]> {
  const ds = await client.list(`/apis/apps/v1/namespaces/${NS}/daemonsets`);
  const deps = await client.list(`/apis/apps/v1/namespaces/${NS}/deployments`);
  return [...ds.map((d) => ({ ...d, kind: 'DaemonSet' })), ...deps.map((d) => ({ ...d, kind: 'Deployment' }))];
}

export async function listMirrorPods(client: KubeClient): Promise<JsonObject[]> {
  return (await client.list(PODS)).filter((p) => annotationsOf(p)[MIRROR_ANNOTATION] !== undefined);
}

export async function listControlPlaneEvents(client: KubeClient): Promise<JsonObject[]> {
  const events = await client.list('/apis/events.k8s.io/v1/namespaces/default/events');
  return events.filter((e) => {
    const r = rec(e['regarding']);
    return r['kind'] === 'ControlPlane' && r['name'] === CP_NAME;
  });
}

/** Deletes (ignoring 404) and waits until it is gone. */
export async function deleteAndWait(client: KubeClient, path: string, timeoutMs = 30_000): Promise<void> {
  await client.delete(path, { apiVersion: 'v1', kind: 'DeleteOptions', propagationPolicy: 'Background' });
  await waitFor(`${path} deleted`, async () => ((await client.get(path)) === undefined ? true : undefined), { timeoutMs });
}
