/**
 * Tier "sim": a real control plane as host processes on loopback (etcd, kube-apiserver,
 * kube-controller-manager, kube-scheduler) plus kwok, which plays the kubelet of N fake nodes:
 * it marks them Ready, renews their leases and fakes every pod bound to them as Running/Ready
 * (and deletes them when asked). Real DaemonSet, Deployment and rolling-update behaviour; no
 * containers.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { CoreV1Api, type KubeConfig, type V1Node } from '@kubernetes/client-node';
import { startApiServer } from '../support/apiserver.js';
import { binary } from '../support/binaries.js';
import { kubeConfigFrom } from '../support/kube.js';
import { formatLogTails } from '../support/logs.js';
import { freePort } from '../support/ports.js';
import { startProcess, type Managed } from '../support/process.js';
import { waitFor, waitForNodesReady } from '../support/wait.js';

/** How many fake nodes: a number N means min(N, 3) control-plane nodes and the rest workers. */
export type SimNodes = { controlPlane: number; workers: number } | number;

export interface SimOptions {
  nodes?: SimNodes;
  /** Progress lines (phase timings); silent by default. */
  log?: (line: string) => void;
  /** How long to wait for all nodes to be Ready (default: 60 s + 100 ms per node). */
  nodesReadyTimeoutMs?: number;
  /** Called with each component right after it started (e.g. to record PIDs for a later stop). */
  onProcess?: (p: Managed, dir: string) => void;
}

export interface SimCluster {
  /** Admin kubeconfig (token auth, system:masters). */
  kubeconfig: string;
  kubeconfigPath: string;
  url: string;
  /** The run's temp dir (component logs, kubeconfigs, etcd data); removed by stop(). */
  dir: string;
  /** etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok. */
  components: Managed[];
  /** Loopback ports of the components' secure serving (/healthz). */
  ports: { apiserver: number; controllerManager: number; scheduler: number };
  nodes: { controlPlane: string[]; workers: string[] };
  /** Milliseconds from the start of startSimCluster to the end of each phase. */
  timings: Record<string, number>;
  /** Each component's log tail, for failure messages. */
  logTails(lines?: number): string;
  stop(): Promise<void>;
}

export const CONTROL_PLANE_LABEL = 'node-role.kubernetes.io/control-plane';
/** kwok manages the nodes carrying this annotation (and only those). */
export const KWOK_NODE_ANNOTATION = 'kwok.x-k8s.io/node';
/** Above this many nodes the controller-manager and scheduler get higher client rate limits. */
export const LARGE_CLUSTER = 100;

export function nodeCounts(nodes: SimNodes = { controlPlane: 3, workers: 2 }): { controlPlane: number; workers: number } {
  if (typeof nodes === 'number') {
    const controlPlane = Math.min(nodes, 3);
    return { controlPlane, workers: nodes - controlPlane };
  }
  return nodes;
}

/**
 * Starts the sim tier. Steps: 1. etcd + kube-apiserver (support/apiserver.ts) with token users
 * for the controller-manager, the scheduler and kwok; 2. kube-controller-manager, kube-scheduler
 * and kwok together; 3. the Node objects (kubeadm's control-plane label and taint on cp-N);
 * 4. wait for both controllers' /healthz, the default ServiceAccount (the controllers work) and
 * every node Ready and untainted. Any failure stops everything and throws with all log tails.
 */
