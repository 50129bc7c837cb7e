import { describe, expect, it } from 'vitest';
import { dispatch } from './dispatch.js';
import type { LiveDeps } from './live-connect.js';
import { runPlan } from './plan.js';
import { controlPlane, controlPlanePods, fakeClient, node, NOW, type FakeWorld } from './testdata/live-world.js';
import { memoryIo } from './testing.js';

describe('selfhost plan', () => {
  it('prints the ordered steps of a one-minor upgrade', () => {
    const io = memoryIo();
    expect(dispatch(['plan', '--from', 'v1.35.5', '--to', 'v1.36.4'], io)).toBe(0);
    const text = io.stdout.join('\n');
    const order = ['Snapshot', 'etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kube-proxy'];
    const positions = order.map((word) => text.indexOf(word));
    expect(positions.every((p) => p >= 0)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
  });

  it.each([
    [['--from', 'v1.35.5', '--to', 'v1.37.2'], /refused \(MinorSkip\)/],
    [['--from', 'v1.37.2', '--to', 'v1.36.4'], /refused \(MinorDowngrade\)/],
    [['--from', 'v1.37.2', '--to', 'v1.38.0'], /refused \(UnsupportedVersion\).*v1\.35.v1\.37/],
    [['--from', '1.36', '--to', 'v1.37.2'], /refused \(InvalidVersion\)/],
  ])('refuses %j with the reason', (args, want) => {
    const io = memoryIo();
    expect(dispatch(['plan', ...args], io)).toBe(1);
    expect(io.stderr.join('\n')).toMatch(want);
  });

  it('plans v1.36.4 → v1.37.2 in one edit, etcd through 3.6.11 (the release table lists it)', () => {
    const io = memoryIo();
    expect(dispatch(['plan', '--from', 'v1.36.4', '--to', 'v1.37.2'], io)).toBe(0);
    const text = io.stdout.join('\n');
    expect(text).toMatch(/etcd.*3\.6\.8.*3\.6\.11/);
    expect(text).toMatch(/etcd.*3\.6\.11.*3\.7\.0/);
    expect(text.indexOf('3.6.11 → 3.7.0')).toBeGreaterThan(text.indexOf('3.6.8 → 3.6.11'));
  });

  it('plans an abort back to the version the upgrade started from', () => {
    const io = memoryIo();
    expect(dispatch(['plan', '--from', 'v1.37.2', '--to', 'v1.36.4', '--aborting'], io)).toBe(0);
    const text = io.stdout.join('\n');
    expect(text.indexOf('kube-proxy')).toBeLessThan(text.indexOf('kube-apiserver'));
  });

  it('skips the snapshot with --no-snapshot and rejects bad usage', () => {
    const io = memoryIo();
    expect(dispatch(['plan', '--from', 'v1.35.5', '--to', 'v1.36.4', '--no-snapshot'], io)).toBe(0);
    expect(io.stdout.join('\n')).not.toMatch(/Snapshot/);
    expect(dispatch(['plan', '--from', 'v1.36.4'], memoryIo())).toBe(2);
    expect(dispatch(['plan', '--frm', 'x'], memoryIo())).toBe(2);
  });
});

describe('selfhost plan (live: without --from)', () => {
  const liveDeps = (world: FakeWorld, choices: unknown[] = []): LiveDeps => ({
    connect: (choice) => {
      choices.push(choice);
      return { client: fakeClient(world), watchControlPlane: () => ({ list: () => Promise.reject(new Error('no watch')), watch: () => undefined }) };
    },
    now: () => NOW,
  });
  const world = (version: string, etcd: string): FakeWorld => ({
    controlPlane: controlPlane({ phase: 'SelfHosted' }, { version }),
    nodes: [node('cp1', { kubelet: version })],
    pods: controlPlanePods('cp1', 'self-hosted', version, etcd),
  });

  it('lists what the live cluster can move to (exit 0), reading the kubeconfig flags', async () => {
    const io = memoryIo();
    const choices: unknown[] = [];
    expect(await runPlan(['--kubeconfig', '/k', '--context', 'c'], io, 'kubectl selfhost', liveDeps(world('v1.35.5', '3.6.6'), choices))).toBe(0);
    const text = io.stdout.join('\n');
    expect(text).toMatch(/^Possible now:$/m);
    expect(text).toMatch(/^v1\.36\.x \(the next minor\):\n {2}Upgrade v1\.35\.5 → v1\.36\.x:\n {2}1\. Snapshot etcd\n {2}2\. Upgrade etcd 3\.6\.6 → 3\.6\.8$/m);
    expect(text).toMatch(/^ {2}exact steps for one patch: kubectl selfhost plan --to v1\.36\.<patch>$/m);
    expect(text).toMatch(/^ {2}v1\.37\.x \(2 minors up\): refused \(MinorSkip\)/m);
    expect(choices).toEqual([{ path: '/k', context: 'c' }]);
  });

  it.each<[string[], number, RegExp]>([
    [['--to', 'v1.37.2'], 0, /^ {2}Upgrade v1\.37\.1 → v1\.37\.2:$/m],
    [['--to', 'v1.38.1'], 1, /refused \(UnsupportedVersion\): v1\.38\.1 is not supported/],
    [['--to', 'v1.37.2', '--no-snapshot'], 0, /^ {2}1\. Upgrade kube-apiserver v1\.37\.1 → v1\.37\.2$/m],
    [['--name', 'other', '--to', 'v1.37.2'], 0, /^Note: no ControlPlane "other": planned with the defaults/m],
  ])('%j exits %i', async (argv, code, want) => {
    const io = memoryIo();
    expect(await runPlan(argv, io, 'selfhost', liveDeps(world('v1.37.1', '3.7.0')))).toBe(code);
    expect(io.stdout.join('\n')).toMatch(want);
  });

  it('fails (1) when nothing can be planned or the API does not answer; bad usage is 2', async () => {
    const empty = memoryIo();
    expect(await runPlan([], empty, 'selfhost', liveDeps({ nodes: [], pods: [] }))).toBe(1);
    expect(empty.stdout.join('\n')).toMatch(/no kube-apiserver pod found/);
    const down = memoryIo();
    expect(await runPlan([], down, 'selfhost', liveDeps({ ...world('v1.37.1', '3.7.0'), down: 'connect ECONNREFUSED' }))).toBe(1);
    expect(down.stderr.join('\n')).toMatch(/^selfhost plan: GET .*connect ECONNREFUSED$/);
    const aborting = memoryIo();
    expect(runPlan(['--aborting'], aborting, 'selfhost', liveDeps(world('v1.37.1', '3.7.0')))).toBe(2);
    expect(aborting.stderr.join('\n')).toMatch(/--aborting: only with --from/);
    const mixed = memoryIo();
    expect(runPlan(['--from', 'v1.36.4', '--to', 'v1.37.2', '--context', 'x'], mixed)).toBe(2);
    expect(mixed.stderr.join('\n')).toMatch(/--context: only without --from/);
    const noContext = memoryIo();
    const failing: LiveDeps = { connect: () => { throw new Error('--context: Invalid value: "x"'); }, now: () => NOW };
    expect(await runPlan(['--context', 'x'], noContext, 'selfhost', failing)).toBe(2);
  });

  it('--help names the program it was called as', () => {
    const io = memoryIo();
    expect(dispatch(['plan', '--help'], io, 'kubectl selfhost')).toBe(0);
    expect(io.stdout.join('\n')).toMatch(/^usage: kubectl selfhost plan \[--to vX\.Y\.Z\]/);
  });
});
