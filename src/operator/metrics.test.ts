import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { ComponentMode, ComponentName, ComponentStatus, Phase } from '../api/types.js';
import { OperatorMetrics } from './metrics.js';

type Labels = Record<string, string | number>;

/** Every series of a metric as "k=v,k=v" → value, read back from the registry as a scrape would. */
async function series(registry: Registry, name: string, suffix = ''): Promise<Record<string, number>> {
  const metric = registry.getSingleMetric(name);
  if (metric === undefined) throw new Error(`${name} is not registered`);
  const out: Record<string, number> = {};
  for (const v of (await metric.get()).values) {
    const metricName = (v as { metricName?: string }).metricName ?? name;
    if (metricName !== name + suffix) continue;
    const labels = Object.entries(v.labels as Labels)
      .filter(([k]) => k !== 'le')
      .map(([k, val]) => `${k}=${val}`)
      .join(',');
    out[labels] = v.value;
  }
  return out;
}

function status(name: ComponentName, mode: ComponentMode): ComponentStatus {
  return { name, mode, desired: 1, updated: 1, ready: 1 };
}

describe('OperatorMetrics', () => {
  const allPhasesZero = {
    'phase=Pending': 0,
    'phase=StaticPods': 0,
    'phase=Pivoting': 0,
    'phase=SelfHosted': 0,
    'phase=Upgrading': 0,
    'phase=RollingBack': 0,
    'phase=Unpivoting': 0,
    'phase=Degraded': 0,
  };

  it.each<{ name: string; phases: (Phase | undefined)[]; want: Record<string, number> }>([
    { name: 'no phase yet', phases: [], want: allPhasesZero },
    { name: 'one phase', phases: ['Pivoting'], want: { ...allPhasesZero, 'phase=Pivoting': 1 } },
    { name: 'the last phase wins', phases: ['Pivoting', 'SelfHosted'], want: { ...allPhasesZero, 'phase=SelfHosted': 1 } },
    { name: 'undefined clears', phases: ['Degraded', undefined], want: allPhasesZero },
  ])('phase gauge: $name', async ({ phases, want }) => {
    const registry = new Registry();
    const m = new OperatorMetrics(registry);
    for (const p of phases) m.setPhase(p);
    expect(await series(registry, 'selfhost_controlplane_phase')).toEqual(want);
  });

  it.each<{ name: string; statuses: ComponentStatus[]; want: Record<string, number> }>([
    { name: 'none', statuses: [], want: { 'mode=StaticPod': 0, 'mode=SelfHosted': 0, 'mode=Absent': 0 } },
    {
      name: 'mixed',
      statuses: [
        status('etcd', 'StaticPod'),
        status('kube-apiserver', 'StaticPod'),
        status('kube-proxy', 'SelfHosted'),
        status('cni', 'Absent'),
      ],
      want: { 'mode=StaticPod': 2, 'mode=SelfHosted': 1, 'mode=Absent': 1 },
    },
  ])('components gauge: $name', async ({ statuses, want }) => {
    const registry = new Registry();
    new OperatorMetrics(registry).setComponents(statuses);
    expect(await series(registry, 'selfhost_components')).toEqual(want);
  });

  it('components gauge follows the latest statuses (modes that emptied go to 0)', async () => {
    const registry = new Registry();
    const m = new OperatorMetrics(registry);
    m.setComponents([status('etcd', 'StaticPod')]);
    m.setComponents([status('etcd', 'SelfHosted')]);
    expect(await series(registry, 'selfhost_components')).toEqual({
      'mode=StaticPod': 0,
      'mode=SelfHosted': 1,
      'mode=Absent': 0,
    });
  });

  it('observeStep counts steps and records their duration in the 1 s – 30 min buckets', async () => {
    const registry = new Registry();
    const m = new OperatorMetrics(registry);
    m.observeStep('etcd', 'Pivot', 'success', 42);
    m.observeStep('etcd', 'Pivot', 'success', 900);
    m.observeStep('kube-proxy', 'Upgrade', 'failure', 1800);
    expect(await series(registry, 'selfhost_steps_total')).toEqual({
      'component=etcd,action=Pivot,result=success': 2,
      'component=kube-proxy,action=Upgrade,result=failure': 1,
    });
    expect(await series(registry, 'selfhost_step_duration_seconds', '_sum')).toEqual({
      'component=etcd,action=Pivot,result=success': 942,
      'component=kube-proxy,action=Upgrade,result=failure': 1800,
    });
    const text = await registry.getSingleMetricAsString('selfhost_step_duration_seconds');
    expect(text).toContain('selfhost_step_duration_seconds_bucket{le="1",component="etcd",action="Pivot",result="success"} 0');
    expect(text).toContain('selfhost_step_duration_seconds_bucket{le="60",component="etcd",action="Pivot",result="success"} 1');
    expect(text).toContain('selfhost_step_duration_seconds_bucket{le="1800",component="kube-proxy",action="Upgrade",result="failure"} 1');
  });

  it.each<{ method: string; code: number; want: string }>([
    { method: 'GET', code: 200, want: 'verb=get,code=200' },
    { method: 'GET', code: 404, want: 'verb=get,code=404' },
    { method: 'PATCH', code: 409, want: 'verb=apply,code=409' },
    { method: 'POST', code: 201, want: 'verb=create,code=201' },
    { method: 'DELETE', code: 200, want: 'verb=delete,code=200' },
    { method: 'PUT', code: 200, want: 'verb=update,code=200' },
    { method: 'OPTIONS', code: 204, want: 'verb=options,code=204' },
    { method: 'GET', code: 0, want: 'verb=get,code=<error>' },
  ])('request observer: $method $code → $want', async ({ method, code, want }) => {
    const registry = new Registry();
    const observe = new OperatorMetrics(registry).requestObserver();
    observe(method, '/api/v1/nodes', code);
    observe(method, '/api/v1/pods', code);
    expect(await series(registry, 'selfhost_apiserver_requests_total')).toEqual({ [want]: 2 });
  });

  it('two instances on one registry share their series', async () => {
    const registry = new Registry();
    new OperatorMetrics(registry).observeStep('cni', 'Adopt', 'success', 1);
    new OperatorMetrics(registry).observeStep('cni', 'Adopt', 'success', 1);
    expect(await series(registry, 'selfhost_steps_total')).toEqual({ 'component=cni,action=Adopt,result=success': 2 });
  });
});
