/**
 * The pre-upgrade etcd snapshot as a Job (issue 9 §2.3): `selfhost etcd-snapshot` on one
 * control-plane node, and the reading of its result from the finished pod's termination message.
 * Both pure; the planner decides when to create the Job and what to do with the result.
 *
 * Privileges and why:
 *  - nodeName, not a selector: the snapshot must be written on that node, and binding directly
 *    works while the scheduler is being handed over.
 *  - hostNetwork: etcd listens for clients on the node's 127.0.0.1:2379.
 *  - runAsUser 0 with every capability dropped: kubeadm's etcd client key is root-owned 0600; the
 *    owner reads it without any capability, and owns the snapshot directory it writes.
 *  - two hostPath mounts: kubeadm's etcd PKI read-only, and the snapshot directory itself
 *    (DirectoryOrCreate makes it 0755; the command makes it 0700 before writing anything).
 *  - no service account token: the command never talks to the API; the operator reads the result
 *    from the pod status (termination message).
 */
import {
  LABEL_COMPONENT,
  LABEL_MANAGED_BY,
  MANAGED_BY_VALUE,
  SYSTEM_NAMESPACE,
} from '../api/constants.js';
import { sha256Hex } from '../convert/hash.js';
import {
  DEFAULT_CACERT,
  DEFAULT_CERT,
  DEFAULT_ENDPOINT,
  DEFAULT_KEY,
  DEFAULT_MIN_FREE_BYTES,
  DEFAULT_SNAPSHOT_DIR,
  DEFAULT_TERMINATION_LOG,
  KUBEADM_ETCD_PKI_DIR,
} from '../etcd-snapshot/flags.js';
import { parseResultLine, type SnapshotRecord } from '../etcd-snapshot/record.js';
import type { JsonObject } from '../kube/client.js';

/** selfhost.dev/component of the Job and its pod. */
export const SNAPSHOT_COMPONENT_LABEL = 'etcd-snapshot';
export const SNAPSHOT_CONTAINER = 'etcd-snapshot';
/** The key the Job was built from, for people reading the Job. */
export const ANNOTATION_SNAPSHOT_KEY = 'selfhost.dev/etcd-snapshot-key';
export const SNAPSHOT_JOB_PREFIX = 'selfhost-etcd-snapshot-';

export interface SnapshotJobInput {
  /**
   * What the snapshot is for (e.g. the upgrade's from/to and generation). The same key always
   * gives the same Job name and snapshot name, so a re-created Job finds the snapshot it already
   * took (the command reuses a verified snapshot of the same name) instead of taking another.
   */
  key: string;
  /** The control-plane node whose etcd is snapshotted and whose disk holds the snapshot. */
  node: string;
  /** The selfhost image (the operator's own). */
  image: string;
  /** spec.etcd.snapshotRetention. */
  retention: number;
  dir?: string;
  minFreeBytes?: number;
  endpoint?: string;
  /** Kept this long after it finished, for the operator to read (default 1 day). */
  ttlSecondsAfterFinished?: number;
  /** The Job fails after this long (default 15 minutes). */
  activeDeadlineSeconds?: number;
  /** E.g. the ControlPlane, so the Job goes with it. */
  ownerReferences?: JsonObject[];
}

const DEFAULT_TTL_SECONDS = 86_400;
const DEFAULT_DEADLINE_SECONDS = 900;

/** Hex of the key's sha256 cut to `n` characters: a name that is always a valid DNS label. */
function keyHash(key: string, n: number): string {
  return sha256Hex(key).slice(0, n);
}

export function snapshotJobName(key: string): string {
  return `${SNAPSHOT_JOB_PREFIX}${keyHash(key, 12)}`;
}

export function snapshotName(key: string): string {
  return `etcd-pre-upgrade-${keyHash(key, 12)}`;
}

function positiveInt(field: string, v: number, min: number): number {
  if (!Number.isSafeInteger(v) || v < min) throw new Error(`${field}: invalid value ${v}: must be an integer of at least ${min}`);
  return v;
}

