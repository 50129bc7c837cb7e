import { load } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { parseAgentDesired } from '../api/agent.js';
import type { ComponentName, ControlPlaneSpec } from '../api/types.js';
import { sha256Hex } from '../convert/hash.js';
import { computeCheckpointPlan, computeDesiredCheckpoints } from './checkpoint-plan.js';
import { computeCheckpointEvents } from './reconcile.js';
import { NODE, NODE_IP, runToCompletion, SimWorld } from './testdata/world.js';

const NOW = new Date('2026-12-04T10:00:00Z');

function pivoted(spec: Partial<ControlPlaneSpec> = {}, prove = true): SimWorld {
  const w = new SimWorld(spec);
  runToCompletion(w);
  if (prove) w.proveAll();
  return w;
}

/** The checkpoints the node should keep, as component → standby. */
function standbys(w: SimWorld): Record<string, boolean> {
  const snap = w.snapshot();
  const node = snap.nodes[0];
  if (node === undefined) throw new Error('no node');
  return Object.fromEntries(computeDesiredCheckpoints(snap, node).map((c) => [c.component, c.standby]));
}

function syncAll(w: SimWorld): void {
  const sync = computeCheckpointPlan(w.snapshot(), NOW).sync;
  if (sync !== undefined) w.desiredText = sync.text;
}

interface PodDoc {
  metadata: { name: string; labels: Record<string, string>; annotations: Record<string, string> };
  spec: { initContainers?: unknown; nodeSelector?: unknown; containers: { command: string[]; args?: unknown; livenessProbe?: unknown; resources?: unknown; env?: { name: string }[] }[] };
}

function checkpointPod(w: SimWorld, component: ComponentName): PodDoc {
  const sync = computeCheckpointPlan(w.snapshot(), NOW).sync;
  const c = parseAgentDesired(sync?.text ?? '{"manifests":[]}').checkpoints?.find((x) => x.component === component);
  if (c === undefined) throw new Error(`no checkpoint of ${component}`);
  return load(c.content) as PodDoc;
}

describe('computeCheckpointPlan: what each node keeps', () => {
  it('nothing before the pivot is proven (no write either)', () => {
    const w = pivoted({}, false);
    expect(computeCheckpointPlan(w.snapshot(), NOW)).toEqual({ statuses: [] });
  });

  it('after the pivot: the four control-plane components, standing by while their pods run', () => {
    const w = pivoted();
    expect(standbys(w)).toEqual({ etcd: true, 'kube-apiserver': true, 'kube-controller-manager': true, 'kube-scheduler': true });
    syncAll(w);
    expect(computeCheckpointPlan(w.snapshot(), NOW).sync).toBeUndefined();
  });

  it.each([
    ['the scheduler pod is gone: its checkpoint may take over', (w: SimWorld) => w.selfPods.delete('kube-scheduler'), { 'kube-scheduler': false }],
    ['an apiserver pod that is not Ready does not count', (w: SimWorld) => w.selfPods.set('kube-apiserver', { ...must(w, 'kube-apiserver'), ready: false }), { 'kube-apiserver': false }],
    ['etcd in its gate (running, not Ready) counts: the checkpoint must stop for it', (w: SimWorld) => w.selfPods.set('etcd', { ...must(w, 'etcd'), ready: false, gate: true }), { etcd: true }],
    ['etcd crash-looping does not count', (w: SimWorld) => w.selfPods.set('etcd', { ...must(w, 'etcd'), ready: false, crash: { reason: 'CrashLoopBackOff', message: 'x' } }), { etcd: false }],
  ])('%s', (_name, change, want) => {
    const w = pivoted();
    syncAll(w);
    const before = standbys(w);
    change(w);
    expect(standbys(w)).toMatchObject(want);
    // A change of standby is a write of that node's desired.json; no change, no write.
    expect(computeCheckpointPlan(w.snapshot(), NOW).sync === undefined).toBe(JSON.stringify(before) === JSON.stringify(standbys(w)));
  });

  it('a component left out of spec.components loses its checkpoint; StaticPods mode loses them all', () => {
    const w = pivoted();
    syncAll(w);
    w.cp = { ...w.cp, spec: { ...w.cp.spec, components: w.cp.spec.components.filter((c) => c !== 'kube-scheduler') } };
    expect(Object.keys(standbys(w))).toEqual(['etcd', 'kube-apiserver', 'kube-controller-manager']);
    w.cp = { ...w.cp, spec: { ...w.cp.spec, mode: 'StaticPods' } };
    expect(standbys(w)).toEqual({});
  });

  it('keeps the manifests part of desired.json as it is', () => {
    const w = pivoted();
    const before = parseAgentDesired(w.desiredText ?? '').manifests;
    syncAll(w);
    expect(parseAgentDesired(w.desiredText ?? '').manifests).toEqual(before);
  });
});

