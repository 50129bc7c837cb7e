/**
 * Helpers for the pivot e2e and `make bench-pivot`: the operator as a child process (killable by
 * its recorded PID), the selfhost image, applying deploy/ with kubectl, an acknowledged-writes
 * recorder, and figures from the ControlPlane's status and the self-hosted pods.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { k8sBin, KUBECONFIG, nodeVersion, REPO, runNodeScript } from './node.js';

export const SELFHOST_IMAGE = 'localhost/selfhost/selfhost:dev';
const LOG_DIR = path.join(REPO, '.cluster', 'node-e2e');

/** kubectl of the tier (make node-kubectl), with the tier's kubeconfig. */
export function kubectl(args: string[], input?: string): { code: number; out: string } {
  const bin = kubectlBin();
  const r = spawnSync(bin, ['--kubeconfig', KUBECONFIG, ...args], { input, encoding: 'utf8', timeout: 900_000 });
  return { code: r.status ?? 1, out: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

export function kubectlBin(): string {
  // make e2e-kind: the user's kubectl.
  const own = process.env.SELFHOST_E2E_KUBECTL;
  if (own !== undefined) return own;
  const bin = k8sBin(nodeVersion(), 'kubectl');
  if (existsSync(bin)) return bin;
  const r = spawnSync('make', ['-s', '--no-print-directory', 'node-kubectl'], { cwd: REPO, encoding: 'utf8' });
  if (r.status !== 0 || !existsSync(bin)) throw new Error(`make node-kubectl failed: ${r.stdout ?? ''}${r.stderr ?? ''}`);
  return bin;
}

/** Runs a make target; throws with the output's tail on failure. */
export function make(target: string, env: Record<string, string> = {}): string {
  const r = spawnSync('make', ['-s', '--no-print-directory', target], {
    cwd: REPO,
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 1_800_000,
  });
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  if (r.status !== 0) throw new Error(`make ${target} failed (${String(r.status)}): ${out.slice(-3000)}`);
  return out;
}

/**
 * A fresh static-pod node cluster at `version`, ready for the operator: the selfhost image built
 * and imported; `imagesOf` another version's images loaded too (what a registry would serve the
 * node for an upgrade); the CRD and RBAC applied unless `deploy` is false (an install that brings
 * its own, e.g. `kubectl apply -k deploy/default`).
 */
export async function freshNodeForSelfhost(version: string, opts: { imagesOf?: string; deploy?: boolean } = {}): Promise<void> {
  make('build');
  make('image');
  await runNodeScript('down');
  await runNodeScript('up', [version]);
  make('load-selfhost-image');
  if (opts.imagesOf !== undefined) make('load-images', { VERSION: opts.imagesOf });
  if (opts.deploy !== false) applyDeploy();
}

/** CRD, RBAC, and the sample ControlPlane's prerequisites (the operator itself runs out of cluster). */
export function applyDeploy(): void {
  for (const f of ['deploy/crd', 'deploy/rbac']) {
    const r = kubectl(['apply', '--server-side', '-k', path.join(REPO, f)]);
    if (r.code !== 0) throw new Error(`kubectl apply -k ${f}: ${r.out}`);
  }
  const r = kubectl(['wait', '--for=condition=Established', 'crd/controlplanes.selfhost.dev', '--timeout=60s']);
  if (r.code !== 0) throw new Error(`CRD not established: ${r.out}`);
}

export interface OperatorProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly log: string;
  readonly metricsPort: number;
  /** Resolves with the exit code (or signal name). */
  readonly exited: Promise<number | string>;
}

let operatorSeq = 0;

/** Starts `selfhost run` against the tier with its own log file. */
export async function startOperator(tag = 'operator'): Promise<OperatorProcess> {
  mkdirSync(LOG_DIR, { recursive: true });
  const log = path.join(LOG_DIR, `${tag}-${++operatorSeq}.log`);
  const out = createWriteStream(log, { flags: 'a' });
  const metricsPort = 18080 + (operatorSeq % 100);
  const child = spawn(
    process.execPath,
    [
      path.join(REPO, 'dist', 'cli', 'main.js'),
      'run',
      `--kubeconfig=${KUBECONFIG}`,
      `--agent-image=${SELFHOST_IMAGE}`,
      `--metrics-addr=127.0.0.1:${metricsPort}`,
      '--leader-elect=true',
      `--identity=e2e-${tag}-${operatorSeq}`,
    ],
    { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout?.pipe(out);
  child.stderr?.pipe(out);
  const pid = child.pid;
  if (pid === undefined) throw new Error('operator did not start');
  const exited = new Promise<number | string>((resolve) => child.on('exit', (code, sig) => resolve(code ?? sig ?? 'unknown')));
  return { child, pid, log, metricsPort, exited };
}

/** SIGKILL by recorded PID (only the process this run started). */
export async function killOperator(op: OperatorProcess, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (op.child.exitCode !== null || op.child.signalCode !== null) return;
  process.kill(op.pid, signal);
  await op.exited;
}

export function logTail(file: string, lines = 40): string {
  if (!existsSync(file)) return '(no log)';
  return readFileSync(file, 'utf8').trim().split('\n').slice(-lines).join('\n');
}

export interface ControlPlaneView {
  phase?: string;
  conditions: { type: string; status: string; reason: string; message: string }[];
  components: { name: string; mode: string; ready: number; desired: number }[];
  plan?: { steps: { component: string; state: string; startedAt?: string; finishedAt?: string; message?: string }[] };
}

export async function readControlPlane(kc: KubeConfig): Promise<ControlPlaneView | undefined> {
  const api = kc.makeApiClient(CustomObjectsApi);
  try {
    const cp = (await api.getClusterCustomObject({ group: 'selfhost.dev', version: 'v1alpha1', plural: 'controlplanes', name: 'cluster' })) as {
      status?: ControlPlaneView;
    };
    return cp.status ?? { conditions: [], components: [] };
  } catch {
    return undefined;
  }
}

/**
 * Polls the ControlPlane's status every 2 s until `ok` holds (an unreadable status, e.g. while the
 * apiserver hands over, is simply polled again); on timeout the error carries the last status and
 * `context()` (an operator log tail, say).
 */
export async function waitControlPlane<T extends ControlPlaneView>(
  kc: KubeConfig,
  what: string,
  ok: (v: T) => boolean,
  timeoutMs: number,
  context: () => string = () => '',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < deadline) {
    last = (await readControlPlane(kc)) as T | undefined;
    if (last !== undefined && ok(last)) return last;
    await new Promise((r) => setTimeout(r, 2000));
  }
  throw new Error(`${what} not reached within ${timeoutMs / 1000} s; last status: ${JSON.stringify(last)}\n${context()}`);
}

export function isReadyView(v: ControlPlaneView | undefined): boolean {
  return v?.conditions.some((c) => c.type === 'Ready' && c.status === 'True') === true;
}

/**
 * Acknowledged writes during the pivot: a ConfigMap is updated ~5 times a second; every write the
 * API acknowledged is recorded, and afterwards the stored value must be the last acknowledged one
 * (and its resourceVersion must not have gone backwards), proving no acknowledged write was lost.
 */
export interface AckWriter {
  stop(): Promise<{ acked: number; failed: number }>;
  verify(): Promise<string[]>;
}

/** `name`: the ConfigMap it writes (one per writer in a namespace). */
export async function startAckWriter(kc: KubeConfig, namespace: string, name = 'acked-writes'): Promise<AckWriter> {
  const core = kc.makeApiClient(CoreV1Api);
  await core.createNamespacedConfigMap({ namespace, body: { metadata: { name }, data: { seq: '0' } } });
  let stopped = false;
  let acked = 0;
  let failed = 0;
  let lastAcked = 0;
  let seq = 0;
  const loop = (async () => {
    while (!stopped) {
      seq++;
      try {
        await core.replaceNamespacedConfigMap({ namespace, name, body: { metadata: { name }, data: { seq: String(seq) } } });
        acked++;
        lastAcked = seq;
      } catch {
        failed++;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      return { acked, failed };
    },
    async verify() {
      const cm = await core.readNamespacedConfigMap({ namespace, name });
      const stored = Number(cm.data?.['seq'] ?? '-1');
      // A failed write may still have been applied (the reply was lost): stored may be newer than
      // the last acknowledged one, never older.
      return stored >= lastAcked ? [] : [`ConfigMap ${namespace}/${name}: stored seq ${stored} < last acknowledged ${lastAcked}`];
    },
  };
}

/** Wall-clock ms between two RFC 3339 times. */
export function spanMs(from: string | undefined, to: string | undefined): number | undefined {
  if (from === undefined || to === undefined) return undefined;
  return Date.parse(to) - Date.parse(from);
}

/**
 * The operator restarted whenever it exits, as its Deployment would be: it exits on purpose when
 * it loses its Lease, which happens when the API is down longer than the renew deadline (the
 * apiserver handover, the etcd handover).
 */
export interface SupervisedOperator {
  current(): OperatorProcess;
  readonly restarts: () => number;
  /** SIGKILL the running process (the supervisor starts a new one). */
  kill(): Promise<void>;
  stop(): Promise<void>;
}

export async function superviseOperator(tag: string): Promise<SupervisedOperator> {
  let stopped = false;
  let restarts = 0;
  let op = await startOperator(tag);
  const watch = (p: OperatorProcess): void => {
    void p.exited.then(async () => {
      if (stopped) return;
      await new Promise((r) => setTimeout(r, 1000));
      if (stopped) return;
      restarts++;
      op = await startOperator(tag);
      if (stopped) {
        await killOperator(op, 'SIGTERM');
        return;
      }
      watch(op);
    });
  };
  watch(op);
  return {
    current: () => op,
    restarts: () => restarts,
    async kill() {
      await killOperator(op, 'SIGKILL');
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await killOperator(op, 'SIGTERM');
    },
  };
}
