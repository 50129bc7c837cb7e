import { describe, expect, it } from 'vitest';
import {
  checkOfflineMemberName,
  containsIp,
  hostOfEndpoint,
  hostOfUrl,
  isNodeAddress,
  learnNodeIdentity,
  replaceIp,
  resolveNodeIdentity,
  type IdentityClaim,
} from './identity.js';
import { handwritten, kubeadmFixtures, mustParse } from './testdata/helpers.js';

describe('replaceIp', () => {
  it.each([
    ['https://192.0.2.1:2379', '192.0.2.1', 'https://$(HOST_IP):2379'],
    ['https://127.0.0.1:2379,https://192.0.2.1:2379', '192.0.2.1', 'https://127.0.0.1:2379,https://$(HOST_IP):2379'],
    ['192.0.2.10', '192.0.2.1', '192.0.2.10'],
    ['10.192.0.2.1', '192.0.2.1', '10.192.0.2.1'],
    ['192.0.2.1.5', '192.0.2.1', '192.0.2.1.5'],
    ['192.0.2.1.', '192.0.2.1', '$(HOST_IP).'],
    ['a=192.0.2.1,b=192.0.2.1', '192.0.2.1', 'a=$(HOST_IP),b=$(HOST_IP)'],
    ['https://[fd00::1]:2379', 'fd00::1', 'https://[$(HOST_IP)]:2379'],
    ['fd00::10', 'fd00::1', 'fd00::10'],
    ['2fd00::1', 'fd00::1', '2fd00::1'],
  ])('%s with %s', (text, ip, want) => {
    expect(replaceIp(text, ip, '$(HOST_IP)')).toBe(want);
    expect(containsIp(text, ip)).toBe(want !== text);
  });
});

describe('address helpers', () => {
  it.each([
    ['192.0.2.1', true],
    ['fd00::1', true],
    ['127.0.0.1', false],
    ['127.1.2.3', false],
    ['0.0.0.0', false],
    ['::1', false],
    ['::', false],
    ['node1.example.com', false],
    ['$(HOST_IP)', false],
  ])('isNodeAddress(%s) = %s', (text, want) => {
    expect(isNodeAddress(text)).toBe(want);
  });
  it('hosts of URLs and endpoints', () => {
    expect(hostOfUrl('https://192.0.2.1:2379')).toBe('192.0.2.1');
    expect(hostOfUrl('https://[fd00::1]:2379')).toBe('fd00::1');
    expect(hostOfUrl('not a url')).toBeUndefined();
    expect(hostOfEndpoint('192.0.2.1:6443')).toBe('192.0.2.1');
    expect(hostOfEndpoint('[fd00::1]:6443')).toBe('fd00::1');
    expect(hostOfEndpoint('[fd00::1')).toBe('[fd00::1');
    expect(hostOfEndpoint('fd00::1')).toBe('fd00::1');
    expect(hostOfEndpoint('host')).toBe('host');
  });
});

describe('learnNodeIdentity', () => {
  for (const fixture of kubeadmFixtures()) {
    it(`${fixture.version}: etcd and the apiserver agree on cp1 / 192.0.2.10`, () => {
      const claims = fixture.manifests.map(mustParse).flatMap(learnNodeIdentity);
      expect(new Set(claims.filter((c) => c.kind === 'ip').map((c) => c.value))).toEqual(new Set(['192.0.2.10']));
      expect(claims.filter((c) => c.kind === 'name').map((c) => c.value)).toEqual(['cp1']);
      expect(new Set(claims.map((c) => c.component))).toEqual(new Set(['etcd', 'kube-apiserver']));
      expect(resolveNodeIdentity(undefined, claims)).toEqual({ node: { name: 'cp1', ip: '192.0.2.10' }, conflicts: [] });
    });
  }

  it('hand-written etcd member: flags only', () => {
    const claims = learnNodeIdentity(mustParse(handwritten('etcd-member.yaml')));
    expect(claims.map((c) => [c.kind, c.value, c.field])).toEqual([
      ['ip', '203.0.113.12', '--advertise-client-urls'],
      ['ip', '203.0.113.12', '--initial-advertise-peer-urls'],
      ['name', 'cp2', '--name'],
    ]);
  });

  it('ignores already templated values and other components', () => {
    expect(learnNodeIdentity(mustParse(handwritten('scheduler-string.yaml')))).toEqual([]);
  });
});

