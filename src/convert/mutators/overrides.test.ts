import { describe, expect, it } from 'vitest';
import { RefusalError } from '../refusal.js';
import { makeSpec, mainCommand, runPure, simpleTemplate } from '../testdata/helpers.js';
import type { MutationContext } from '../types.js';
import { applyExtraArgs, applyExtraArgsTo, applyResources, applyResourcesTo } from './overrides.js';

describe('applyExtraArgs', () => {
  it.each<[string, string[], { name: string; value: string }[], string[]]>([
    ['sets a new flag', ['--a=1'], [{ name: 'b', value: '2' }], ['--a=1', '--b=2']],
    ['replaces every occurrence', ['--i=x', '--a=1', '--i=y'], [{ name: 'i', value: 'z' }], ['--i=z', '--a=1']],
    ['repeats a flag given twice', ['--i=x'], [{ name: 'i', value: 'p' }, { name: 'i', value: 'q' }], ['--i=p', '--i=q']],
    ['accepts leading dashes', ['--a=1'], [{ name: '--a', value: '2' }], ['--a=2']],
    ['nothing to do', ['--a=1'], [], ['--a=1']],
  ])('%s', (_name, flags, extraArgs, want) => {
    const { template, ctx } = simpleTemplate('kube-apiserver', flags);
    const spec = makeSpec({ overrides: { 'kube-apiserver': { extraArgs } } });
    expect(mainCommand(runPure(applyExtraArgs, template, { ...ctx, spec }))).toEqual(['kube-apiserver', ...want]);
    expect(applyExtraArgsTo([], extraArgs).length).toBe(extraArgs.length);
  });

  it('refuses extraArgs for a command line it does not edit', () => {
    const { template, ctx } = simpleTemplate('cni', []);
    const extraArgs = [{ name: 'a', value: '1' }];
    const spec = makeSpec({ overrides: { cni: { extraArgs }, 'kube-proxy': { extraArgs } } });
    const raw: MutationContext = { ...ctx, spec, commandLayout: { kind: 'raw' } };
    expect(() => applyExtraArgs(template, raw)).toThrow(/plugin's own configuration/);
    expect(() => applyExtraArgs(template, { ...raw, component: 'kube-proxy' })).toThrow(RefusalError);
    expect(() => applyExtraArgs(template, { ...raw, component: 'kube-proxy' })).toThrow(/not a plain list of flags/);
  });
});

describe('applyResources', () => {
  it('replaces requests and limits given, keeps the rest', () => {
    expect(applyResourcesTo({ requests: { cpu: '250m' }, limits: { memory: '1Gi' } }, { requests: { cpu: 1, memory: '512Mi' } })).toEqual({
      requests: { cpu: '1', memory: '512Mi' },
      limits: { memory: '1Gi' },
    });
    expect(applyResourcesTo(undefined, { limits: { cpu: '2' } })).toEqual({ limits: { cpu: '2' } });
  });

  it('on the main container only, and only when overridden', () => {
    const { template, ctx } = simpleTemplate('kube-scheduler', []);
    expect(runPure(applyResources, template, ctx)).toEqual(template);
    const spec = makeSpec({ overrides: { 'kube-scheduler': { resources: { requests: { cpu: '50m' } } } } });
    const out = runPure(applyResources, template, { ...ctx, spec });
    expect(out.spec?.containers[0]?.resources).toEqual({ requests: { cpu: '50m' } });
  });
});
