/**
 * Helpers of the e2e suite on tier "node" (a real kubeadm node on this machine, hack/node/).
 * The tier's scripts are the source of truth; tests drive them and look at the cluster through
 * @kubernetes/client-node.
 */
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  AppsV1Api,
  CoreV1Api,
  KubeConfig,
  type V1Deployment,
  type V1Pod,
  type V1Service,
} from '@kubernetes/client-node';

/** The checkout: two levels up when running compiled from .cache/tsbuild/e2e (bench-pivot). */
export const REPO = ((): string => {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const up = path.resolve(here, '..');
  return path.basename(path.dirname(up)) === '.cache' ? path.resolve(up, '..', '..') : up;
})();
export const STATE = path.join(REPO, '.cluster', 'node');
/** Tier node's admin kubeconfig; `make e2e-kind` points the shared specs at a kind cluster's instead. */
export const KUBECONFIG = process.env.SELFHOST_E2E_KUBECONFIG ?? path.join(STATE, 'kubeconfig');
export const BASELINE = path.join(REPO, '.cluster', 'node-baseline', 'snapshot.txt');
export const NODE_NAME = 'selfhost-node';
export const NODE_IP = '10.10.0.1';
export const STATIC_PODS = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler'] as const;
export const CNI_LABEL = 'k8s-app=selfhost-cni';
export const TEST_IMAGE = 'localhost/selfhost/busybox:v1';

/** A cached Kubernetes binary of `version` (hack/build-k8s.sh). */
export function k8sBin(version: string, name: string): string {
  const cache = process.env.SELFHOST_CACHE ?? path.join(process.env.HOME ?? '/root', '.cache', 'selfhost');
  return path.join(cache, 'k8s', version, 'bin', name);
}

/** The Kubernetes version the tier runs (VERSION, else what cluster-up recorded, else the default). */
export function nodeVersion(): string {
  if (process.env.VERSION) return process.env.VERSION;
  const recorded = path.join(STATE, 'version');
  if (existsSync(recorded)) return readFileSync(recorded, 'utf8').trim();
  const versions = readFileSync(path.join(REPO, 'hack', 'versions.sh'), 'utf8');
  const m = /^DEFAULT_VERSION="([^"]+)"/m.exec(versions);
  if (!m?.[1]) throw new Error('hack/versions.sh has no DEFAULT_VERSION');
  return m[1];
}

export interface ScriptResult {
  code: number;
  output: string;
  ms: number;
}

/**
 * Runs one of the tier's scripts (hack/node/NAME.sh) with bash, its output appended to
 * .cluster/node-e2e/NAME.log and returned. Rejects with the output's tail unless `allowFailure`.
 */
export async function runNodeScript(
  name: string,
  args: string[] = [],
  { allowFailure = false }: { allowFailure?: boolean } = {},
): Promise<ScriptResult> {
  const logDir = path.join(REPO, '.cluster', 'node-e2e');
  mkdirSync(logDir, { recursive: true });
  const log = createWriteStream(path.join(logDir, `${name}.log`), { flags: 'a' });
  const started = Date.now();
  log.write(`\n=== ${new Date().toISOString()} hack/node/${name}.sh ${args.join(' ')}\n`);
  const child = spawn('bash', [path.join(REPO, 'hack', 'node', `${name}.sh`), ...args], {
    cwd: REPO,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const collect = (chunk: Buffer): void => {
    output += chunk.toString();
    log.write(chunk);
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const code = await new Promise<number>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (c) => resolve(c ?? 1));
  });
  await new Promise<void>((resolve) => log.end(resolve));
  const result = { code, output, ms: Date.now() - started };
  if (code !== 0 && !allowFailure) {
    const tail = output.trimEnd().split('\n').slice(-40).join('\n');
    throw new Error(`hack/node/${name}.sh ${args.join(' ')} exited ${code}:\n${tail}`);
  }
  return result;
}

export interface Clients {
  kc: KubeConfig;
  core: CoreV1Api;
  apps: AppsV1Api;
}

export function clients(): Clients {
  const kc = new KubeConfig();
  kc.loadFromFile(KUBECONFIG);
  return { kc, core: kc.makeApiClient(CoreV1Api), apps: kc.makeApiClient(AppsV1Api) };
}

