import { describe, expect, it } from 'vitest';
import { RefusalError } from '../refusal.js';
import { mainCommand, runPure, simpleTemplate } from '../testdata/helpers.js';
import type { MutationContext } from '../types.js';
import { addNodeIdentityEnv, IDENTITY_ENV, refuseNodeLocalValues, templateNodeIdentity } from './identity.js';
import { makeSpec } from '../testdata/helpers.js';

const node = { name: 'cp2', ip: '192.0.2.12' };

describe('templateNodeIdentity', () => {
  it.each<[string, 'etcd' | 'kube-apiserver' | 'kube-proxy' | 'kube-scheduler', string[], string[]]>([
    [
      'etcd: URLs, name, own initial-cluster entry; other members literal',
      'etcd',
      [
        '--name=cp2',
        '--advertise-client-urls=https://192.0.2.12:2379',
        '--listen-client-urls=https://127.0.0.1:2379,https://192.0.2.12:2379',
        '--initial-cluster=cp1=https://192.0.2.11:2380,cp2=https://192.0.2.12:2380,cp3=https://192.0.2.13:2380',
        '--data-dir=/var/lib/etcd',
        '--client-cert-auth',
      ],
      [
        '--name=$(NODE_NAME)',
        '--advertise-client-urls=https://$(HOST_IP):2379',
        '--listen-client-urls=https://127.0.0.1:2379,https://$(HOST_IP):2379',
        '--initial-cluster=cp1=https://192.0.2.11:2380,$(NODE_NAME)=https://$(HOST_IP):2380,cp3=https://192.0.2.13:2380',
        '--data-dir=/var/lib/etcd',
        '--client-cert-auth',
      ],
    ],
    [
      'apiserver: the address; the node name is not an apiserver flag; member lists stay literal',
      'kube-apiserver',
      ['--advertise-address=192.0.2.12', '--name=cp2', '--etcd-servers=https://192.0.2.12:2379,https://192.0.2.13:2379', '--x=192.0.2.120'],
      ['--advertise-address=$(HOST_IP)', '--name=cp2', '--etcd-servers=https://192.0.2.12:2379,https://192.0.2.13:2379', '--x=192.0.2.120'],
    ],
    ['scheduler: bind-address', 'kube-scheduler', ['--bind-address=192.0.2.12', '--leader-elect'], ['--bind-address=$(HOST_IP)', '--leader-elect']],
    [
      'etcd: own initial-cluster entry found by address when the name differs',
      'etcd',
      ['--initial-cluster=other=https://192.0.2.12:2380,cp1=https://192.0.2.11:2380', '--name=other'],
      ['--initial-cluster=other=https://$(HOST_IP):2380,cp1=https://192.0.2.11:2380', '--name=other'],
    ],
    ['etcd: malformed initial-cluster entry kept', 'etcd', ['--initial-cluster=cp2'], ['--initial-cluster=cp2']],
    ['kube-proxy: hostname-override', 'kube-proxy', ['--hostname-override=cp2'], ['--hostname-override=$(NODE_NAME)']],
    ['no identity in flags', 'kube-scheduler', ['--bind-address=127.0.0.1', '--x=cp2'], ['--bind-address=127.0.0.1', '--x=cp2']],
  ])('%s', (_name, component, flags, want) => {
    const { template, ctx } = simpleTemplate(component, flags);
    const out = runPure(templateNodeIdentity, template, { ...ctx, node });
    expect(mainCommand(out)).toEqual([component, ...want]);
  });

  it('leaves this node’s IP in flags it cannot classify (refuseNodeLocalValues decides)', () => {
    const { template, ctx } = simpleTemplate('kube-apiserver', ['--external-hostname=192.0.2.12']);
    expect(runPure(templateNodeIdentity, template, { ...ctx, node })).toEqual(template);
  });

  it('does nothing without a known identity', () => {
    const { template, ctx } = simpleTemplate('etcd', ['--name=cp2']);
    expect(runPure(templateNodeIdentity, template, ctx)).toEqual(template);
  });

  it('raw command lines (CNI): the IP in every word', () => {
    const { template, ctx } = simpleTemplate('cni', []);
    const t = { ...template, spec: { containers: [{ name: 'cni', command: ['flanneld', '-public-ip=192.0.2.12'], args: ['-x'] }] } };
    const raw: MutationContext = { ...ctx, commandLayout: { kind: 'raw' }, node };
    expect(mainCommand(runPure(templateNodeIdentity, t, raw))).toEqual(['flanneld', '-public-ip=$(HOST_IP)', '-x']);
    const noArgs = { spec: { containers: [{ name: 'cni' }] } };
    expect(runPure(templateNodeIdentity, noArgs, raw)).toEqual(noArgs);
    expect(runPure(templateNodeIdentity, t, { ...raw, node: {} })).toEqual(t);
  });
});

