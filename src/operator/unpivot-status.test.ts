import { describe, expect, it } from 'vitest';
import { computeDesiredState } from './desired.js';
import { IMAGE, makeControlPlane, runToCompletion, SimWorld } from './testdata/world.js';
import { computeHandbackStatus, computeUnpivotStatus } from './unpivot-status.js';
import { computeDroppedHandback } from './unpivot-plan.js';

const NOW = new Date('2026-12-05T08:00:00Z');

function statusOf(w: SimWorld) {
  const snap = w.snapshot();
  const desired = computeDesiredState(snap, { image: IMAGE, atVersion: snap.controlPlane.spec.version });
  return computeUnpivotStatus({ snap, desired, unpivot: w.unpivot(), now: NOW, paused: false });
}

function condition(status: ReturnType<typeof statusOf>, type: string) {
  return status.conditions?.find((c) => c.type === type);
}

describe('computeUnpivotStatus', () => {
  it('shows phase Unpivoting, the Unpivot plan in order and the running step', () => {
    const w = new SimWorld();
    runToCompletion(w);
    w.proveAll();
    w.cp = makeControlPlane({ mode: 'StaticPods' });
    w.applyUnpivot(w.unpivot().action); // the first hand-back write (no checkpoints in this world)
    const s = statusOf(w);
    expect(s.phase).toBe('Unpivoting');
    expect(s.plan?.operation).toBe('Unpivot');
    expect(s.plan?.steps.map((x) => `${x.action} ${x.component} ${x.state}`)).toEqual([
      'Unpivot etcd Running',
      'Unpivot kube-apiserver Pending',
      'Unpivot kube-controller-manager Pending',
      'Unpivot kube-scheduler Pending',
    ]);
    expect(s.step).toBe('1/4 etcd');
    expect(condition(s, 'Progressing')).toMatchObject({ status: 'True', reason: 'Unpivoting' });
    expect(condition(s, 'Ready')?.status).toBe('False');
  });

  it('ends in phase StaticPods, every step Succeeded, Ready True, SelfHosted False/StaticPods', () => {
    const w = new SimWorld();
    runToCompletion(w);
    w.proveAll();
    w.cp = makeControlPlane({ mode: 'StaticPods' });
    for (let i = 0; i < 40; i++) {
      const a = w.unpivot().action;
      if (a.type === 'Done') break;
      w.applyUnpivot(a);
    }
    const s = statusOf(w);
    expect(s.phase).toBe('StaticPods');
    expect(s.plan?.steps.every((x) => x.state === 'Succeeded')).toBe(true);
    expect(s.step).toBeUndefined();
    expect(condition(s, 'Ready')).toMatchObject({ status: 'True', reason: 'AsExpected' });
    expect(condition(s, 'SelfHosted')).toMatchObject({ status: 'False', reason: 'StaticPods' });
    expect(condition(s, 'Progressing')).toMatchObject({ status: 'False', reason: 'Idle' });
    expect(s.components?.map((c) => `${c.name} ${c.mode} ${c.ready}/${c.desired}`)).toEqual([
      'etcd StaticPod 1/1',
      'kube-apiserver StaticPod 1/1',
      'kube-controller-manager StaticPod 1/1',
      'kube-scheduler StaticPod 1/1',
    ]);
    expect(s.version).toBe('v1.37.2');
  });

  it('a refusal is Degraded with the reason, and the step Failed', () => {
    const w = new SimWorld({ version: 'v1.37.1' }, 'v1.37.1');
    runToCompletion(w);
    w.proveAll();
    w.cp = makeControlPlane({ version: 'v1.37.2', mode: 'StaticPods' });
    const s = statusOf(w);
    expect(s.phase).toBe('Degraded');
    expect(condition(s, 'Degraded')).toMatchObject({ status: 'True', reason: 'Unsupported' });
    expect(condition(s, 'Degraded')?.message).toContain('spec.version v1.37.2');
  });
});

describe('computeDroppedHandback: one component handed back alone', () => {
  it('dropping kube-scheduler from spec.components hands it back and leaves the others self-hosted', () => {
    const w = new SimWorld();
    runToCompletion(w);
    w.proveAll();
    w.cp = makeControlPlane({ components: ['cni', 'kube-proxy', 'etcd', 'kube-apiserver', 'kube-controller-manager'] });
    const taken: string[] = [];
    for (let i = 0; i < 20; i++) {
      const h = computeDroppedHandback(w.snapshot(), IMAGE);
      if (h === undefined || h.plan.action.type === 'Done') break;
      expect(h.components).toEqual(['kube-scheduler']);
      const a = h.plan.action;
      taken.push(a.type === 'WriteAgentDesired' ? a.why : a.type === 'DeleteWorkload' ? `delete ${a.name}` : `${a.type}`);
      w.applyUnpivot(a);
    }
    expect(taken).toEqual([
      'hand kube-scheduler back on cp1: write its static pod beside the self-hosted one',
      'delete selfhost-kube-scheduler',
      "write the static pods of kube-scheduler on cp1 in kubeadm's form (they restart together)",
    ]);
    expect([...w.workloads.keys()]).toEqual(expect.arrayContaining(['DaemonSet/selfhost-etcd', 'DaemonSet/selfhost-kube-apiserver', 'Deployment/selfhost-kube-controller-manager', 'DaemonSet/selfhost-agent']));
    expect(w.workloads.has('Deployment/selfhost-kube-scheduler')).toBe(false);
    expect([...w.manifests.keys()]).toEqual(['/etc/kubernetes/manifests/kube-scheduler.yaml']);
    // Once done it stays done: the next pass plans nothing for it.
    expect(computeDroppedHandback(w.snapshot(), IMAGE)?.plan.action).toEqual({ type: 'Done' });
    // The pivot of the others is untouched: its planner still has nothing to do.
    expect(w.plan().action).toEqual({ type: 'Done' });
  });

  it('shows the hand-back over the status: phase Unpivoting, the step, Progressing', () => {
    const w = new SimWorld();
    runToCompletion(w);
    w.proveAll();
    w.cp = makeControlPlane({ components: ['cni', 'kube-proxy', 'etcd', 'kube-apiserver', 'kube-controller-manager'] });
    const h = computeDroppedHandback(w.snapshot(), IMAGE);
    if (h === undefined) throw new Error('expected a hand-back');
    const s = computeHandbackStatus({ phase: 'SelfHosted', conditions: [] }, h, NOW);
    expect(s.phase).toBe('Unpivoting');
    expect(s.step).toBe('1/1 kube-scheduler');
    expect(s.conditions?.find((c) => c.type === 'Progressing')).toMatchObject({ status: 'True', reason: 'Unpivoting' });
  });

  it('no component dropped: nothing to hand back', () => {
    const w = new SimWorld();
    runToCompletion(w);
    expect(computeDroppedHandback(w.snapshot(), IMAGE)).toBeUndefined();
  });
});
