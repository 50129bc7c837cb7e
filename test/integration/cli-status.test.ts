/**
 * `kubectl selfhost status` and the live `plan` against the sim tier's real apiserver: a
 * ControlPlane with an upgrade's status written through the status subresource, control-plane pods
 * in kube-system that kwok runs (a kubeadm mirror pod, a self-hosted pod, a DaemonSet's pod), and a
 * control-plane Node with no kubelet behind it. The commands run as `kubectl selfhost` runs them:
 * their own kubeconfig loading (--kubeconfig), client and watch.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppsV1Api, CoreV1Api, CustomObjectsApi, type V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { SYSTEM_NAMESPACE } from '../../src/api/constants.js';
import { API_GROUP, API_VERSION, PLURAL, type ControlPlaneStatus } from '../../src/api/types.js';
import { processLiveDeps } from '../../src/cli/live-connect.js';
import { runPlan } from '../../src/cli/plan.js';
import { abortableSleep, runStatus, runStatusWith } from '../../src/cli/status.js';
import { memoryIo } from '../../src/cli/testing.js';
import { ensureControlPlaneCrd } from '../support/crd.js';
import { kubeConfigFrom } from '../support/kube.js';
import { waitFor } from '../support/wait.js';

const kc = kubeConfigFrom(inject('kubeconfig'));
const core = kc.makeApiClient(CoreV1Api);
const apps = kc.makeApiClient(AppsV1Api);
const objects = kc.makeApiClient(CustomObjectsApi);
const cpNode = inject('simNodes').controlPlane[0] ?? 'cp-1';
const id = Date.now().toString(36);
const name = `cli-status-${id}`;
const lonelyNode = `cli-status-${id}-down`;
const dsName = `cli-status-${id}-proxy`;
const base = { group: API_GROUP, version: API_VERSION, plural: PLURAL };
const dir = mkdtempSync(join(tmpdir(), 'cli-status-'));
const kubeconfigPath = join(dir, 'kubeconfig');
const kubeconfigArgs = ['--name', name, '--kubeconfig', kubeconfigPath];

const t = (secondsAgo: number): string => new Date(Date.now() - secondsAgo * 1000).toISOString().replace(/\.\d+Z$/, 'Z');

function status(): ControlPlaneStatus {
  return {
    observedGeneration: 1,
    version: 'v1.37.1',
    phase: 'Upgrading',
    step: '2/3 kube-apiserver',
    conditions: [
      { type: 'Ready', status: 'False', reason: 'VersionMismatch', message: 'the control plane runs v1.37.1; spec.version is v1.37.2', lastTransitionTime: t(80), observedGeneration: 1 },
      { type: 'Degraded', status: 'False', reason: 'AsExpected', message: 'nothing needs attention', lastTransitionTime: t(3600), observedGeneration: 1 },
    ],
    plan: {
      operation: 'Upgrade',
      fromVersion: 'v1.37.1',
      toVersion: 'v1.37.2',
      current: 1,
      steps: [
        { component: 'etcd', action: 'Snapshot', state: 'Succeeded', startedAt: t(80), finishedAt: t(78) },
        { component: 'kube-apiserver', action: 'Upgrade', fromVersion: 'v1.37.1', toVersion: 'v1.37.2', state: 'Running', startedAt: t(78), message: 'waiting for every new kube-apiserver pod to be Ready for 10s' },
        { component: 'kube-scheduler', action: 'Upgrade', fromVersion: 'v1.37.1', toVersion: 'v1.37.2', state: 'Pending' },
      ],
    },
    checkpoints: [{ node: cpNode, component: 'etcd', version: '3.7.0', templateHash: 'abc', provenAt: t(7200), saved: true, active: false }],
    lastUpgrade: { fromVersion: 'v1.37.1', toVersion: 'v1.37.2', result: 'Running', targetHash: 'abc', startedAt: t(80) },
  };
}

async function writeStatus(s: ControlPlaneStatus): Promise<void> {
  const current = (await objects.getClusterCustomObject({ ...base, name })) as Record<string, unknown>;
  await objects.replaceClusterCustomObjectStatus({ ...base, name, body: { ...current, status: s } });
}

function podBody(podName: string, node: string, labels: Record<string, string>, image: string, mirror: boolean): V1Pod {
  return {
    metadata: { name: podName, namespace: SYSTEM_NAMESPACE, labels, ...(mirror ? { annotations: { 'kubernetes.io/config.mirror': 'cli-status' } } : {}) },
    spec: { nodeName: node, tolerations: [{ operator: 'Exists' }], containers: [{ name: 'main', image }] },
  };
}

const pods = [
  // kubeadm's etcd as the kubelet mirrors it.
  podBody(`cli-status-${id}-etcd`, cpNode, { component: 'etcd', tier: 'control-plane' }, 'registry.k8s.io/etcd:3.7.0-0', true),
  // selfhost's kube-apiserver at the new version.
  podBody(`cli-status-${id}-apiserver`, cpNode, { 'selfhost.dev/component': 'kube-apiserver', 'app.kubernetes.io/managed-by': 'selfhost' }, 'registry.k8s.io/kube-apiserver:v1.37.2', false),
  // A static etcd on the node nobody runs: never Ready.
  podBody(`cli-status-${id}-etcd-down`, lonelyNode, { component: 'etcd', tier: 'control-plane' }, 'registry.k8s.io/etcd:3.7.0-0', true),
];

beforeAll(async () => {
  writeFileSync(kubeconfigPath, inject('kubeconfig'));
  await ensureControlPlaneCrd(kc);
  await core.createNode({
    body: {
      metadata: { name: lonelyNode, labels: { 'node-role.kubernetes.io/control-plane': '', 'kubernetes.io/hostname': lonelyNode } },
      spec: { taints: [{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }] },
    },
  });
  for (const body of pods) await core.createNamespacedPod({ namespace: SYSTEM_NAMESPACE, body });
  // An adopted kube-proxy: selfhost's labels on the DaemonSet, none on its pods (kwok runs them).
  await apps.createNamespacedDaemonSet({
    namespace: SYSTEM_NAMESPACE,
    body: {
      metadata: { name: dsName, labels: { 'selfhost.dev/component': 'kube-proxy', 'app.kubernetes.io/managed-by': 'selfhost' } },
      spec: {
        selector: { matchLabels: { app: dsName } },
        template: {
          metadata: { labels: { app: dsName } },
          spec: {
            nodeSelector: { 'kubernetes.io/hostname': cpNode },
            tolerations: [{ operator: 'Exists' }],
            containers: [{ name: 'kube-proxy', image: 'registry.k8s.io/kube-proxy:v1.37.1' }],
          },
        },
      },
    },
  });
  await objects.createClusterCustomObject({
    ...base,
    body: { apiVersion: `${API_GROUP}/${API_VERSION}`, kind: 'ControlPlane', metadata: { name }, spec: { version: 'v1.37.2', components: ['kube-proxy', 'kube-scheduler', 'kube-apiserver', 'etcd'] } },
  });
  await writeStatus(status());
  // kwok plays the kubelet of cpNode: every pod there Running and Ready.
  await waitFor('the pods on the kwok node Ready', async () => {
    const list = await core.listNamespacedPod({ namespace: SYSTEM_NAMESPACE });
    const ours = list.items.filter((p) => p.spec?.nodeName === cpNode && (p.metadata?.name ?? '').startsWith(`cli-status-${id}`));
    const ready = ours.filter((p) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
    return ours.length === 3 && ready.length === 3 ? true : undefined;
  });
});

afterAll(async () => {
  const quietly = (p: Promise<unknown>): Promise<unknown> => p.catch(() => undefined);
  await quietly(objects.deleteClusterCustomObject({ ...base, name }));
  await quietly(apps.deleteNamespacedDaemonSet({ namespace: SYSTEM_NAMESPACE, name: dsName, propagationPolicy: 'Background' }));
  const list = await core.listNamespacedPod({ namespace: SYSTEM_NAMESPACE });
  for (const p of list.items.filter((x) => (x.metadata?.name ?? '').startsWith(`cli-status-${id}`))) {
    await quietly(core.deleteNamespacedPod({ namespace: SYSTEM_NAMESPACE, name: p.metadata?.name ?? '', gracePeriodSeconds: 0 }));
  }
  await quietly(core.deleteNode({ name: lonelyNode }));
  rmSync(dir, { recursive: true, force: true });
});

describe('kubectl selfhost status (live)', () => {
  it('prints the phase, conditions, each component per node, the plan, checkpoints and the last upgrade', async () => {
    const io = memoryIo();
    expect(await runStatus(kubeconfigArgs, io, 'kubectl selfhost')).toBe(0);
    const text = io.stdout.join('\n');
    expect(io.stderr).toEqual([]);
    expect(text).toMatch(new RegExp(`^ControlPlane ${name} {2}Upgrading {2}step 2/3 kube-apiserver\\n {2}spec\\.version v1\\.37\\.2 {2}· {2}mode SelfHosted {2}· {2}runs v1\\.37\\.1$`, 'm'));
    expect(text).toMatch(/^Ready +False +VersionMismatch +1m2\ds +the control plane runs v1\.37\.1; spec\.version is v1\.37\.2$/m);
    expect(text).toMatch(/^Degraded +False +AsExpected +1h00m +nothing needs attention$/m);
    // The node kwok runs: kubeadm's etcd, selfhost's apiserver, the adopted kube-proxy; no scheduler.
    expect(text).toMatch(new RegExp(`^${cpNode} +(?:\\S+ +)?etcd +static +3\\.7\\.0 +yes\\n +kube-apiserver +self-hosted +v1\\.37\\.2 +yes\\n +kube-scheduler +absent\\n +kube-proxy +self-hosted +v1\\.37\\.1 +yes$`, 'm'));
    // The node no kubelet runs.
    expect(text).toMatch(new RegExp(`^${lonelyNode} \\(NotReady\\) +etcd +static +3\\.7\\.0 +no$`, 'm'));
    expect(text).toMatch(/^PLAN {2}Upgrade v1\.37\.1 → v1\.37\.2 {2}\(1\/3 done\)$/m);
    expect(text).toMatch(/^ {2}1 {2}Snapshot etcd +Succeeded {2}2s$/m);
    expect(text).toMatch(/^ {2}2 {2}Upgrade kube-apiserver v1\.37\.1 → v1\.37\.2 +Running +1m\d\ds {2}waiting for every new kube-apiserver pod to be Ready for 10s$/m);
    expect(text).toMatch(/^ {2}3 {2}Upgrade kube-scheduler v1\.37\.1 → v1\.37\.2 +Pending$/m);
    expect(text).toMatch(new RegExp(`^ {2}${cpNode} +etcd +3\\.7\\.0 +yes +no +2h00m ago$`, 'm'));
    expect(text).toMatch(/^LAST UPGRADE {2}v1\.37\.1 → v1\.37\.2 {2}Running for 1m\d\ds \(started /m);
  });

  it('-o json is the same model as a document; -o yaml too', async () => {
    const io = memoryIo();
    expect(await runStatus([...kubeconfigArgs, '-o', 'json'], io, 'kubectl selfhost')).toBe(0);
    const doc = JSON.parse(io.stdout.join('\n')) as {
      found: boolean;
      phase: string;
      plan: { steps: { state: string; durationSeconds?: number }[] };
      nodes: { name: string; ready: boolean; components: { component: string; mode: string; version?: string; ready: boolean }[] }[];
    };
    expect(doc).toMatchObject({ name, found: true, phase: 'Upgrading', version: 'v1.37.1', spec: { version: 'v1.37.2', mode: 'SelfHosted' } });
    expect(doc.plan.steps.map((s) => s.state)).toEqual(['Succeeded', 'Running', 'Pending']);
    expect(doc.plan.steps[0]?.durationSeconds).toBe(2);
    const node = doc.nodes.find((n) => n.name === cpNode);
    expect(node?.components.map((c) => [c.component, c.mode, c.version, c.ready])).toEqual([
      ['etcd', 'static', '3.7.0', true],
      ['kube-apiserver', 'self-hosted', 'v1.37.2', true],
      ['kube-scheduler', 'absent', undefined, false],
      ['kube-proxy', 'self-hosted', 'v1.37.1', true],
    ]);
    expect(doc.nodes.find((n) => n.name === lonelyNode)).toMatchObject({ ready: false });
    const yaml = memoryIo();
    expect(await runStatus([...kubeconfigArgs, '-o', 'yaml'], yaml, 'kubectl selfhost')).toBe(0);
    expect(yaml.stdout.join('\n')).toMatch(new RegExp(`^name: ${name}\\nfound: true\\n`));
  });

  it('a ControlPlane that does not exist: exit 1 and says so', async () => {
    const io = memoryIo();
    expect(await runStatus(['--name', `${name}-missing`, '--kubeconfig', kubeconfigPath], io, 'kubectl selfhost')).toBe(1);
    expect(io.stdout[0]).toMatch(new RegExp(`^ControlPlane "${name}-missing" \\(selfhost\\.dev/v1alpha1\\) not found`));
  });

  it('--watch redraws when the operator writes a new status, and ends cleanly (exit 0)', async () => {
    const io = memoryIo();
    const stop = new AbortController();
    const run = runStatusWith([...kubeconfigArgs, '--watch'], io, 'kubectl selfhost', {
      ...processLiveDeps(),
      signal: stop.signal,
      refreshMs: 1000,
      retryMs: 200,
      sleep: abortableSleep,
    });
    try {
      await waitFor('the first frame', async () => (io.stdout.join('\n').includes('Upgrading') ? true : undefined));
      // Done: no step runs any more (status.step is left out, as the operator leaves it).
      const done = status();
      delete done.step;
      await writeStatus({
        ...done,
        version: 'v1.37.2',
        phase: 'SelfHosted',
        plan: { ...(done.plan ?? { operation: 'Upgrade', steps: [] }), steps: (done.plan?.steps ?? []).map((s) => ({ ...s, state: 'Succeeded', startedAt: s.startedAt ?? t(60), finishedAt: s.finishedAt ?? t(1) })) },
        lastUpgrade: { ...(done.lastUpgrade ?? { toVersion: 'v1.37.2', targetHash: 'abc', startedAt: t(80), result: 'Running' }), result: 'Succeeded', finishedAt: t(1) },
      });
      await waitFor('the redrawn frame', async () => (io.stdout.join('\n').split(`\n\nControlPlane ${name}`).length >= 2 ? true : undefined));
    } finally {
      stop.abort();
    }
    expect(await run).toBe(0);
    const frames = io.stdout.join('\n').split(`\n\nControlPlane ${name}`);
    expect(frames[0]).toMatch(new RegExp(`^ControlPlane ${name} {2}Upgrading`));
    const last = frames[frames.length - 1] ?? '';
    expect(last).toMatch(/^ {2}SelfHosted\n/);
    expect(last).toMatch(/^PLAN {2}Upgrade v1\.37\.1 → v1\.37\.2 {2}\(3\/3 done\)$/m);
    expect(last).toMatch(/^LAST UPGRADE {2}v1\.37\.1 → v1\.37\.2 {2}Succeeded in 1m\d\ds/m);
    expect(io.stderr).toEqual([]);
  });
});

describe('kubectl selfhost plan (live)', () => {
  it('plans from what runs: the apiserver kwok runs at v1.37.2, etcd 3.7.0', async () => {
    const io = memoryIo();
    expect(await runPlan(kubeconfigArgs, io, 'kubectl selfhost')).toBe(0);
    const text = io.stdout.join('\n');
    expect(text).toMatch(new RegExp(`^ControlPlane ${name} {2}(Upgrading|SelfHosted) {2}spec\\.version v1\\.37\\.2$`, 'm'));
    expect(text).toMatch(/^runs: kube-apiserver v1\.37\.2 {2}· {2}etcd 3\.7\.0/m);
    expect(text).toMatch(/^v1\.37\.x \(a newer v1\.37 patch\):\n {2}Upgrade v1\.37\.2 → v1\.37\.x:$/m);
    expect(text).toMatch(/^ {2}v1\.38\.x \(the next minor\): refused \(UnsupportedVersion\)/m);
  });
});
