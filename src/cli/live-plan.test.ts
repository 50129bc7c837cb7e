import { describe, expect, it } from 'vitest';
import type { ControlPlane, ControlPlaneStatus } from '../api/types.js';
import type { JsonObject } from '../kube/client.js';
import { computeCandidateTargets, computeKubeletRefusal, computeLivePlan, parseKubeletVersion, type LivePlanOptions, type LivePlanSnapshot } from './live-plan.js';
import { computeApplyHint, computeKubeletSummary, computeLivePlanLines } from './live-plan-view.js';
import { controlPlane, controlPlanePods, node, pod } from './testdata/live-world.js';
import { RELEASES } from '../versions/table.js';

/** One control-plane node (or more) at `version`, everything self-hosted, kube-proxy included. */
function cluster(version: string, etcd: string, opts: { nodes?: string[]; kubelet?: string; status?: ControlPlaneStatus; spec?: Partial<ControlPlane['spec']>; cp?: false } = {}): LivePlanSnapshot {
  const names = opts.nodes ?? ['cp1'];
  const pods: JsonObject[] = names.flatMap((n) => controlPlanePods(n, 'self-hosted', version, etcd));
  pods.push(pod('kube-proxy', names[0] ?? 'cp1', { mode: 'self-hosted', version }));
  return {
    name: 'cluster',
    ...(opts.cp === false ? {} : { controlPlane: controlPlane(opts.status ?? { phase: 'SelfHosted' }, { version, ...opts.spec }) }),
    nodes: names.map((n) => node(n, { kubelet: opts.kubelet ?? version })),
    pods,
  };
}

/** `target ok` or `target Reason`, in the model's order. */
function outcomes(snap: LivePlanSnapshot, options: LivePlanOptions = {}): string[] {
  return computeLivePlan(snap, options).candidates.map((c) => `${c.kind} ${c.target} ${c.result.ok ? c.result.operation : c.result.reason}`);
}

/** v1.36.4 → v1.37.2 caught after its kube-apiserver step: the apiserver runs v1.37.2, the rest v1.36.4. */
const UPGRADE_IN_PROGRESS: LivePlanSnapshot = (() => {
  const base = cluster('v1.36.4', '3.6.11', {
    status: { phase: 'Upgrading', step: '3/6 kube-controller-manager', lastUpgrade: { fromVersion: 'v1.36.4', toVersion: 'v1.37.2', result: 'Running', targetHash: 'h', startedAt: '2026-05-01T11:00:00Z' } },
    spec: { version: 'v1.37.2' },
  });
  const isApiserver = (p: JsonObject): boolean => JSON.stringify(p['spec']).includes('kube-apiserver:');
  return { ...base, pods: [...base.pods.filter((p) => !isApiserver(p)), pod('kube-apiserver', 'cp1', { mode: 'self-hosted', version: 'v1.37.2' })] };
})();