describe('computeDesiredCheckpointPod (through the plan)', () => {
  it('etcd: the gate unwrapped, the supervisor with its ports, the node written in, nothing that needs the API', () => {
    const pod = checkpointPod(pivoted(), 'etcd');
    const cmd = pod.spec.containers[0]?.command ?? [];
    expect(cmd.slice(0, 2)).toEqual(['/selfhost-checkpoint-bin/selfhost-gate-exec', 'checkpoint']);
    expect(cmd).toContain('--standby=/run/selfhost/checkpoints/etcd.standby');
    expect(cmd.filter((a) => a.startsWith('--port='))).toEqual(['--port=2379', '--port=2380', '--port=2381']);
    const inner = cmd.slice(cmd.indexOf('--') + 1);
    expect(inner[0]).toBe('etcd');
    expect(inner).toContain(`--name=${NODE}`);
    expect(inner.join(' ')).toContain(`https://${NODE_IP}:2379`);
    expect(inner.join(' ')).not.toContain('$(');
    expect(pod.spec.initContainers).toBeUndefined();
    expect(pod.spec.nodeSelector).toBeUndefined();
    expect(pod.spec.containers[0]?.livenessProbe).toBeUndefined();
    expect(pod.spec.containers[0]?.resources).toBeUndefined();
    expect(pod.metadata.name).toBe('selfhost-checkpoint-etcd');
    expect(pod.metadata.labels).toEqual({ 'app.kubernetes.io/managed-by': 'selfhost', 'selfhost.dev/checkpoint-of': 'etcd' });
  });

  it('kube-apiserver: its secure port, its flags as proven (the hardening flags kept)', () => {
    const w = pivoted();
    const pod = checkpointPod(w, 'kube-apiserver');
    const cmd = pod.spec.containers[0]?.command ?? [];
    expect(cmd).toContain('--port=6443');
    const inner = cmd.slice(cmd.indexOf('--') + 1);
    expect(inner[0]).toBe('kube-apiserver');
    expect(inner).toContain('--permit-port-sharing=true');
    expect(inner).toContain(`--advertise-address=${NODE_IP}`);
    expect(inner).toContain('--authorization-mode=Node,RBAC');
    expect(pod.spec.containers[0]?.args).toBeUndefined();
  });

  it.each([
    ['kube-controller-manager', '--port=10257'],
    ['kube-scheduler', '--port=10259'],
  ] as const)('%s listens on %s', (component, port) => {
    expect(checkpointPod(pivoted(), component).spec.containers[0]?.command).toContain(port);
  });

  it('is deterministic', () => {
    expect(computeCheckpointPlan(pivoted().snapshot(), NOW)).toEqual(computeCheckpointPlan(pivoted().snapshot(), NOW));
  });
});

describe('checkpoint status and events', () => {
  it('reports saved and active from the agent, with the time active last changed', () => {
    const w = pivoted();
    syncAll(w);
    const wanted = parseAgentDesired(w.desiredText ?? '').checkpoints ?? [];
    w.checkpoints = wanted.map((c) => ({ component: c.component, sha256: sha256Hex(c.content), active: c.component === 'kube-scheduler', standby: c.component !== 'kube-scheduler' }));
    const statuses = computeCheckpointPlan(w.snapshot(), NOW).statuses;
    expect(statuses.map((s) => [s.node, s.component, s.saved, s.active])).toEqual([
      [NODE, 'etcd', true, false],
      [NODE, 'kube-apiserver', true, false],
      [NODE, 'kube-controller-manager', true, false],
      [NODE, 'kube-scheduler', true, true],
    ]);
    expect(statuses.every((s) => s.lastTransitionTime === NOW.toISOString())).toBe(true);
    expect(statuses.map((s) => s.version)).toEqual([expect.stringMatching(/^3\.\d+\.\d+$/), 'v1.37.2', 'v1.37.2', 'v1.37.2']);
    const events = computeCheckpointEvents([], statuses);
    expect(events.map((e) => e.reason)).toEqual(['CheckpointActivated']);
    const back = statuses.map((s) => ({ ...s, active: false }));
    expect(computeCheckpointEvents(statuses, back).map((e) => `${e.reason} ${e.note}`)).toEqual([
      `CheckpointStoodAside kube-scheduler on ${NODE}: the self-hosted pod runs again; the checkpoint stood aside`,
    ]);
  });
});

function must(w: SimWorld, c: ComponentName) {
  const p = w.selfPods.get(c);
  if (p === undefined) throw new Error(`no self-hosted ${c}`);
  return p;
}
