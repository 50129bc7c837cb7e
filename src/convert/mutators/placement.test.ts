import { describe, expect, it } from 'vitest';
import { runPure, simpleTemplate } from '../testdata/helpers.js';
import { placeOnControlPlane, spreadAcrossNodes, tolerateEverything } from './placement.js';
import { disableServiceAccountToken, ensurePriorityClass, useHostNetworkDns } from './pod.js';

const { ctx } = simpleTemplate('kube-scheduler', []);
const base = { spec: { containers: [{ name: 'kube-scheduler' }] } };

describe('placement', () => {
  it.each([
    ['no tolerations', base, [{ operator: 'Exists' }]],
    ['keeps others', { spec: { ...base.spec, tolerations: [{ key: 'a', operator: 'Equal', value: 'b' }] } }, [{ key: 'a', operator: 'Equal', value: 'b' }, { operator: 'Exists' }]],
    ['already tolerates everything', { spec: { ...base.spec, tolerations: [{ operator: 'Exists' }] } }, [{ operator: 'Exists' }]],
    ['Exists on one key is not everything', { spec: { ...base.spec, tolerations: [{ key: 'k', operator: 'Exists' }] } }, [{ key: 'k', operator: 'Exists' }, { operator: 'Exists' }]],
  ])('tolerateEverything: %s', (_name, input, want) => {
    expect(runPure(tolerateEverything, input, ctx).spec?.tolerations).toEqual(want);
  });

  it('placeOnControlPlane: control-plane nodeSelector merged with the source one', () => {
    const input = { spec: { ...base.spec, nodeSelector: { 'kubernetes.io/os': 'linux' } } };
    const out = runPure(placeOnControlPlane, input, ctx);
    expect(out.spec?.nodeSelector).toEqual({ 'kubernetes.io/os': 'linux', 'node-role.kubernetes.io/control-plane': '' });
    expect(out.spec?.tolerations).toEqual([{ operator: 'Exists' }]);
  });

  it('spreadAcrossNodes: a preferred anti-affinity term on hostname, once', () => {
    const once = runPure(spreadAcrossNodes, base, ctx);
    expect(once.spec?.affinity).toEqual({
      podAntiAffinity: {
        preferredDuringSchedulingIgnoredDuringExecution: [
          {
            weight: 100,
            podAffinityTerm: {
              topologyKey: 'kubernetes.io/hostname',
              labelSelector: { matchLabels: { 'selfhost.dev/component': 'kube-scheduler' } },
            },
          },
        ],
      },
    });
    expect(runPure(spreadAcrossNodes, once, ctx)).toEqual(once);
    const withNode = { spec: { ...base.spec, affinity: { nodeAffinity: {} } } };
    expect(runPure(spreadAcrossNodes, withNode, ctx).spec?.affinity?.nodeAffinity).toEqual({});
  });

  it('mutators on a template without spec return a copy', () => {
    for (const m of [tolerateEverything, placeOnControlPlane, spreadAcrossNodes, useHostNetworkDns, ensurePriorityClass, disableServiceAccountToken]) {
      expect(runPure(m, { metadata: {} }, ctx)).toEqual({ metadata: {} });
    }
  });
});

describe('pod settings', () => {
  it('useHostNetworkDns', () => {
    expect(runPure(useHostNetworkDns, base, ctx).spec).toMatchObject({ hostNetwork: true, dnsPolicy: 'ClusterFirstWithHostNet' });
  });
  it.each([
    [undefined, 'system-node-critical'],
    ['system-cluster-critical', 'system-cluster-critical'],
  ])('ensurePriorityClass(%s) → %s', (given, want) => {
    const input = { spec: { ...base.spec, ...(given === undefined ? {} : { priorityClassName: given }) } };
    expect(runPure(ensurePriorityClass, input, ctx).spec?.priorityClassName).toBe(want);
  });
  it.each([
    [undefined, false],
    [true, true],
  ])('disableServiceAccountToken(%s) → %s', (given, want) => {
    const input = { spec: { ...base.spec, ...(given === undefined ? {} : { automountServiceAccountToken: given }) } };
    expect(runPure(disableServiceAccountToken, input, ctx).spec?.automountServiceAccountToken).toBe(want);
  });
});
