import { describe, expect, it } from 'vitest';
import { computeRolloutHealth } from './rollout-health.js';
import { runToCompletion, SimWorld } from './testdata/world.js';

const T0 = new Date('2026-11-25T10:00:00Z');

/** A pivoted world whose apiserver pod runs the template under test with the given state. */
function gate(pod: { ready: boolean; restarts: number; crash?: string; readyFor?: number }, elapsedS = 20) {
  const w = new SimWorld();
  runToCompletion(w);
  const c = w.desired().components.find((x) => x.name === 'kube-apiserver');
  const p = w.selfPods.get('kube-apiserver');
  if (c === undefined || p === undefined) throw new Error('no apiserver');
  const now = new Date(T0.getTime() + elapsedS * 1000);
  w.selfPods.set('kube-apiserver', {
    ...p,
    ready: pod.ready,
    restarts: pod.restarts,
    readySince: new Date(now.getTime() - (pod.readyFor ?? 0) * 1000).toISOString(),
    ...(pod.crash === undefined ? {} : { crash: { reason: pod.crash, message: 'Error: boom' } }),
  });
  return computeRolloutHealth({
    snap: w.snapshot(),
    component: 'kube-apiserver',
    kind: 'DaemonSet',
    workload: w.workloads.get('DaemonSet/selfhost-kube-apiserver'),
    templateHash: c.templateHash,
    now,
    startedAt: T0,
    settleMs: 10_000,
    timeoutMs: 60_000,
  });
}

describe('computeRolloutHealth', () => {
  it.each<[string, Parameters<typeof gate>[0], number, string]>([
    ['Ready for the settle period, no restart', { ready: true, restarts: 0, readyFor: 10 }, 20, 'Passed'],
    ['Ready for 3 s only', { ready: true, restarts: 0, readyFor: 3 }, 20, 'Waiting'],
    ['one lost start-up race, Ready since', { ready: true, restarts: 1, readyFor: 12 }, 20, 'Passed'],
    ['restarted twice, Ready now', { ready: true, restarts: 2, readyFor: 12 }, 20, 'Waiting'],
    ['first crash (back-off after one failure)', { ready: false, restarts: 1, crash: 'CrashLoopBackOff' }, 20, 'Waiting'],
    ['crash loop confirmed', { ready: false, restarts: 2, crash: 'CrashLoopBackOff' }, 20, 'Failed'],
    ['an image that cannot be pulled fails at once', { ready: false, restarts: 0, crash: 'ImagePullBackOff' }, 20, 'Failed'],
    ['not Ready past the timeout', { ready: false, restarts: 0 }, 61, 'Failed'],
  ])('%s → %s', (_n, pod, elapsed, state) => {
    expect(gate(pod, elapsed).state).toBe(state);
  });

  it('names the pod, container, reason, exit code and message of a failure', () => {
    const h = gate({ ready: false, restarts: 2, crash: 'CrashLoopBackOff' });
    expect(h.state === 'Failed' && h.message).toBe('pod selfhost-kube-apiserver-abcde: container kube-apiserver: CrashLoopBackOff (exit code 1): Error: boom');
  });
});