describe('addNodeIdentityEnv', () => {
  it('appends HOST_IP and NODE_NAME after the source env', () => {
    const { template, ctx } = simpleTemplate('etcd', ['--name=$(NODE_NAME)']);
    const t = { ...template, spec: { containers: [{ ...template.spec?.containers[0], name: 'etcd', env: [{ name: 'A', value: '1' }] }] } };
    const out = runPure(addNodeIdentityEnv, t, ctx);
    expect(out.spec?.containers[0]?.env).toEqual([{ name: 'A', value: '1' }, ...IDENTITY_ENV]);
  });

  it('keeps an equivalent existing definition (idempotent)', () => {
    const { template, ctx } = simpleTemplate('etcd', []);
    const once = addNodeIdentityEnv(template, ctx);
    expect(runPure(addNodeIdentityEnv, once, ctx)).toEqual(once);
    const short = {
      spec: { containers: [{ name: 'etcd', env: [{ name: 'HOST_IP', valueFrom: { fieldRef: { fieldPath: 'status.hostIP' } } }] }] },
    };
    expect(runPure(addNodeIdentityEnv, short, ctx).spec?.containers[0]?.env?.map((e) => e.name)).toEqual(['HOST_IP', 'NODE_NAME']);
  });

  it('raw command lines get only the variables they use', () => {
    const { ctx } = simpleTemplate('cni', []);
    const raw: MutationContext = { ...ctx, commandLayout: { kind: 'raw' } };
    const uses = { spec: { containers: [{ name: 'cni', command: ['flanneld', '-public-ip=$(HOST_IP)'] }] } };
    expect(runPure(addNodeIdentityEnv, uses, raw).spec?.containers[0]?.env?.map((e) => e.name)).toEqual(['HOST_IP']);
    const none = { spec: { containers: [{ name: 'cni', command: ['flanneld'] }] } };
    expect(runPure(addNodeIdentityEnv, none, raw)).toEqual(none);
  });

  it.each([
    ['HOST_IP with another value', [{ name: 'HOST_IP', value: '1.2.3.4' }], 'EnvConflict'],
    ['NODE_NAME from another field', [{ name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }], 'EnvConflict'],
  ])('refuses %s', (_name, env, code) => {
    const { ctx } = simpleTemplate('etcd', []);
    const t = { spec: { containers: [{ name: 'etcd', env }] } };
    expect(() => addNodeIdentityEnv(t, { ...ctx, node })).toThrow(RefusalError);
    try {
      addNodeIdentityEnv(t, { ...ctx, node });
    } catch (error) {
      expect(error instanceof RefusalError && error.refusal.code).toBe(code);
    }
  });
});

describe('refuseNodeLocalValues', () => {
  const refusalOf = (fn: () => unknown) => {
    try {
      fn();
    } catch (error) {
      if (error instanceof RefusalError) return error.refusal;
      throw error;
    }
    return undefined;
  };

  it.each([
    ['an unclassified flag', ['--external-hostname=192.0.2.12'], [], '--external-hostname'],
    ['the node IP in an env value', [], [{ name: 'ETCD_ADVERTISE', value: 'https://192.0.2.12:2379' }], 'container kube-apiserver env ETCD_ADVERTISE'],
    ['the node name as an env value', [], [{ name: 'ETCD_NAME', value: 'cp2' }], 'container kube-apiserver env ETCD_NAME'],
  ])('refuses %s', (_name, flags, env, field) => {
    const { template, ctx } = simpleTemplate('kube-apiserver', flags);
    const c0 = template.spec?.containers[0];
    if (c0) c0.env = env;
    expect(refusalOf(() => refuseNodeLocalValues(template, { ...ctx, node }))).toMatchObject({ code: 'NodeLocalValue', field });
  });

  it('accepts member lists, templated values, other IPs, and flags the user sets', () => {
    const { template, ctx } = simpleTemplate('kube-apiserver', [
      '--etcd-servers=https://192.0.2.12:2379,https://192.0.2.13:2379',
      '--advertise-address=$(HOST_IP)',
      '--x=192.0.2.120',
      '--external-hostname=192.0.2.12',
      '--profiling',
    ]);
    const c0 = template.spec?.containers[0];
    if (c0) c0.env = [{ name: 'A', value: 'cp20' }, { name: 'B', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } }];
    const spec = makeSpec({ overrides: { 'kube-apiserver': { extraArgs: [{ name: 'external-hostname', value: '192.0.2.12' }] } } });
    expect(runPure(refuseNodeLocalValues, template, { ...ctx, node, spec })).toEqual(template);
    expect(runPure(refuseNodeLocalValues, template, { ...ctx, node: {}, spec: makeSpec() })).toEqual(template);
  });
});
