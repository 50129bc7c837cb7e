import type { V1Container } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { analyseCommandLine, basename, firstWord } from './command.js';

const c = (command?: string[], args?: string[]): V1Container => ({
  name: 'x',
  ...(command === undefined ? {} : { command }),
  ...(args === undefined ? {} : { args }),
});

describe('analyseCommandLine', () => {
  it.each<[string, V1Container, object]>([
    [
      'kubeadm: everything in command',
      c(['kube-apiserver', '--a=1', '--b=2']),
      { form: 'exec', location: 'command', prefix: ['kube-apiserver'], flagTokens: ['--a=1', '--b=2'] },
    ],
    [
      'binary in command, flags in args',
      c(['/usr/local/bin/kube-apiserver'], ['--a', '1']),
      { form: 'exec', location: 'args', prefix: ['/usr/local/bin/kube-apiserver'], flagTokens: ['--a', '1'] },
    ],
    [
      'flags split between command and args',
      c(['kube-apiserver', '--a=1'], ['--b=2']),
      { form: 'exec', location: 'args', prefix: ['kube-apiserver'], flagTokens: ['--a=1', '--b=2'] },
    ],
    ['args only (image entrypoint)', c(undefined, ['--a=1']), { form: 'exec', location: 'args', prefix: [], flagTokens: ['--a=1'] }],
    ['nothing', c(), { form: 'exec', location: 'args', prefix: [], flagTokens: [] }],
    [
      'one string',
      c([' kube-scheduler  --a=1\t--b=2 ']),
      { form: 'string', location: 'command', prefix: ['kube-scheduler'], flagTokens: ['--a=1', '--b=2'] },
    ],
    [
      'one string plus args',
      c(['kube-scheduler --a=1'], ['--b=2']),
      { form: 'string', location: 'command', prefix: ['kube-scheduler'], flagTokens: ['--a=1', '--b=2'] },
    ],
    [
      'sh -c exec',
      c(['/bin/sh', '-c', 'exec kube-controller-manager --controllers=*,bootstrapsigner --x=1']),
      { form: 'shell', location: 'command', prefix: ['kube-controller-manager'], flagTokens: ['--controllers=*,bootstrapsigner', '--x=1'] },
    ],
    [
      'sh -c without exec, script in args',
      c(['bash', '-c'], ['kube-scheduler --a=1']),
      { form: 'shell', location: 'command', prefix: ['kube-scheduler'], flagTokens: ['--a=1'] },
    ],
    [
      'sh and -c in command, script in args',
      c(['sh'], ['-c', 'etcd --name=x']),
      { form: 'shell', location: 'command', prefix: ['etcd'], flagTokens: ['--name=x'] },
    ],
  ])('%s', (_name, container, line) => {
    expect(analyseCommandLine(container, 'spec.containers[0]')).toEqual({ ok: true, line });
  });

  it.each<[string, V1Container, string, RegExp]>([
    ['pipe', c(['sh', '-c', 'kube-apiserver --a=1 | tee log']), 'spec.containers[0].command[2]', /pipe/],
    ['and-and', c(['sh', '-c', 'true && kube-apiserver']), 'spec.containers[0].command[2]', /&&/],
    ['separator', c(['sh', '-c', 'set -e; kube-apiserver']), 'spec.containers[0].command[2]', /separator/],
    ['redirect', c(['sh', '-c', 'kube-apiserver > /log']), 'spec.containers[0].command[2]', /redirection/],
    ['substitution', c(['sh', '-c', 'kube-apiserver --ip=$(hostname -i)']), 'spec.containers[0].command[2]', /substitution/],
    ['variable', c(['sh', '-c', 'kube-apiserver --ip=$IP']), 'spec.containers[0].command[2]', /substitution/],
    ['backtick', c(['sh', '-c', 'kube-apiserver --ip=`x`']), 'spec.containers[0].command[2]', /substitution/],
    ['quotes in string', c(["kube-scheduler --a='b c'"]), 'spec.containers[0].command[0]', /quote/],
    ['double quotes', c(['sh', '-c', 'kube-scheduler --a="b c"']), 'spec.containers[0].command[2]', /quote/],
    ['escape', c(['sh', '-c', 'kube-scheduler --a=b\\ c']), 'spec.containers[0].command[2]', /escape/],
    ['newline', c(['sh', '-c', 'echo hi\nkube-scheduler']), 'spec.containers[0].command[2]', /line break/],
    ['glob outside a flag', c(['sh', '-c', 'exec /usr/bin/kube-* --a=1']), 'spec.containers[0].command[2]', /glob/],
    ['brace', c(['sh', '-c', 'kube-scheduler --a={x,y}']), 'spec.containers[0].command[2]', /"\{"/],
    ['env assignment', c(['sh', '-c', 'GOGC=50 kube-scheduler --a=1']), 'spec.containers[0].command[2]', /environment variable/],
    ['script in args', c(['sh', '-c'], ['a | b']), 'spec.containers[0].args[0]', /pipe/],
    ['other shell option', c(['sh', '-ec', 'kube-scheduler']), 'spec.containers[0].command[1]', /option -ec/],
    ['no script', c(['sh', '-c']), 'spec.containers[0].command', /without a script/],
    ['extra words after script', c(['sh', '-c', 'kube-scheduler "$@"', 'x', '--a']), 'spec.containers[0]', /\$0/],
    ['empty script', c(['sh', '-c', '   ']), 'spec.containers[0].command[2]', /runs nothing/],
    ['only exec', c(['sh', '-c', 'exec']), 'spec.containers[0].command[2]', /runs nothing/],
    ['positional first arg without command', c(undefined, ['apiserver', '--a=1']), 'spec.containers[0].args[0]', /positional/],
  ])('refuses %s', (_name, container, field, reason) => {
    const r = analyseCommandLine(container, 'spec.containers[0]');
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.field).toBe(field);
      expect(r.reason).toMatch(reason);
    }
  });

  it('refuses a string command that starts with a flag', () => {
    const r = analyseCommandLine(c(['--a=1 --b=2']), 'f');
    expect(r).toMatchObject({ ok: false, reason: /does not start with a binary/ });
  });
});

describe('firstWord / basename', () => {
  it.each<[V1Container, string | undefined]>([
    [c(['/usr/local/bin/etcd', '--a']), '/usr/local/bin/etcd'],
    [c(['kube-scheduler --a=1']), 'kube-scheduler'],
    [c(['sh', '-c', 'exec kube-apiserver --a | x']), 'kube-apiserver'],
    [c(['sh', '-c'], ['kube-proxy']), 'kube-proxy'],
    [c(undefined, ['--a']), undefined],
  ])('%j → %s', (container, word) => {
    expect(firstWord(container)).toBe(word);
  });
  it('basename', () => {
    expect(basename('/a/b/c')).toBe('c');
    expect(basename('c')).toBe('c');
  });
});
