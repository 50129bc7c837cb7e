import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { ControlPlaneStatus } from '../api/types.js';
import type { JsonObject } from '../kube/client.js';
import { computeStatusModel, type StatusSnapshot } from './status-model.js';
import { computeStatusView } from './status-view.js';
import { ago, controlPlane, controlPlanePods, daemonSet, node, NOW, pod } from './testdata/live-world.js';

const READY_TRUE = { type: 'Ready', status: 'True', reason: 'AsExpected', message: 'every managed component is self-hosted and ready', lastTransitionTime: ago(3600) } as const;
const NOT_DEGRADED = { type: 'Degraded', status: 'False', reason: 'AsExpected', message: 'nothing needs attention', lastTransitionTime: ago(7200) } as const;

function withoutControlPlane(s: StatusSnapshot): StatusSnapshot {
  return { name: s.name, nodes: s.nodes, pods: s.pods, workloads: s.workloads, now: s.now };
}

function snap(status: ControlPlaneStatus | undefined, pods: JsonObject[], extra: Partial<StatusSnapshot> = {}): StatusSnapshot {
  return { name: 'cluster', controlPlane: controlPlane(status), nodes: [node('cp1'), node('worker1', { controlPlane: false })], pods, workloads: [], now: NOW, ...extra };
}

/** The upgrade of the README, caught at its second step. */
const UPGRADING: StatusSnapshot = {
  name: 'cluster',
  now: NOW,
  controlPlane: controlPlane(
    {
      observedGeneration: 2,
      version: 'v1.37.1',
      phase: 'Upgrading',
      step: '2/3 kube-apiserver',
      conditions: [
        { type: 'Progressing', status: 'True', reason: 'Upgrading', message: 'applying the new kube-apiserver workload', lastTransitionTime: ago(75) },
        { type: 'Ready', status: 'False', reason: 'VersionMismatch', message: 'the control plane runs v1.37.1; spec.version is v1.37.2', lastTransitionTime: ago(75) },
        NOT_DEGRADED,
      ],
      plan: {
        operation: 'Upgrade',
        fromVersion: 'v1.37.1',
        toVersion: 'v1.37.2',
        current: 1,
        steps: [
          { component: 'etcd', action: 'Snapshot', state: 'Succeeded', startedAt: ago(75), finishedAt: ago(73) },
          { component: 'kube-apiserver', action: 'Upgrade', fromVersion: 'v1.37.1', toVersion: 'v1.37.2', state: 'Running', startedAt: ago(73), message: 'waiting for every new kube-apiserver pod to be Ready for 10s' },
          { component: 'kube-controller-manager', action: 'Upgrade', fromVersion: 'v1.37.1', toVersion: 'v1.37.2', state: 'Pending' },
        ],
      },
      checkpoints: [{ node: 'cp1', component: 'etcd', version: '3.7.0', templateHash: 'h', provenAt: ago(3600), saved: true, active: false }],
      lastUpgrade: {
        fromVersion: 'v1.37.1',
        toVersion: 'v1.37.2',
        result: 'Running',
        targetHash: 'h',
        startedAt: ago(75),
        snapshot: { node: 'cp1', path: '/var/lib/selfhost/etcd-snapshots/a.db', size: 12_900_000, sha256: 'abcdef0123456789', revision: 42, keys: 977, time: ago(73) },
      },
    },
    { version: 'v1.37.2', components: ['kube-proxy', 'kube-scheduler', 'kube-controller-manager', 'kube-apiserver', 'etcd'] },
    2,
  ),
  nodes: [node('cp1'), node('worker1', { controlPlane: false })],
  pods: [
    pod('etcd', 'cp1', { mode: 'self-hosted', version: '3.7.0' }),
    pod('kube-apiserver', 'cp1', { mode: 'self-hosted', version: 'v1.37.1', deleting: true }),
    pod('kube-apiserver', 'cp1', { mode: 'self-hosted', version: 'v1.37.2', ready: false, name: 'kube-apiserver-new', restarts: 1, waiting: 'CrashLoopBackOff' }),
    pod('kube-apiserver', 'cp1', { mode: 'checkpoint', version: 'v1.37.1' }),
    pod('kube-controller-manager', 'cp1', { mode: 'self-hosted', version: 'v1.37.1' }),
    pod('kube-scheduler', 'cp1', { mode: 'self-hosted', version: 'v1.37.1' }),
    pod('kube-proxy', 'cp1', { mode: 'daemonset', version: 'v1.37.1', owner: 'kube-proxy' }),
    pod('kube-proxy', 'worker1', { mode: 'daemonset', version: 'v1.37.1', owner: 'kube-proxy' }),
  ],
  workloads: [daemonSet('kube-proxy', { 'app.kubernetes.io/managed-by': 'selfhost', 'selfhost.dev/component': 'kube-proxy' })],
};

