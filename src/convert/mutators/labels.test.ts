import { describe, expect, it } from 'vitest';
import { runPure, simpleTemplate } from '../testdata/helpers.js';
import type { MutationContext } from '../types.js';
import { asLabelValue, labelForSelfHost } from './labels.js';
import { sortFlags } from './sort.js';
import { applyFlagChanges, applyFlagChange } from './flag-changes.js';
import { mainCommand } from '../testdata/helpers.js';
import { mustParseVersion } from '../../api/version.js';

describe('labelForSelfHost', () => {
  it('keeps source labels, adds selfhost labels; checkpoint for control-plane components', () => {
    const { template, ctx } = simpleTemplate('kube-apiserver', []);
    const out = runPure(labelForSelfHost, { ...template, metadata: { labels: { component: 'kube-apiserver', tier: 'control-plane', 'selfhost.dev/version': 'old' } } }, ctx);
    expect(out.metadata).toEqual({
      labels: {
        component: 'kube-apiserver',
        tier: 'control-plane',
        'app.kubernetes.io/managed-by': 'selfhost',
        'selfhost.dev/component': 'kube-apiserver',
        'selfhost.dev/version': 'v1.35.5',
      },
      annotations: {
        'selfhost.dev/source-manifest': '/etc/kubernetes/manifests/kube-apiserver.yaml',
        'selfhost.dev/checkpoint': 'true',
      },
    });
  });

  it('kube-proxy: no checkpoint; cni: its image tag as version, when it is a label value', () => {
    const proxy = simpleTemplate('kube-proxy', []);
    expect(runPure(labelForSelfHost, proxy.template, proxy.ctx).metadata?.annotations).toEqual({
      'selfhost.dev/source-manifest': '/etc/kubernetes/manifests/kube-proxy.yaml',
    });
    const { ctx } = simpleTemplate('cni', []);
    const raw: MutationContext = { ...ctx, commandLayout: { kind: 'raw' } };
    const cni = (image: string) => ({ spec: { containers: [{ name: 'cni', image }] } });
    expect(runPure(labelForSelfHost, cni('f/flannel:v0.26.0'), raw).metadata?.labels?.['selfhost.dev/version']).toBe('v0.26.0');
    expect(runPure(labelForSelfHost, cni('f/flannel@sha256:abc'), raw).metadata?.labels?.['selfhost.dev/version']).toBeUndefined();
    expect(runPure(labelForSelfHost, cni(`f/flannel:${'x'.repeat(64)}`), raw).metadata?.labels?.['selfhost.dev/version']).toBeUndefined();
  });

  it('asLabelValue', () => {
    expect(asLabelValue('v1.2.3')).toBe('v1.2.3');
    expect(asLabelValue('-bad')).toBeUndefined();
    expect(asLabelValue('')).toBe('');
  });
});

describe('sortFlags', () => {
  it('sorts the main container flags stably; raw command lines untouched', () => {
    const { template, ctx } = simpleTemplate('kube-apiserver', ['--z=1', '--i=b', '--a', '--i=a']);
    expect(mainCommand(runPure(sortFlags, template, ctx))).toEqual(['kube-apiserver', '--a', '--i=b', '--i=a', '--z=1']);
    const raw: MutationContext = { ...ctx, commandLayout: { kind: 'raw' } };
    expect(runPure(sortFlags, template, raw)).toEqual(template);
  });

  it('args layout: prefix in command, flags in args', () => {
    const { ctx } = simpleTemplate('kube-apiserver', []);
    const t = { spec: { containers: [{ name: 'kube-apiserver', command: ['/bin/kube-apiserver'], args: ['--b=1', '--a=2'] }] } };
    const c: MutationContext = { ...ctx, commandLayout: { kind: 'flags', location: 'args', prefix: ['/bin/kube-apiserver'], singleDashLongFlags: false } };
    expect(runPure(sortFlags, t, c).spec?.containers[0]).toEqual({ name: 'kube-apiserver', command: ['/bin/kube-apiserver'], args: ['--a=2', '--b=1'] });
    const noPrefix: MutationContext = { ...ctx, commandLayout: { kind: 'flags', location: 'args', prefix: [], singleDashLongFlags: false } };
    expect(runPure(sortFlags, { spec: { containers: [{ name: 'kube-apiserver' }] } }, noPrefix).spec?.containers[0]).toEqual({ name: 'kube-apiserver' });
  });

  it('an unparseable token in a template is a refusal, not a crash', () => {
    const { template, ctx } = simpleTemplate('kube-apiserver', ['positional']);
    expect(() => sortFlags(template, ctx)).toThrow(/positional argument/);
  });
});

describe('applyFlagChanges', () => {
  it('applies the table between source and target', () => {
    const { template, ctx } = simpleTemplate('kube-apiserver', ['--old-flag=v', '--a=1']);
    const out = runPure(applyFlagChanges, template, { ...ctx, target: mustParseVersion('v1.37.2') });
    expect(mainCommand(out)).toEqual(['kube-apiserver', '--new-flag=v', '--a=1', '--new-default=on']);
  });
  it('each kind', () => {
    const flags = [{ name: 'a', value: '1' }];
    expect(applyFlagChange(flags, { kind: 'remove', flag: 'a', reason: '' })).toEqual([]);
    expect(applyFlagChange(flags, { kind: 'rename', from: 'a', to: 'b', reason: '' })).toEqual([{ name: 'b', value: '1' }]);
    expect(applyFlagChange(flags, { kind: 'set', flag: 'a', value: '2', reason: '' })).toEqual([{ name: 'a', value: '2' }]);
  });
});