export function computeDesiredSnapshotJob(input: SnapshotJobInput): JsonObject {
  if (input.key === '') throw new Error('key: Required value: the Job and snapshot names are derived from it');
  if (input.node === '') throw new Error('node: Required value: the Job runs on that node');
  if (input.image === '') throw new Error('image: Required value: the selfhost image');
  const retention = positiveInt('retention', input.retention, 1);
  const minFreeBytes = positiveInt('minFreeBytes', input.minFreeBytes ?? DEFAULT_MIN_FREE_BYTES, 0);
  const dir = input.dir ?? DEFAULT_SNAPSHOT_DIR;
  if (!dir.startsWith('/') || dir === '/') throw new Error(`dir: invalid value ${JSON.stringify(dir)}: must be an absolute directory other than /`);
  const name = snapshotJobName(input.key);
  const labels = { [LABEL_MANAGED_BY]: MANAGED_BY_VALUE, [LABEL_COMPONENT]: SNAPSHOT_COMPONENT_LABEL };
  const args = [
    'etcd-snapshot',
    `--endpoint=${input.endpoint ?? DEFAULT_ENDPOINT}`,
    `--cacert=${DEFAULT_CACERT}`,
    `--cert=${DEFAULT_CERT}`,
    `--key=${DEFAULT_KEY}`,
    `--dir=${dir}`,
    `--name=${snapshotName(input.key)}`,
    `--retention=${retention}`,
    `--min-free-bytes=${minFreeBytes}`,
    `--termination-log=${DEFAULT_TERMINATION_LOG}`,
  ];
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name,
      namespace: SYSTEM_NAMESPACE,
      labels,
      annotations: { [ANNOTATION_SNAPSHOT_KEY]: input.key },
      ...(input.ownerReferences ? { ownerReferences: input.ownerReferences } : {}),
    },
    spec: {
      // One attempt: a failed snapshot is reported, not retried behind the operator's back.
      backoffLimit: 0,
      activeDeadlineSeconds: positiveInt('activeDeadlineSeconds', input.activeDeadlineSeconds ?? DEFAULT_DEADLINE_SECONDS, 1),
      ttlSecondsAfterFinished: positiveInt('ttlSecondsAfterFinished', input.ttlSecondsAfterFinished ?? DEFAULT_TTL_SECONDS, 0),
      template: {
        metadata: { labels },
        spec: {
          nodeName: input.node,
          restartPolicy: 'Never',
          hostNetwork: true,
          dnsPolicy: 'Default',
          enableServiceLinks: false,
          automountServiceAccountToken: false,
          priorityClassName: 'system-node-critical',
          tolerations: [{ operator: 'Exists' }],
          securityContext: { seccompProfile: { type: 'RuntimeDefault' } },
          containers: [
            {
              name: SNAPSHOT_CONTAINER,
              image: input.image,
              imagePullPolicy: 'IfNotPresent',
              args,
              // The command writes its JSON result there; if it dies before, the log tail is the message.
              terminationMessagePath: DEFAULT_TERMINATION_LOG,
              terminationMessagePolicy: 'FallbackToLogsOnError',
              resources: { requests: { cpu: '50m', memory: '64Mi' }, limits: { memory: '256Mi' } },
              securityContext: {
                runAsUser: 0,
                runAsGroup: 0,
                runAsNonRoot: false,
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                capabilities: { drop: ['ALL'] },
              },
              volumeMounts: [
                { name: 'etcd-pki', mountPath: KUBEADM_ETCD_PKI_DIR, readOnly: true },
                { name: 'snapshots', mountPath: dir },
              ],
            },
          ],
          volumes: [
            { name: 'etcd-pki', hostPath: { path: KUBEADM_ETCD_PKI_DIR, type: 'Directory' } },
            { name: 'snapshots', hostPath: { path: dir, type: 'DirectoryOrCreate' } },
          ],
        },
      },
    },
  };
}

export type SnapshotJobOutcome =
  | { state: 'running' }
  /** reused: the snapshot of this name already existed and still matched its record. */
  | { state: 'succeeded'; snapshot: SnapshotRecord; deleted: string[]; reused: boolean }
  | { state: 'failed'; message: string };

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** The last lines of a (log) message: the termination message may be the log tail. */
function lastLines(text: string, n = 5): string {
  return text.trimEnd().split('\n').slice(-n).join('\n');
}

/**
 * The result of the snapshot Job's pod from its status: `running` until the container has
 * terminated; then the result line the command wrote (a verified snapshot only with exit code 0
 * and an ok result), or a failure message naming the pod, the exit code and the reason.
 */
export function parseSnapshotResult(pod: JsonObject): SnapshotJobOutcome {
  const metadata = isRecord(pod.metadata) ? pod.metadata : {};
  const podName = str(metadata.name) ?? '(unnamed pod)';
  const status = isRecord(pod.status) ? pod.status : {};
  const statuses = Array.isArray(status.containerStatuses) ? status.containerStatuses : [];
  const container = statuses.find((c): c is Record<string, unknown> => isRecord(c) && c.name === SNAPSHOT_CONTAINER);
  const state = container && isRecord(container.state) ? container.state : {};
  const terminated = isRecord(state.terminated) ? state.terminated : undefined;
  if (terminated === undefined) {
    if (status.phase === 'Failed') {
      // Evicted, DeadlineExceeded, or never started: no container result to read.
      const why = [str(status.reason), str(status.message)].filter((s) => s !== undefined).join(': ');
      return { state: 'failed', message: `snapshot pod ${podName} failed before its container finished${why ? `: ${why}` : ''}` };
    }
    if (status.phase === 'Succeeded') {
      return { state: 'failed', message: `snapshot pod ${podName} succeeded without a terminated ${SNAPSHOT_CONTAINER} container to read the result from` };
    }
    return { state: 'running' };
  }
  const exitCode = typeof terminated.exitCode === 'number' ? terminated.exitCode : undefined;
  const reason = str(terminated.reason);
  const message = str(terminated.message);
  const where = `snapshot pod ${podName} exited ${exitCode ?? '(no exit code)'}${reason ? ` (${reason})` : ''}`;
  if (message === undefined) return { state: 'failed', message: `${where} with no termination message` };
  let result;
  try {
    result = parseResultLine(message.trim());
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    return { state: 'failed', message: exitCode === 0 ? `${where} but its result is unreadable: ${detail}` : `${where}: ${lastLines(message)}` };
  }
  if (!result.ok) return { state: 'failed', message: `${where}: ${result.error}` };
  if (exitCode !== 0) return { state: 'failed', message: `${where} although its result says ok` };
  const { deleted, reused, ...rest } = result;
  const snapshot: SnapshotRecord = {
    format: rest.format,
    name: rest.name,
    path: rest.path,
    size: rest.size,
    sha256: rest.sha256,
    dbSha256: rest.dbSha256,
    revision: rest.revision,
    keys: rest.keys,
    etcdVersion: rest.etcdVersion,
    time: rest.time,
    durationMs: rest.durationMs,
  };
  return { state: 'succeeded', snapshot, deleted, reused };
}