describe('computeStatusView', () => {
  it('lays out an upgrade in progress: phase, conditions, components per node, plan, checkpoints, last upgrade', () => {
    expect(computeStatusView(UPGRADING)).toEqual([
      'ControlPlane cluster  Upgrading  step 2/3 kube-apiserver',
      '  spec.version v1.37.2  ·  mode SelfHosted  ·  runs v1.37.1',
      '',
      'CONDITION    STATUS  REASON           SINCE  MESSAGE',
      'Ready        False   VersionMismatch  1m15s  the control plane runs v1.37.1; spec.version is v1.37.2',
      'Degraded     False   AsExpected       2h00m  nothing needs attention',
      'Progressing  True    Upgrading        1m15s  applying the new kube-apiserver workload',
      '',
      'NODE  KUBELET  COMPONENT                MODE         VERSION  READY  NOTE',
      'cp1   v1.37.1  etcd                     self-hosted  3.7.0    yes',
      '               kube-apiserver           self-hosted  v1.37.1  yes    + self-hosted v1.37.2 (not Ready); terminating; container kube-apiserver: CrashLoopBackOff (exit code 1): flag provided but not defined: -bad',
      '               kube-controller-manager  self-hosted  v1.37.1  yes',
      '               kube-scheduler           self-hosted  v1.37.1  yes',
      '               kube-proxy               self-hosted  v1.37.1  yes',
      '',
      'PLAN  Upgrade v1.37.1 → v1.37.2  (1/3 done)',
      '  #  STEP                                               STATE      TIME   WAITING FOR / MESSAGE',
      '  1  Snapshot etcd                                      Succeeded  2s',
      '  2  Upgrade kube-apiserver v1.37.1 → v1.37.2           Running    1m13s  waiting for every new kube-apiserver pod to be Ready for 10s',
      '  3  Upgrade kube-controller-manager v1.37.1 → v1.37.2  Pending',
      '',
      'CHECKPOINTS (last known good pods kept on each node for reboots)',
      '  NODE  COMPONENT  VERSION  SAVED  ACTIVE  PROVEN',
      '  cp1   etcd       3.7.0    yes    no      1h00m ago',
      '',
      'LAST UPGRADE  v1.37.1 → v1.37.2  Running for 1m15s (started 2026-05-01T11:58:45Z)',
      '  etcd snapshot /var/lib/selfhost/etcd-snapshots/a.db on cp1: 12.3 MiB, revision 42, 977 keys, sha256 abcdef012345…',
    ]);
  });

  // Each row: a situation, and what the text must say about it (and must not).
  it.each<[string, StatusSnapshot, RegExp[], RegExp[]]>([
    [
      'no such ControlPlane: says so and still shows what runs',
      withoutControlPlane(snap(undefined, controlPlanePods('cp1', 'static', 'v1.37.1'))),
      [/^ControlPlane "cluster" \(selfhost\.dev\/v1alpha1\) not found: is selfhost installed\?/, /^cp1 +v1\.37\.1 +etcd +static +3\.7\.0 +yes$/m],
      [/PLAN/],
    ],
    [
      'a ControlPlane the operator has not reported on',
      snap(undefined, []),
      [/^ControlPlane cluster {2}no status yet$/m, /has not written a status yet: is it running\?/, /^cp1 +v1\.37\.1 +\(no control-plane pod\)$/m],
      [/CONDITION/],
    ],
    [
      'mid-pivot: static and self-hosted side by side, the handover on the node',
      snap(
        {
          phase: 'Pivoting',
          step: '2/2 kube-scheduler',
          conditions: [NOT_DEGRADED],
          plan: {
            operation: 'Pivot',
            fromVersion: 'v1.37.1',
            toVersion: 'v1.37.1',
            current: 1,
            steps: [
              { component: 'kube-proxy', action: 'Adopt', fromVersion: 'v1.37.1', toVersion: 'v1.37.1', state: 'Succeeded', startedAt: ago(200), finishedAt: ago(190) },
              { component: 'kube-scheduler', action: 'Pivot', fromVersion: 'v1.37.1', toVersion: 'v1.37.1', state: 'Running', startedAt: ago(190), message: 'asking the node agent on cp1 to set kube-scheduler\'s static manifest to Retired' },
            ],
          },
        },
        [
          pod('kube-scheduler', 'cp1', { mode: 'static', version: 'v1.37.1' }),
          pod('kube-scheduler', 'cp1', { mode: 'self-hosted', version: 'v1.37.1', ready: false }),
        ],
      ),
      [
        /^PLAN {2}Pivot at v1\.37\.1 {2}\(1\/2 done\)$/m,
        /^ {2}1 {2}Adopt kube-proxy at v1\.37\.1 +Succeeded {2}10s$/m,
        /^ {2}2 {2}Pivot kube-scheduler at v1\.37\.1 +Running +3m10s {2}asking the node agent on cp1/m,
        /kube-scheduler +static +v1\.37\.1 +yes +\+ self-hosted v1\.37\.1 \(not Ready\)$/m,
      ],
      [/LAST UPGRADE/, /CHECKPOINTS/],
    ],
    [
      'a failed, rolled-back upgrade: Degraded with its reason, the failed step, the last upgrade',
      snap(
        {
          phase: 'Degraded',
          conditions: [
            { type: 'Degraded', status: 'True', reason: 'RolledBack', message: 'kube-apiserver did not become healthy within 5m', lastTransitionTime: ago(30) },
            READY_TRUE,
          ],
          plan: {
            operation: 'Rollback',
            fromVersion: 'v1.37.1',
            toVersion: 'v1.37.2',
            steps: [{ component: 'kube-apiserver', action: 'Upgrade', fromVersion: 'v1.37.1', toVersion: 'v1.37.2', state: 'Failed', startedAt: ago(400), finishedAt: ago(100), message: 'health gate: CrashLoopBackOff' }],
          },
          lastUpgrade: { fromVersion: 'v1.37.1', toVersion: 'v1.37.2', result: 'RolledBack', targetHash: 'h', startedAt: ago(400), finishedAt: ago(30), failedComponent: 'kube-apiserver', message: 'kube-apiserver did not become healthy within 5m; restored the last known good kube-apiserver' },
        },
        [],
      ),
      [
        /^CONDITION +STATUS +REASON +SINCE +MESSAGE\nReady +True .*\nDegraded +True +RolledBack +30s +kube-apiserver did not become healthy within 5m$/m,
        /^ {2}1 {2}Upgrade kube-apiserver v1\.37\.1 → v1\.37\.2 +Failed +5m00s {2}health gate: CrashLoopBackOff$/m,
        /^LAST UPGRADE {2}v1\.37\.1 → v1\.37\.2 {2}RolledBack in 6m10s \(started .*\)\n {2}failed at kube-apiserver\n {2}kube-apiserver did not become healthy within 5m; restored/m,
      ],
      [/Running for/],
    ],
    [
      'after a cold boot: the active checkpoint serves until the real pod is back; a NotReady node',
      {
        ...snap(
          {
            phase: 'SelfHosted',
            conditions: [READY_TRUE],
            checkpoints: [
              { node: 'cp1', component: 'kube-apiserver', version: 'v1.37.1', templateHash: 'h', provenAt: ago(86_400 * 2 + 3600), saved: true, active: true, lastTransitionTime: ago(20) },
              { node: 'cp1', component: 'etcd', version: '3.7.0', templateHash: 'h', provenAt: ago(90), saved: false, active: false },
            ],
          },
          [pod('kube-apiserver', 'cp1', { mode: 'checkpoint', version: 'v1.37.1' }), pod('etcd', 'cp1', { mode: 'checkpoint', version: '3.7.0' })],
        ),
        nodes: [node('cp1', { ready: false })],
      },
      [
        /^cp1 \(NotReady\) +v1\.37\.1 +etcd +absent$/m,
        /^ +kube-apiserver +checkpoint +v1\.37\.1 +yes$/m,
        // Sorted by node, then in skew order: etcd before kube-apiserver.
        /^ {2}cp1 +etcd +3\.7\.0 +no +no +1m30s ago\n {2}cp1 +kube-apiserver +v1\.37\.1 +yes +yes +2d1h ago$/m,
      ],
      [],
    ],
    [
      'paused, and a spec edit the operator has not seen',
      { ...snap({ observedGeneration: 3, phase: 'SelfHosted', conditions: [READY_TRUE] }, []), controlPlane: controlPlane({ observedGeneration: 3, phase: 'SelfHosted', conditions: [READY_TRUE] }, { paused: true }, 4) },
      [/^ {2}paused \(spec\.paused\): the operator reports and changes nothing$/m, /^ {2}status is of generation 3; the spec is at 4: the operator has not acted on the last edit yet$/m],
      [],
    ],
    [
      "kubeadm's kube-proxy before adoption, and the CNI found through status.components",
      {
        ...snap(
          {
            phase: 'Pivoting',
            components: [{ name: 'cni', mode: 'StaticPod', workload: 'calico-node', desired: 1, updated: 0, ready: 1 }],
          },
          [
            pod('kube-proxy', 'cp1', { mode: 'daemonset', version: 'v1.37.1', owner: 'kube-proxy' }),
            pod('cni', 'cp1', { mode: 'daemonset', version: 'v3.30.0', owner: 'calico-node' }),
            pod('kube-proxy', 'cp1', { mode: 'daemonset', version: 'v1.37.1', owner: 'something-else', name: 'other' }),
          ],
        ),
        workloads: [daemonSet('kube-proxy'), daemonSet('calico-node'), daemonSet('something-else')],
      },
      [/^ +kube-proxy +daemonset +v1\.37\.1 +yes$/m, /^ +cni +daemonset +v3\.30\.0 +yes$/m],
      [/other/],
    ],
    [
      'no control-plane node at all',
      { ...snap(undefined, []), nodes: [node('worker1', { controlPlane: false })] },
      [/^No control-plane node \(label node-role\.kubernetes\.io\/control-plane\) found\.$/m],
      [/^NODE/m],
    ],
  ])('%s', (_name, input, want, notWant) => {
    const text = computeStatusView(input).join('\n');
    for (const re of want) expect(text).toMatch(re);
    for (const re of notWant) expect(text).not.toMatch(re);
  });
});

