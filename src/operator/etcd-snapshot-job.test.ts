import { describe, expect, it } from 'vitest';
import { RECORD } from '../etcd-snapshot/testing.js';
import type { JsonObject } from '../kube/client.js';
import { computeDesiredSnapshotJob, parseSnapshotResult, snapshotJobName, snapshotName, type SnapshotJobInput } from './etcd-snapshot-job.js';

const INPUT: SnapshotJobInput = { key: 'upgrade v1.36.4->v1.37.2 gen 7', node: 'cp-1', image: 'localhost/selfhost/selfhost:dev', retention: 3 };

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : {});
const podSpec = (job: JsonObject): Obj => obj(obj(obj(job.spec).template).spec);
const container = (job: JsonObject): Obj => obj((podSpec(job).containers as unknown[])[0]);

describe('computeDesiredSnapshotJob', () => {
  const job = computeDesiredSnapshotJob(INPUT);

  it('is a one-shot Job in kube-system, named from the key, labelled as selfhost’s etcd-snapshot', () => {
    expect(job).toMatchObject({
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: {
        name: snapshotJobName(INPUT.key),
        namespace: 'kube-system',
        labels: { 'app.kubernetes.io/managed-by': 'selfhost', 'selfhost.dev/component': 'etcd-snapshot' },
        annotations: { 'selfhost.dev/etcd-snapshot-key': INPUT.key },
      },
      spec: { backoffLimit: 0, ttlSecondsAfterFinished: 86400, activeDeadlineSeconds: 900 },
    });
    expect(obj(obj(obj(job.spec).template).metadata).labels).toEqual(obj(job.metadata).labels);
    expect(snapshotJobName(INPUT.key)).toMatch(/^selfhost-etcd-snapshot-[0-9a-f]{12}$/);
  });

  it('is deterministic: the same input gives the same Job; another key another name', () => {
    expect(computeDesiredSnapshotJob({ ...INPUT })).toEqual(job);
    expect(snapshotJobName('other')).not.toBe(snapshotJobName(INPUT.key));
    expect(snapshotName('other')).not.toBe(snapshotName(INPUT.key));
  });

  it('runs on the node, on its network, tolerating everything, without an API token', () => {
    expect(podSpec(job)).toMatchObject({
      nodeName: 'cp-1',
      hostNetwork: true,
      restartPolicy: 'Never',
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      tolerations: [{ operator: 'Exists' }],
      securityContext: { seccompProfile: { type: 'RuntimeDefault' } },
    });
  });

  it('runs selfhost etcd-snapshot with kubeadm’s client pair, as root with no capability, read-only root fs', () => {
    expect(container(job)).toMatchObject({
      image: INPUT.image,
      args: [
        'etcd-snapshot',
        '--endpoint=https://127.0.0.1:2379',
        '--cacert=/etc/kubernetes/pki/etcd/ca.crt',
        '--cert=/etc/kubernetes/pki/etcd/healthcheck-client.crt',
        '--key=/etc/kubernetes/pki/etcd/healthcheck-client.key',
        '--dir=/var/lib/selfhost/etcd-snapshots',
        `--name=${snapshotName(INPUT.key)}`,
        '--retention=3',
        '--min-free-bytes=1073741824',
        '--termination-log=/dev/termination-log',
      ],
      terminationMessagePath: '/dev/termination-log',
      terminationMessagePolicy: 'FallbackToLogsOnError',
      securityContext: {
        runAsUser: 0,
        runAsNonRoot: false,
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ['ALL'] },
      },
      volumeMounts: [
        { name: 'etcd-pki', mountPath: '/etc/kubernetes/pki/etcd', readOnly: true },
        { name: 'snapshots', mountPath: '/var/lib/selfhost/etcd-snapshots' },
      ],
    });
    expect(podSpec(job).volumes).toEqual([
      { name: 'etcd-pki', hostPath: { path: '/etc/kubernetes/pki/etcd', type: 'Directory' } },
      { name: 'snapshots', hostPath: { path: '/var/lib/selfhost/etcd-snapshots', type: 'DirectoryOrCreate' } },
    ]);
  });

  it('passes the options it is given', () => {
    const owner = { apiVersion: 'selfhost.dev/v1alpha1', kind: 'ControlPlane', name: 'cluster', uid: 'u1' };
    const custom = computeDesiredSnapshotJob({
      ...INPUT,
      retention: 1,
      dir: '/data/snaps',
      minFreeBytes: 0,
      endpoint: 'https://10.0.0.5:2379',
      ttlSecondsAfterFinished: 60,
      activeDeadlineSeconds: 120,
      ownerReferences: [owner],
    });
    expect(custom).toMatchObject({ metadata: { ownerReferences: [owner] }, spec: { ttlSecondsAfterFinished: 60, activeDeadlineSeconds: 120 } });
    expect(container(custom).args).toEqual(expect.arrayContaining(['--dir=/data/snaps', '--retention=1', '--min-free-bytes=0', '--endpoint=https://10.0.0.5:2379']));
    expect(podSpec(custom).volumes).toContainEqual({ name: 'snapshots', hostPath: { path: '/data/snaps', type: 'DirectoryOrCreate' } });
  });

  it.each<[Partial<SnapshotJobInput>, string]>([
    [{ key: '' }, 'key: Required value'],
    [{ node: '' }, 'node: Required value'],
    [{ image: '' }, 'image: Required value'],
    [{ retention: 0 }, 'retention: invalid value 0: must be an integer of at least 1'],
    [{ minFreeBytes: -1 }, 'minFreeBytes: invalid value -1'],
    [{ dir: 'relative' }, 'dir: invalid value "relative"'],
    [{ dir: '/' }, 'dir: invalid value "/"'],
  ])('refuses %j', (change, want) => {
    expect(() => computeDesiredSnapshotJob({ ...INPUT, ...change })).toThrow(want);
  });
});

