import { describe, expect, it } from 'vitest';
import { runAgent, type AgentCommandOptions } from './agent.js';
import { dispatch } from './dispatch.js';
import { memoryIo } from './testing.js';

/** Runs `selfhost agent` with a fake start that records the options it was given. */
async function run(argv: string[], env: Record<string, string> = {}) {
  const io = memoryIo();
  let started: AgentCommandOptions | undefined;
  const code = await runAgent(argv, io, {
    env,
    start: (opts) => {
      started = opts;
      return Promise.resolve(0);
    },
  });
  return { code, started, stderr: io.stderr.join('\n') };
}

describe('selfhost agent: flags', () => {
  it('defaults everything but the node, taken from NODE_NAME', async () => {
    expect(await run([], { NODE_NAME: 'cp-1' })).toMatchObject({
      code: 0,
      started: {
        node: 'cp-1',
        namespace: 'kube-system',
        manifestDir: '/etc/kubernetes/manifests',
        backupDir: '/etc/kubernetes/selfhost/backup',
        intervalMs: 2000,
        kubeconfig: { kind: 'default' },
      },
    });
  });

  it('takes every flag, --node over NODE_NAME', async () => {
    const { code, started } = await run(
      ['--node', 'cp-2', '--manifest-dir', '/m/', '--backup-dir', '/b', '--namespace', 'selfhost', '--interval', '500ms', '--kubeconfig', '/k'],
      { NODE_NAME: 'cp-1' },
    );
    expect(code).toBe(0);
    expect(started).toEqual({
      node: 'cp-2',
      namespace: 'selfhost',
      manifestDir: '/m',
      backupDir: '/b',
      intervalMs: 500,
      kubeconfig: { kind: 'file', path: '/k' },
    });
  });

  it('uses the in-cluster config when KUBERNETES_SERVICE_HOST is set', async () => {
    expect((await run([], { NODE_NAME: 'cp-1', KUBERNETES_SERVICE_HOST: '10.96.0.1' })).started?.kubeconfig).toEqual({ kind: 'in-cluster' });
  });

  it.each([
    [[], {}, /--node: Required value: give --node or set NODE_NAME/],
    [['--node', 'CP_1'], {}, /--node: invalid value "CP_1"/],
    [['--interval', 'often'], { NODE_NAME: 'cp-1' }, /--interval: invalid value "often"/],
    [['--interval', '0'], { NODE_NAME: 'cp-1' }, /--interval: invalid value "0"/],
    [['--manifest-dir', 'manifests'], { NODE_NAME: 'cp-1' }, /--manifest-dir: invalid value "manifests": must be an absolute path/],
    [['--backup-dir', '/etc/kubernetes/manifests/backup'], { NODE_NAME: 'cp-1' }, /--backup-dir: invalid value ".*": must be outside --manifest-dir/],
    [['--backup-dir', '/etc/kubernetes'], { NODE_NAME: 'cp-1' }, /--backup-dir: .*and not contain it/],
    [['--namespace', 'Kube_System'], { NODE_NAME: 'cp-1' }, /--namespace: invalid value "Kube_System"/],
    [['--nodes', 'x'], {}, /Unknown option '--nodes'.*allowed options/],
    [['cp-1'], {}, /unexpected argument "cp-1"/],
  ])('%j is a usage error (exit 2) naming the flag', async (argv, env, message) => {
    const { code, started, stderr } = await run(argv, env);
    expect(code).toBe(2);
    expect(started).toBeUndefined();
    expect(stderr).toMatch(message);
    expect(stderr).toContain('usage: selfhost agent');
  });

  it('is reachable through dispatch', async () => {
    const help = memoryIo();
    expect(await dispatch(['agent', '--help'], help)).toBe(0);
    expect(help.stdout.join('\n')).toContain('--manifest-dir');
    expect(await dispatch(['agent', '--node', 'cp-1', '--interval', 'x'], memoryIo())).toBe(2);
  });
});
