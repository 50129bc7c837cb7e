import { describe, expect, it } from 'vitest';
import { computeProgramName, dispatch, usage } from './dispatch.js';
import { memoryIo } from './testing.js';

describe('the program name', () => {
  it.each<[string | undefined, string]>([
    ['/usr/local/bin/kubectl-selfhost', 'kubectl selfhost'],
    ['/usr/local/lib/node_modules/selfhost/dist/cli/kubectl-selfhost.js', 'kubectl selfhost'],
    ['/usr/local/bin/selfhost', 'selfhost'],
    ['/work/dist/cli/main.js', 'selfhost'],
    ['C:\\bin\\kubectl-selfhost', 'kubectl selfhost'],
    ['/bin/kubectl-selfhost-extra', 'selfhost'],
    [undefined, 'selfhost'],
  ])('%s → %s', (path, want) => {
    expect(computeProgramName(path)).toBe(want);
  });

  it('is what the usage says', () => {
    const io = memoryIo();
    expect(dispatch(['--help'], io, 'kubectl selfhost')).toBe(0);
    const text = io.stdout.join('\n');
    expect(text).toMatch(/^usage: kubectl selfhost <command> \[options\]$/m);
    expect(text).toMatch(/^ {2}status +show the ControlPlane/m);
    expect(text).toMatch(/Exit codes: 0 done, 1 refused or failed, 2 bad usage\./);
    expect(usage()).toMatch(/^usage: selfhost <command>/);
  });

  it('unknown commands are bad usage under either name', () => {
    const io = memoryIo();
    expect(dispatch(['stauts'], io, 'kubectl selfhost')).toBe(2);
    expect(io.stderr.join('\n')).toMatch(/^unknown command "stauts"; allowed: validate, render, plan, status, run/);
    expect(io.stderr.join('\n')).toMatch(/usage: kubectl selfhost <command>/);
  });
});