describe('parseSnapshotResult', () => {
  const ok = JSON.stringify({ ok: true, ...RECORD, deleted: ['old'], reused: false });
  const pod = (status: Obj): JsonObject => ({ metadata: { name: 'selfhost-etcd-snapshot-abc-x1' }, status });
  const terminated = (t: Obj, name = 'etcd-snapshot'): JsonObject =>
    pod({ phase: t.exitCode === 0 ? 'Succeeded' : 'Failed', containerStatuses: [{ name, state: { terminated: t } }] });

  it.each<[string, JsonObject, ReturnType<typeof parseSnapshotResult>]>([
    ['no status yet', { metadata: { name: 'p' } }, { state: 'running' }],
    ['pending', pod({ phase: 'Pending' }), { state: 'running' }],
    ['running', pod({ phase: 'Running', containerStatuses: [{ name: 'etcd-snapshot', state: { running: {} } }] }), { state: 'running' }],
    ['a success', terminated({ exitCode: 0, reason: 'Completed', message: ok }), { state: 'succeeded', snapshot: RECORD, deleted: ['old'], reused: false }],
    ['a success with a trailing newline', terminated({ exitCode: 0, message: `${ok}\n` }), { state: 'succeeded', snapshot: RECORD, deleted: ['old'], reused: false }],
    ['a refusal', terminated({ exitCode: 1, reason: 'Error', message: '{"ok":false,"name":"s","error":"not enough disk space in /d: 1 bytes free, 9 needed"}' }),
      { state: 'failed', message: 'snapshot pod selfhost-etcd-snapshot-abc-x1 exited 1 (Error): not enough disk space in /d: 1 bytes free, 9 needed' }],
    ['a crash (the log tail as message)', terminated({ exitCode: 137, reason: 'OOMKilled', message: 'a\nb\nc\nd\ne\nf\ng\n' }),
      { state: 'failed', message: 'snapshot pod selfhost-etcd-snapshot-abc-x1 exited 137 (OOMKilled): c\nd\ne\nf\ng' }],
    ['no message', terminated({ exitCode: 1 }), { state: 'failed', message: 'snapshot pod selfhost-etcd-snapshot-abc-x1 exited 1 with no termination message' }],
    ['exit 0 with garbage', terminated({ exitCode: 0, message: 'hello' }),
      { state: 'failed', message: expect.stringMatching(/^snapshot pod selfhost-etcd-snapshot-abc-x1 exited 0 but its result is unreadable: snapshot result is not JSON/) as unknown as string }],
    ['exit 1 with an ok result', terminated({ exitCode: 1, message: ok }), { state: 'failed', message: 'snapshot pod selfhost-etcd-snapshot-abc-x1 exited 1 although its result says ok' }],
    ['the pod failed before the container ran', pod({ phase: 'Failed', reason: 'DeadlineExceeded', message: 'Pod was active on the node longer than the specified deadline' }),
      { state: 'failed', message: 'snapshot pod selfhost-etcd-snapshot-abc-x1 failed before its container finished: DeadlineExceeded: Pod was active on the node longer than the specified deadline' }],
    ['another container terminated', terminated({ exitCode: 0, message: ok }, 'sidecar'),
      { state: 'failed', message: 'snapshot pod selfhost-etcd-snapshot-abc-x1 succeeded without a terminated etcd-snapshot container to read the result from' }],
  ])('%s', (_what, input, want) => {
    expect(parseSnapshotResult(input)).toEqual(want);
  });
});
