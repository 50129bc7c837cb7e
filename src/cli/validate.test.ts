import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { dispatch } from './dispatch.js';
import { memoryIo } from './testing.js';

const sample = readFileSync(new URL('../../deploy/samples/controlplane.yaml', import.meta.url), 'utf8');
const withVersion = (v: string) => sample.replace(/^(\s*version:\s*)v\S+/m, `$1${v}`);
const live = (specVersion: string, statusVersion: string) =>
  `${withVersion(specVersion)}\nstatus:\n  version: ${statusVersion}\n  phase: SelfHosted\n`;

describe('selfhost validate', () => {
  it('accepts the README sample', () => {
    const io = memoryIo({ 'cp.yaml': sample });
    expect(dispatch(['validate', '-f', 'cp.yaml'], io)).toBe(0);
    expect(io.stdout).toEqual(['controlplane/cluster: valid']);
  });

  it.each([
    ['a malformed version', withVersion('v1.37'), undefined, /spec\.version: Invalid value: "v1\.37": .*vMAJOR\.MINOR\.PATCH/],
    ['a version YAML reads as a number', withVersion('1.37'), undefined, /spec\.version: Invalid value: 1\.37: must be (a )?string/],
    ['a minor skip', withVersion('v1.37.2'), live('v1.35.5', 'v1.35.5'), /spec\.version: Invalid value: "v1\.37\.2": .*minor/],
    ['a minor downgrade', withVersion('v1.36.4'), live('v1.37.2', 'v1.37.2'), /spec\.version: Invalid value: "v1\.36\.4": .*downgrade/i],
    ['an unknown component', sample.replace(/- etcd\n/, '- coredns\n'), undefined, /spec\.components\[\d\]: .*"coredns".*kube-apiserver/],
    ['a wrong type', sample.replace(/paused: false/, 'paused: "yes"'), undefined, /spec\.paused: Invalid value: "yes": must be (a )?boolean/],
  ])('rejects %s naming the field, the value and what is allowed', (_what, doc, old, want) => {
    const files: Record<string, string> = { 'cp.yaml': doc };
    const args = ['validate', '-f', 'cp.yaml'];
    if (old !== undefined) {
      files['live.yaml'] = old;
      args.push('--old', 'live.yaml');
    }
    const io = memoryIo(files);
    expect(dispatch(args, io)).toBe(1);
    expect(io.stderr[0]).toBe('controlplane/cluster: invalid');
    expect(io.stderr.join('\n')).toMatch(want);
  });

  it('accepts the same update when it moves one minor', () => {
    const io = memoryIo({ 'cp.yaml': withVersion('v1.37.2'), 'live.yaml': live('v1.36.4', 'v1.36.4') });
    expect(dispatch(['validate', '-f', 'cp.yaml', '--old', 'live.yaml'], io)).toBe(0);
  });

  it.each([
    [['validate'], 2, /usage: selfhost validate/],
    [['validate', '-f', 'cp.yaml', '--bogus'], 2, /allowed options: --file, --old/],
    [['validate', '-f', 'missing.yaml'], 1, /missing\.yaml: cannot read/],
    [['validate', '-f', 'empty.yaml'], 1, /no YAML document/],
    [['validate', '-f', 'bad.yaml'], 1, /bad\.yaml: not YAML/],
    [['validate', '-f', 'cp.yaml', '--old', 'bad-old.yaml'], 1, /bad-old\.yaml: not a valid ControlPlane/],
  ])('%j exits %i', (argv, code, want) => {
    const io = memoryIo({ 'cp.yaml': sample, 'empty.yaml': '', 'bad.yaml': 'a: [', 'bad-old.yaml': 'kind: Nope\n' });
    expect(dispatch(argv, io)).toBe(code);
    expect(io.stderr.join('\n')).toMatch(want);
  });

  it('reports every document of a multi-document file', () => {
    const io = memoryIo({ 'cp.yaml': `${sample}\n---\n${withVersion('v1')}` });
    expect(dispatch(['validate', '-f', 'cp.yaml'], io)).toBe(1);
    expect(io.stdout).toEqual(['controlplane/cluster: valid']);
    expect(io.stderr[0]).toBe('controlplane/cluster: invalid');
  });
});

describe('selfhost (dispatch)', () => {
  it('prints usage for help and fails without a command', () => {
    const help = memoryIo();
    expect(dispatch(['help'], help)).toBe(0);
    expect(help.stdout.join('\n')).toMatch(/validate .*\n.*render .*\n.*plan /);
    expect(dispatch([], memoryIo())).toBe(2);
  });
  it('names the allowed commands for an unknown one', () => {
    const io = memoryIo();
    expect(dispatch(['deploy'], io)).toBe(2);
    expect(io.stderr[0]).toMatch(/unknown command "deploy"; allowed: validate, render, plan/);
  });
});