describe('computeLivePlan', () => {
  it.each<[string, LivePlanSnapshot, LivePlanOptions, string[]]>([
    ['at the newest supported minor: a newer patch; the next minor is unsupported', cluster('v1.37.1', '3.7.0'), {}, ['patch v1.37.x Upgrade', 'minor v1.38.x UnsupportedVersion']],
    ['two supported minors above: the next one, not the one after', cluster('v1.35.5', '3.6.6'), {}, ['patch v1.35.x Upgrade', 'minor v1.36.x Upgrade', 'minor v1.37.x MinorSkip']],
    ['etcd below 3.6.11: 3.7 steps through the published 3.6.11 first', cluster('v1.36.4', '3.6.8'), {}, ['patch v1.36.x Upgrade', 'minor v1.37.x Upgrade']],
    ['--etcd-version 3.6.11 shows the way through', cluster('v1.36.4', '3.6.8'), { etcdVersionOverride: '3.6.11' }, ['patch v1.36.x Upgrade', 'minor v1.37.x Upgrade']],
    ['spec.etcd.version set on the ControlPlane counts too', cluster('v1.36.4', '3.6.8', { spec: { etcd: { version: '3.6.11', snapshotBeforeUpgrade: true, snapshotRetention: 3 } } }), {}, ['patch v1.36.x Upgrade', 'minor v1.37.x Upgrade']],
    ['kubelets four minors behind the next minor', cluster('v1.36.4', '3.6.8', { kubelet: 'v1.33.9' }), { etcdVersionOverride: '3.6.11' }, ['patch v1.36.x Upgrade', 'minor v1.37.x SkewViolation']],
    ['kubelets three minors behind are fine', cluster('v1.36.4', '3.6.8', { kubelet: 'v1.34.2+k3s1' }), { etcdVersionOverride: '3.6.11' }, ['patch v1.36.x Upgrade', 'minor v1.37.x Upgrade']],
    ['--to one exact version', cluster('v1.37.1', '3.7.0'), { to: 'v1.37.2' }, ['requested v1.37.2 Upgrade']],
    ['--to the version it runs', cluster('v1.37.1', '3.7.0'), { to: 'v1.37.1' }, ['requested v1.37.1 None']],
    ['--to a minor down without an upgrade in progress', cluster('v1.37.1', '3.7.0'), { to: 'v1.36.4' }, ['requested v1.36.4 MinorDowngrade']],
    ['--to below a kubelet by a patch: the policy counts minors', cluster('v1.37.1', '3.7.0', { kubelet: 'v1.37.2' }), { to: 'v1.37.1' }, ['requested v1.37.1 None']],
    ['--to below a kubelet by a minor', cluster('v1.36.4', '3.6.8', { kubelet: 'v1.37.1' }), { to: 'v1.36.5' }, ['requested v1.36.5 SkewViolation']],
    ['--to not a version', cluster('v1.37.1', '3.7.0'), { to: '1.37' }, ['requested 1.37 InvalidVersion']],
    ['an upgrade in progress adds its abort (a Rollback)', UPGRADE_IN_PROGRESS, {}, ['abort v1.36.4 Rollback', 'patch v1.37.x Upgrade', 'minor v1.38.x UnsupportedVersion']],
    ['no kube-apiserver seen: nothing can be planned', { name: 'cluster', nodes: [node('cp1')], pods: [] }, {}, []],
  ])('%s', (_name, snap, options, want) => {
    expect(outcomes(snap, options)).toEqual(want);
  });

  it('plans a newer patch from the highest patch that runs (HA, mixed patches), steps from each lowest', () => {
    const snap = cluster('v1.37.1', '3.7.0', { nodes: ['cp1', 'cp2'] });
    const pods = snap.pods.map((p) => (JSON.stringify(p).includes('cp2') && JSON.stringify(p).includes('kube-apiserver') ? pod('kube-apiserver', 'cp2', { mode: 'self-hosted', version: 'v1.37.2' }) : p));
    const model = computeLivePlan({ ...snap, pods });
    const patch = model.candidates[0];
    expect(patch?.target).toBe('v1.37.x');
    expect(patch?.result.ok && patch.result.steps.find((s) => s.component === 'kube-apiserver')).toMatchObject({ fromVersion: 'v1.37.1', toVersion: 'v1.37.x' });
  });

  it.each<[string, LivePlanSnapshot, RegExp]>([
    ['no ControlPlane yet', cluster('v1.37.1', '3.7.0', { cp: false }), /no ControlPlane "cluster": planned with the defaults/],
    ['mode StaticPods', cluster('v1.37.1', '3.7.0', { spec: { mode: 'StaticPods' } }), /spec\.mode is StaticPods/],
    ['paused', cluster('v1.37.1', '3.7.0', { spec: { paused: true } }), /spec\.paused is true/],
    ['before the pivot', cluster('v1.37.1', '3.7.0', { status: { phase: 'Pivoting' } }), /the pivot has not finished \(phase Pivoting\)/],
    ['spec ahead, no upgrade running', cluster('v1.37.1', '3.7.0', { spec: { version: 'v1.37.2' } }), /spec\.version is v1\.37\.2 while the control plane runs v1\.37\.1/],
    ['a kubelet version that does not parse', cluster('v1.37.1', '3.7.0', { kubelet: 'fake' }), /kubelet version not understood on cp1 \("fake"\)/],
    ['no kube-apiserver', { name: 'cluster', nodes: [], pods: [] }, /no kube-apiserver pod found in kube-system/],
    ['a minor is possible: the kubelets are the user\'s', cluster('v1.35.5', '3.6.6'), /kubelets are not selfhost's/],
  ])('notes: %s', (_name, snap, want) => {
    expect(computeLivePlan(snap).notes.join('\n')).toMatch(want);
  });

  it('says the label, not the stand-in version, in refusals', () => {
    const model = computeLivePlan(cluster('v1.35.5', '3.6.6'));
    const skip = model.candidates.find((c) => c.target === 'v1.37.x');
    expect(skip?.result.ok === false && skip.result.message).toMatch(/v1\.37\.x skips a minor/);
  });
});

describe('computeCandidateTargets', () => {
  it.each<[string, number, string[]]>([
    ['v1.37.1', 1, ['v1.37.2 v1.37.x patch', 'v1.38.0 v1.38.x minor']],
    ['v1.35.5', 7, ['v1.35.8 v1.35.x patch', 'v1.36.0 v1.36.x minor', 'v1.37.0 v1.37.x minor']],
    ['v1.30.0', 0, ['v1.30.1 v1.30.x patch', 'v1.31.0 v1.31.x minor', 'v1.35.0 v1.35.x minor', 'v1.36.0 v1.36.x minor', 'v1.37.0 v1.37.x minor']],
  ])('%s (highest patch %s)', (running, highest, want) => {
    const [, major, minor, patch] = /^v(\d+)\.(\d+)\.(\d+)$/.exec(running) ?? [];
    const targets = computeCandidateTargets({ major: Number(major), minor: Number(minor), patch: Number(patch) }, highest, RELEASES);
    expect(targets.map((t) => `${t.planned} ${t.label} ${t.kind}`)).toEqual(want);
  });
});

describe('kubelets', () => {
  it.each<[string, string | undefined]>([
    ['v1.37.2', 'v1.37.2'],
    ['v1.37.2+k3s1', 'v1.37.2'],
    ['v1.37.2-eks-113cf36', 'v1.37.2'],
    ['1.37.2', undefined],
    ['fake', undefined],
  ])('parseKubeletVersion(%s)', (text, want) => {
    const v = parseKubeletVersion(text);
    expect(v === undefined ? undefined : `v${v.major}.${v.minor}.${v.patch}`).toBe(want);
  });

  it.each<[string[], string, string | undefined]>([
    [['v1.37.1'], 'v1.37.2', undefined],
    [['v1.34.0', 'v1.37.1'], 'v1.37.2', undefined],
    [['v1.33.9'], 'v1.37.0', 'SkewViolation: the kubelet on n0 runs v1.33.9, 4 minors behind v1.37.x (at most 3): upgrade the kubelets first'],
    [['v1.37.1', 'v1.38.0'], 'v1.37.2', 'SkewViolation: the kubelet on n1 runs v1.38.0, newer than v1.37.x: a kubelet must not be newer than kube-apiserver'],
    [['v2.0.0'], 'v1.37.2', 'MajorChange: the kubelet on n0 runs v2.0.0, another major than v1.37.x'],
    [['garbage'], 'v1.37.2', undefined],
  ])('computeKubeletRefusal(%j, %s)', (versions, target, want) => {
    const [, major, minor, patch] = /^v(\d+)\.(\d+)\.(\d+)$/.exec(target) ?? [];
    const refusal = computeKubeletRefusal(
      versions.map((version, i) => ({ node: `n${i}`, version })),
      { major: Number(major), minor: Number(minor), patch: Number(patch) },
      'v1.37.x',
    );
    expect(refusal === undefined || refusal.ok ? undefined : `${refusal.reason}: ${refusal.message}`).toBe(want);
  });

  it.each<[string[], string]>([
    [['v1.37.1'], 'v1.37.1 (1 node)'],
    [['v1.37.1', 'v1.37.1', 'v1.37.1'], 'v1.37.1 (3 nodes)'],
    [['v1.36.4', 'v1.37.2', 'v1.37.2'], 'v1.36.4 (n0), v1.37.2 (n1, n2)'],
  ])('computeKubeletSummary(%j)', (versions, want) => {
    expect(computeKubeletSummary(versions.map((version, i) => ({ node: `n${i}`, version })))).toBe(want);
  });
});

describe('computeLivePlanLines', () => {
  it('reads like kubeadm upgrade plan: what runs, what is possible with its steps and the edit, what is not and why', () => {
    expect(computeLivePlanLines(computeLivePlan(cluster('v1.37.1', '3.7.0')), 'kubectl selfhost')).toEqual([
      'ControlPlane cluster  SelfHosted  spec.version v1.37.1',
      'runs: kube-apiserver v1.37.1  ·  etcd 3.7.0  ·  kubelet v1.37.1 (1 node)',
      '',
      'Possible now:',
      '',
      'v1.37.x (a newer v1.37 patch):',
      '  Upgrade v1.37.1 → v1.37.x:',
      '  1. Snapshot etcd',
      '  2. Upgrade kube-apiserver v1.37.1 → v1.37.x',
      '  3. Upgrade kube-controller-manager v1.37.1 → v1.37.x',
      '  4. Upgrade kube-scheduler v1.37.1 → v1.37.x',
      '  5. Upgrade kube-proxy v1.37.1 → v1.37.x',
      `  start it: kubectl patch controlplane cluster --type=merge -p '{"spec":{"version":"v1.37.<patch>"}}'`,
      '  exact steps for one patch: kubectl selfhost plan --to v1.37.<patch>',
      '',
      'Not possible now:',
      '  v1.38.x (the next minor): refused (UnsupportedVersion): v1.38.x is not supported: selfhost supports v1.35–v1.37',
    ]);
  });

  it.each<[string, LivePlanSnapshot, LivePlanOptions, RegExp[]]>([
    ['--to: one plan, exact, with its edit', cluster('v1.37.1', '3.7.0'), { to: 'v1.37.2' }, [/^Plan:$/m, /^v1\.37\.2 \(as asked\):\n {2}Upgrade v1\.37\.1 → v1\.37\.2:$/m, /"version":"v1\.37\.2"/]],
    ['--to refused', cluster('v1.37.1', '3.7.0'), { to: 'v1.39.0' }, [/^Not possible:\n {2}v1\.39\.0 \(as asked\): refused \(UnsupportedVersion\)/m]],
    ['nothing to do', cluster('v1.37.1', '3.7.0'), { to: 'v1.37.1' }, [/Nothing to do: the managed components already run v1\.37\.1/]],
    [
      'an upgrade in progress',
      UPGRADE_IN_PROGRESS,
      {},
      [
        /^An upgrade v1\.36\.4 → v1\.37\.2 is running \(step 3\/6 kube-controller-manager\): setting spec\.version back to v1\.36\.4 aborts it\.$/m,
        /^v1\.36\.4 \(abort the upgrade in progress\):\n {2}Rollback v1\.37\.2 → v1\.36\.4:\n {2}1\. Downgrade kube-apiserver v1\.37\.2 → v1\.36\.4$/m,
      ],
    ],
    ['none possible', { name: 'cluster', nodes: [], pods: [] }, {}, [/runs: kube-apiserver not found/, /^Note: no kube-apiserver pod found/m]],
    ['two minors up', cluster('v1.35.5', '3.6.6'), {}, [/^ {2}v1\.37\.x \(2 minors up\): refused \(MinorSkip\)/m]],
  ])('%s', (_name, snap, options, want) => {
    const text = computeLivePlanLines(computeLivePlan(snap, options), 'selfhost').join('\n');
    for (const re of want) expect(text).toMatch(re);
  });

  it("an adopted kube-proxy (kubeadm's pods and labels) is read from its DaemonSet: its step is planned", () => {
    const base = cluster('v1.37.1', '3.7.0');
    const isProxy = (p: JsonObject): boolean => JSON.stringify(p['spec']).includes('kube-proxy:');
    const adoptedPod = pod('kube-proxy', 'cp1', { mode: 'daemonset', version: 'v1.37.1', owner: 'kube-proxy' });
    const ds = (complete: boolean): JsonObject => ({
      kind: 'DaemonSet',
      metadata: { name: 'kube-proxy', namespace: 'kube-system', generation: 2 },
      spec: { template: { spec: { containers: [{ name: 'kube-proxy', image: (adoptedPod['spec'] as { containers: { image: string }[] }).containers[0]?.image }] } } },
      status: { observedGeneration: 2, desiredNumberScheduled: 1, updatedNumberScheduled: complete ? 1 : 0, numberAvailable: 1 },
    });
    const adopted = (complete: boolean): LivePlanSnapshot => ({ ...base, pods: [...base.pods.filter((p) => !isProxy(p)), adoptedPod], workloads: [ds(complete)] });
    const text = (snap: LivePlanSnapshot): string => computeLivePlanLines(computeLivePlan(snap, { to: 'v1.37.2' }), 'selfhost').join('\n');
    expect(text(adopted(true))).toMatch(/^ {2}5\. Upgrade kube-proxy v1\.37\.1 → v1\.37\.2$/m);
    expect(text(adopted(true))).not.toMatch(/no instance was observed/);
    // Mid-rollout the template says nothing of what the old pods run: unknown, as before.
    expect(text(adopted(false))).toMatch(/kube-proxy is managed but no instance was observed/);
  });

  it('computeApplyHint leaves the patch to fill in for a minor', () => {
    expect(computeApplyHint('cluster', 'v1.38.x')).toBe(`kubectl patch controlplane cluster --type=merge -p '{"spec":{"version":"v1.38.<patch>"}}'`);
    expect(computeApplyHint('other', 'v1.37.2')).toBe(`kubectl patch controlplane other --type=merge -p '{"spec":{"version":"v1.37.2"}}'`);
  });
});
