import { describe, expect, it } from 'vitest';
import { formatAgentDesired } from '../api/agent.js';
import { agentConfigMapPath, computeConfigMapView, computeDesiredInput, computeObservedApply } from './configmap.js';
import { computeSha256 } from './snapshot.js';

const DESIRED = formatAgentDesired({
  manifests: [{ path: '/etc/kubernetes/manifests/etcd.yaml', state: 'Retired', originalSha256: 'a'.repeat(64) }],
});

describe('computeConfigMapView', () => {
  it.each([
    ['absent', undefined, { resourceVersion: undefined, desired: undefined, observed: undefined }],
    ['no data', { metadata: { resourceVersion: '7' } }, { resourceVersion: '7', desired: undefined, observed: undefined }],
    [
      'both keys',
      { metadata: { resourceVersion: '8' }, data: { 'desired.json': 'd', 'observed.json': 'o', other: 'x' } },
      { resourceVersion: '8', desired: 'd', observed: 'o' },
    ],
    ['odd shapes', { metadata: 'x', data: { 'desired.json': 3 } }, { resourceVersion: '', desired: undefined, observed: undefined }],
  ])('%s', (_name, obj, want) => {
    expect(computeConfigMapView(obj)).toEqual(want);
  });
});

describe('computeDesiredInput', () => {
  it.each([
    ['never read', undefined, { kind: 'unknown' }],
    ['no desired.json', { resourceVersion: '1', desired: undefined, observed: 'o' }, { kind: 'absent' }],
  ])('%s', (_name, view, want) => {
    expect(computeDesiredInput(view)).toEqual(want);
  });

  it('parses desired.json and hashes its exact text', () => {
    const input = computeDesiredInput({ resourceVersion: '1', desired: DESIRED, observed: undefined });
    expect(input).toMatchObject({ kind: 'ok', sha256: computeSha256(DESIRED) });
  });

  it.each([
    ['not JSON', '{', /^desired\.json: not JSON: .+; nothing was changed$/],
    ['bad state', '{"manifests":[{"path":"/x","state":"Gone","originalSha256":"' + 'a'.repeat(64) + '"}]}', /state: Unsupported value: "Gone"/],
    ['no manifests', '{}', /manifests: Required value/],
  ])('reports a malformed desired.json (%s) as a conflict on the key', (_name, text, message) => {
    const input = computeDesiredInput({ resourceVersion: '1', desired: text, observed: undefined });
    expect(input).toEqual({ kind: 'malformed', conflict: { path: 'desired.json', message: expect.stringMatching(message) as unknown as string } });
  });
});

describe('computeObservedApply', () => {
  it('is the SSA body of the agent: observed.json and the labels, nothing else', () => {
    expect(agentConfigMapPath('kube-system', 'cp-1')).toBe('/api/v1/namespaces/kube-system/configmaps/selfhost-agent-cp-1');
    expect(computeObservedApply('kube-system', 'cp-1', '{}')).toEqual({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: 'selfhost-agent-cp-1',
        namespace: 'kube-system',
        labels: { 'app.kubernetes.io/managed-by': 'selfhost', 'selfhost.dev/node': 'cp-1' },
      },
      data: { 'observed.json': '{}' },
    });
  });
});