export function podIsReady(pod: V1Pod | undefined): boolean {
  return (
    pod?.status?.phase === 'Running' &&
    (pod.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false)
  );
}

/** Pods of the tier in kube-system: the four mirror pods, kube-proxy's and the CNI's. */
export async function systemPods(core: CoreV1Api): Promise<{
  mirror: Map<string, V1Pod>;
  proxy: V1Pod[];
  cni: V1Pod[];
}> {
  const pods = (await core.listNamespacedPod({ namespace: 'kube-system' })).items.filter(
    (p) => p.spec?.nodeName === NODE_NAME,
  );
  const mirror = new Map<string, V1Pod>();
  for (const c of STATIC_PODS) {
    const pod = pods.find((p) => p.metadata?.name === `${c}-${NODE_NAME}`);
    if (pod) mirror.set(c, pod);
  }
  return {
    mirror,
    proxy: pods.filter((p) => p.metadata?.labels?.['k8s-app'] === 'kube-proxy'),
    cni: pods.filter((p) => p.metadata?.labels?.['k8s-app'] === 'selfhost-cni'),
  };
}

/** One HTTP GET (no keep-alive), resolving to status and body. */
export function httpGet(url: string, timeoutMs = 3000): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url}: no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}

/** The manifest of the test workload: N busybox httpd pods answering "hello from <pod>". */
export function echoWorkload(
  namespace: string,
  replicas = 2,
): { deployment: V1Deployment; service: V1Service } {
  const labels = { app: 'echo' };
  return {
    deployment: {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'echo', namespace, labels },
      spec: {
        replicas,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            terminationGracePeriodSeconds: 1,
            containers: [
              {
                name: 'httpd',
                image: TEST_IMAGE,
                imagePullPolicy: 'Never',
                command: [
                  'sh',
                  '-c',
                  'echo "hello from $HOSTNAME" > /www/index.html; exec httpd -f -v -p 8080 -h /www',
                ],
                ports: [{ containerPort: 8080 }],
                readinessProbe: { httpGet: { path: '/', port: 8080 }, periodSeconds: 1 },
              },
            ],
          },
        },
      },
    },
    service: {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'echo', namespace },
      spec: { type: 'ClusterIP', selector: labels, ports: [{ port: 80, targetPort: 8080 }] },
    },
  };
}

/**
 * Asks the service at `ip` (from the host, through kube-proxy's rules) `tries` times and returns
 * the set of pods that answered.
 */
export async function askService(ip: string, tries = 20): Promise<Set<string>> {
  const answered = new Set<string>();
  for (let i = 0; i < tries; i++) {
    const { status, body } = await httpGet(`http://${ip}/`);
    if (status !== 200) throw new Error(`GET http://${ip}/ answered ${status}: ${body}`);
    const m = /^hello from (\S+)/.exec(body.trim());
    if (!m?.[1]) throw new Error(`GET http://${ip}/ answered an unexpected body: ${body}`);
    answered.add(m[1]);
  }
  return answered;
}

/**
 * A fresh namespace with the two-pod echo Deployment and its Service, answering from both pods
 * (what every tier-node test keeps asking while the control plane moves). Returns the Service IP.
 */
export async function startEchoService(c: Clients, namespace: string): Promise<string> {
  await c.core.createNamespace({ body: { metadata: { name: namespace } } });
  const { deployment, service } = echoWorkload(namespace, 2);
  await c.apps.createNamespacedDeployment({ namespace, body: deployment });
  const svc = await c.core.createNamespacedService({ namespace, body: service });
  const ip = svc.spec?.clusterIP ?? '';
  await waitForBothEchoPods(ip, 180_000);
  return ip;
}

/** Waits until the echo Service answers from both of its pods. */
export async function waitForBothEchoPods(ip: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const answered = await askService(ip, 20).catch(() => new Set<string>());
    if (answered.size === 2) return;
    if (Date.now() > deadline) throw new Error(`the echo service at ${ip} did not answer from both pods within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/** Runs a command to its end, stdout and stderr together (the prober and writers of this process keep running). */
export function runCommand(cmd: string, args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('close', (code) => resolve({ code: code ?? 1, out }));
  });
}