describe('resolveNodeIdentity', () => {
  const claim = (kind: 'ip' | 'name', value: string, component: 'etcd' | 'kube-apiserver' = 'etcd'): IdentityClaim => ({
    kind,
    value,
    component,
    manifest: `/m/${component}.yaml`,
    field: '--x',
  });

  it('the caller wins and every disagreeing claim is a refusal', () => {
    const r = resolveNodeIdentity({ name: 'cp9', ip: '192.0.2.99' }, [claim('ip', '192.0.2.10'), claim('name', 'cp9')]);
    expect(r.node).toEqual({ name: 'cp9', ip: '192.0.2.99' });
    expect(r.conflicts).toHaveLength(1);
    expect(r.conflicts[0]).toMatchObject({
      code: 'IdentityConflict',
      manifest: '/m/etcd.yaml',
      component: 'etcd',
      value: '192.0.2.10',
      reason: expect.stringMatching(/192\.0\.2\.99 \(from the caller/),
    });
  });

  it('without a caller, the apiserver speaks first', () => {
    const r = resolveNodeIdentity(undefined, [claim('ip', '192.0.2.2', 'etcd'), claim('ip', '192.0.2.1', 'kube-apiserver')]);
    expect(r.node).toEqual({ ip: '192.0.2.1' });
    expect(r.conflicts.map((c) => c.component)).toEqual(['etcd']);
  });

  it('nothing known → empty identity', () => {
    expect(resolveNodeIdentity(undefined, [])).toEqual({ node: {}, conflicts: [] });
    expect(resolveNodeIdentity({ name: 'n' }, [])).toEqual({ node: { name: 'n' }, conflicts: [] });
  });
});

describe('checkOfflineMemberName', () => {
  const etcd = (flags: string[]) =>
    mustParse({
      path: '/m/etcd.yaml',
      content: JSON.stringify({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { labels: { component: 'etcd', tier: 'control-plane' } },
        spec: { hostNetwork: true, containers: [{ name: 'etcd', image: 'registry.k8s.io/etcd:3.7.0-0', command: ['etcd', ...flags] }] },
      }),
    });
  const peer = '--initial-advertise-peer-urls=https://192.0.2.11:2380';
  it.each<[string, string[], string | undefined]>([
    ['kubeadm: --name is this member’s --initial-cluster entry', ['--name=cp2', peer, '--initial-cluster=cp1=https://192.0.2.10:2380,cp2=https://192.0.2.11:2380'], undefined],
    ['--initial-cluster names this member otherwise', ['--name=etcd-b', peer, '--initial-cluster=cp1=https://192.0.2.10:2380,cp2=https://192.0.2.11:2380'], 'etcd-b'],
    ['no entry for this member’s peer URL: nothing to contradict', ['--name=etcd-b', peer, '--initial-cluster=cp1=https://192.0.2.10:2380'], undefined],
    ['no --initial-cluster', ['--name=etcd-b', peer], undefined],
    ['already templated', ['--name=$(NODE_NAME)', peer, '--initial-cluster=cp2=https://192.0.2.11:2380'], undefined],
  ])('%s', (_name, flags, value) => {
    const r = checkOfflineMemberName(etcd(flags));
    if (value === undefined) expect(r).toBeUndefined();
    else expect(r).toMatchObject({ code: 'IdentityConflict', component: 'etcd', field: '--name', value });
  });
});