export async function startSimCluster(options: SimOptions = {}): Promise<SimCluster> {
  const t0 = Date.now();
  const timings: Record<string, number> = {};
  const log = options.log ?? (() => undefined);
  const mark = (phase: string): void => {
    timings[phase] = Date.now() - t0;
    log(`sim: ${phase} at ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  };
  const counts = nodeCounts(options.nodes);
  const kwokBin = binary('SELFHOST_KWOK_BIN', 'kwok');
  const cmBin = binary('SELFHOST_K8S_BIN', 'kube-controller-manager');
  const schedBin = binary('SELFHOST_K8S_BIN', 'kube-scheduler');

  const onProcess = options.onProcess ?? (() => undefined);
  const api = await startApiServer({
    onProcess,
    users: [
      { name: 'system:kube-controller-manager' },
      { name: 'system:kube-scheduler' },
      { name: 'kwok-controller', groups: ['system:masters'] },
    ],
  });
  const components = api.processes;
  const logTails = (lines = 20): string =>
    formatLogTails(Object.fromEntries(components.map((p) => [p.name, p.logPath])), lines);
  const apiPort = Number(new URL(api.url).port);
  mark('apiserver ready');
  try {
    const [cmPort, schedPort] = [await freePort(), await freePort()];
    const total = counts.controlPlane + counts.workers;
    // kubeadm's defaults (20 QPS per controller client) let the node lifecycle controller clear
    // the not-ready taint of about 5 nodes/s: fine for a handful of nodes, minutes for 1000.
    const qpsFlags = total > LARGE_CLUSTER ? ['--kube-api-qps=200', '--kube-api-burst=400'] : [];
    const cmKubeconfig = api.kubeconfigFor('system:kube-controller-manager');
    const cm = startProcess('kube-controller-manager', cmBin, [
      `--kubeconfig=${cmKubeconfig}`,
      `--authentication-kubeconfig=${cmKubeconfig}`,
      `--authorization-kubeconfig=${cmKubeconfig}`,
      // No client CA here, so the apiserver never publishes extension-apiserver-authentication.
      '--authentication-skip-lookup=true',
      '--bind-address=127.0.0.1',
      `--secure-port=${cmPort}`,
      `--cert-dir=${join(api.dir, 'kube-controller-manager')}`,
      `--service-account-private-key-file=${api.saKeyPath}`,
      `--root-ca-file=${api.caPath}`,
      // As kubeadm runs it: one token per controller, RBAC'd by the bootstrap policy.
      '--use-service-account-credentials=true',
      '--controllers=*,bootstrapsigner,tokencleaner',
      '--leader-elect=true',
      '--cluster-name=sim',
      '--profiling=false',
      ...qpsFlags,
    ], join(api.dir, 'kube-controller-manager.log'));
    components.push(cm);
    onProcess(cm, api.dir);
    const schedKubeconfig = api.kubeconfigFor('system:kube-scheduler');
    const sched = startProcess('kube-scheduler', schedBin, [
      `--kubeconfig=${schedKubeconfig}`,
      `--authentication-kubeconfig=${schedKubeconfig}`,
      `--authorization-kubeconfig=${schedKubeconfig}`,
      '--authentication-skip-lookup=true',
      '--bind-address=127.0.0.1',
      `--secure-port=${schedPort}`,
      `--cert-dir=${join(api.dir, 'kube-scheduler')}`,
      '--leader-elect=true',
      '--profiling=false',
      ...qpsFlags,
    ], join(api.dir, 'kube-scheduler.log'));
    components.push(sched);
    onProcess(sched, api.dir);
    const kwokConfig = join(api.dir, 'kwok.yaml');
    writeFileSync(kwokConfig, kwokConfiguration(readFileSync(join(kwokBin, '..', '..', 'stages.yaml'), 'utf8')));
    const kwok = startProcess('kwok', kwokBin, [
      `--kubeconfig=${api.kubeconfigFor('kwok-controller')}`,
      `--config=${kwokConfig}`,
      `--manage-nodes-with-annotation-selector=${KWOK_NODE_ANNOTATION}=fake`,
      // Fallback node IP and pod CIDR: fake addresses in API objects only; nothing is sent there.
      '--node-ip=127.0.0.1',
      '--cidr=10.244.0.0/16',
      '--node-lease-duration-seconds=40',
    ], join(api.dir, 'kwok.log'));
    components.push(kwok);
    onProcess(kwok, api.dir);

    const kc = kubeConfigFrom(api.kubeconfig);
    const nodes = await createNodes(kc, counts);
    mark(`${nodes.controlPlane.length + nodes.workers.length} nodes created`);

    const ready = Promise.all([
      waitHealthz(cm, cmPort).then(() => mark('kube-controller-manager healthy')),
      waitHealthz(sched, schedPort).then(() => mark('kube-scheduler healthy')),
      waitForDefaultServiceAccount(kc, cm).then(() => mark('default ServiceAccount created')),
      waitForNodesReady(kc, total, {
        labelSelector: 'type=kwok',
        timeoutMs: options.nodesReadyTimeoutMs ?? 60_000 + 100 * total,
        intervalMs: total > 100 ? 1000 : 200,
        onProgress: (line) => log(`sim: nodes: ${line}`),
        onStatus: (st) => {
          if (st.readyCondition >= total && timings['all nodes Ready=True (kwok)'] === undefined) {
            mark('all nodes Ready=True (kwok)');
          }
        },
      }).then(() => mark('all nodes Ready')), // Ready=True and the not-ready taint removed
    ]);
    ready.catch(() => undefined); // when a component exit wins the race below, `ready` fails later
    // A component that dies while we wait fails the start at once.
    let waiting = true;
    await Promise.race([ready, watchExits([cm, sched, kwok], () => !waiting)]).finally(() => {
      waiting = false;
    });
    mark('ready');
    return {
      kubeconfig: api.kubeconfig,
      kubeconfigPath: api.kubeconfigPath,
      url: api.url,
      dir: api.dir,
      components,
      ports: { apiserver: apiPort, controllerManager: cmPort, scheduler: schedPort },
      nodes,
      timings,
      logTails,
      stop: () => api.stop(),
    };
  } catch (err) {
    const tails = logTails(20);
    await api.stop();
    const reason = err instanceof Error ? err.message : String(err);
    throw new Error(`sim tier did not start: ${reason}\n${tails}`, { cause: err });
  }
}

/**
 * kwok's configuration: more parallel workers than its defaults (4), which bound how fast
 * thousands of nodes turn Ready, and kwok's "fast" stages (node-initialize,
 * node-heartbeat-with-lease, pod-ready, pod-complete, pod-delete) that hack/build-kwok.sh wrote
 * next to the binary. Without stages a standalone kwok does nothing.
 */
function kwokConfiguration(stages: string): string {
  return [
    'apiVersion: config.kwok.x-k8s.io/v1alpha1',
    'kind: KwokConfiguration',
    'options:',
    '  nodePlayStageParallelism: 16',
    '  nodeLeaseParallelism: 16',
    '  podPlayStageParallelism: 16',
    '---',
    stages,
  ].join('\n');
}

/** Rejects as soon as one of `procs` has exited, until `done()` says the wait is over. */
async function watchExits(procs: Managed[], done: () => boolean): Promise<void> {
  while (!done()) {
    for (const p of procs) p.assertRunning();
    await new Promise((r) => setTimeout(r, 250));
  }
}

function nodeObject(name: string, index: number, controlPlane: boolean): V1Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      labels: {
        'kubernetes.io/hostname': name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        type: 'kwok',
        ...(controlPlane
          ? { [CONTROL_PLANE_LABEL]: '', 'node.kubernetes.io/exclude-from-external-load-balancers': '' }
          : {}),
      },
      annotations: { [KWOK_NODE_ANNOTATION]: 'fake', 'node.alpha.kubernetes.io/ttl': '0' },
    },
    spec: controlPlane ? { taints: [{ key: CONTROL_PLANE_LABEL, effect: 'NoSchedule' }] } : {},
    status: {
      // One loopback address per node (127.10.0.0/16): distinct like real nodes, and anything
      // that tried to reach a "kubelet" would stay on this host.
      addresses: [
        { type: 'InternalIP', address: `127.10.${Math.floor(index / 250)}.${(index % 250) + 1}` },
        { type: 'Hostname', address: name },
      ],
    },
  };
}

/** Creates cp-1..cp-N and worker-1..worker-M (32 requests in flight). */
async function createNodes(
  kc: KubeConfig,
  counts: { controlPlane: number; workers: number },
): Promise<{ controlPlane: string[]; workers: string[] }> {
  const core = kc.makeApiClient(CoreV1Api);
  const controlPlane = Array.from({ length: counts.controlPlane }, (_, i) => `cp-${i + 1}`);
  const workers = Array.from({ length: counts.workers }, (_, i) => `worker-${i + 1}`);
  const all = [...controlPlane.map((n) => [n, true] as const), ...workers.map((n) => [n, false] as const)];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < all.length) {
      const i = next++;
      const entry = all[i];
      if (entry === undefined) return;
      await core.createNode({ body: nodeObject(entry[0], i, entry[1]) });
    }
  };
  await Promise.all(Array.from({ length: Math.min(32, all.length) }, worker));
  return { controlPlane, workers };
}

/** Polls a component's /healthz on loopback (its serving cert is self-signed: not verified). */
async function waitHealthz(proc: Managed, port: number): Promise<void> {
  await waitFor(`${proc.name} /healthz`, async () => {
    proc.assertRunning();
    return (await insecureGetStatus(`https://127.0.0.1:${port}/healthz`)) === 200 ? true : undefined;
  }, { timeoutMs: 60_000 });
}

/** The serviceaccount controller's first visible work: proves the controller-manager runs. */
async function waitForDefaultServiceAccount(kc: KubeConfig, cm: Managed): Promise<void> {
  const core = kc.makeApiClient(CoreV1Api);
  await waitFor('ServiceAccount default/default', async () => {
    cm.assertRunning();
    await core.readNamespacedServiceAccount({ namespace: 'default', name: 'default' });
    return true;
  }, { timeoutMs: 60_000 });
}

function insecureGetStatus(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { rejectUnauthorized: false, timeout: 5000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}