describe('computeStatusModel', () => {
  it('is the machine-readable document: the operator status plus what the pods say, with times as seconds', () => {
    const m = computeStatusModel(UPGRADING);
    expect(m).toMatchObject({ name: 'cluster', found: true, phase: 'Upgrading', version: 'v1.37.1', generation: 2, observedGeneration: 2, observedAt: NOW.toISOString() });
    expect(m.conditions.map((c) => [c.type, c.forSeconds])).toEqual([
      ['Ready', 75],
      ['Degraded', 7200],
      ['Progressing', 75],
    ]);
    expect(m.plan?.steps.map((s) => [s.number, s.state, s.durationSeconds])).toEqual([
      [1, 'Succeeded', 2],
      [2, 'Running', 73],
      [3, 'Pending', undefined],
    ]);
    expect(m.lastUpgrade?.durationSeconds).toBe(75);
    const apiserver = m.nodes[0]?.components.find((c) => c.component === 'kube-apiserver');
    expect(apiserver).toMatchObject({ mode: 'self-hosted', version: 'v1.37.1', ready: true });
    expect(apiserver?.instances.map((i) => [i.pod, i.mode, i.ready, i.deleting])).toEqual([
      ['kube-apiserver-self-hosted-cp1', 'self-hosted', true, true],
      ['kube-apiserver-new', 'self-hosted', false, false],
    ]);
    // Worker nodes carry no control-plane component rows.
    expect(m.nodes.map((n) => n.name)).toEqual(['cp1']);
    expect(JSON.parse(JSON.stringify(m))).toEqual(m);
  });
});

describe('the README', () => {
  it("shows what `kubectl selfhost status` prints for the upgrade above (without its checkpoints and last upgrade)", () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const block = /```text\n(ControlPlane cluster {2}Upgrading[\s\S]*?)\n```/.exec(readme)?.[1];
    const cp = UPGRADING.controlPlane;
    const status = { ...cp?.status };
    delete status.checkpoints;
    delete status.lastUpgrade;
    const shown: StatusSnapshot = {
      ...UPGRADING,
      ...(cp === undefined ? {} : { controlPlane: { ...cp, status } }),
      pods: UPGRADING.pods.map((p) => {
        const name = (p['metadata'] as { name: string }).name;
        if (name === 'kube-apiserver-self-hosted-cp1') return pod('kube-apiserver', 'cp1', { mode: 'self-hosted', version: 'v1.37.1' });
        if (name === 'kube-apiserver-new') return pod('kube-apiserver', 'cp1', { mode: 'self-hosted', version: 'v1.37.2', ready: false, name });
        return p;
      }),
    };
    expect(block?.split('\n')).toEqual(computeStatusView(shown));
  });
});
