import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { dispatch } from './dispatch.js';
import { runGate } from './gate.js';
import { memoryIo } from './testing.js';

const LISTEN_2379 = '   0: 0100007F:094B 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 23951 1 0000000000000000 100 0 0 10 0\n';
const HEADER = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'selfhost-gate-'));
});
afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

/** Runs `selfhost gate` on the real filesystem, /proc/net/tcp replaced by a file in root. */
async function gate(argv: string[], tcp = HEADER) {
  writeFileSync(join(root, 'tcp'), tcp);
  const io = memoryIo();
  const code = await runGate(argv, io, {
    procNetPaths: [join(root, 'tcp'), join(root, 'tcp6-missing')],
    logger: pino({ level: 'silent' }),
    signal: new AbortController().signal,
  });
  return { code, stderr: io.stderr.join('\n') };
}

describe('selfhost gate', () => {
  it('exits 0 when the file is absent and nothing listens on the ports', async () => {
    expect(await gate(['--absent', join(root, 'etcd.yaml'), '--port', '2379', '--port', '2380'])).toEqual({ code: 0, stderr: '' });
  });

  it('waits while the manifest exists, and says so when it times out (exit 1)', async () => {
    const manifest = join(root, 'etcd.yaml');
    writeFileSync(manifest, 'kind: Pod\n');
    const { code, stderr } = await gate(['--absent', manifest, '--port', '2379', '--interval', '10ms', '--timeout', '50ms']);
    expect(code).toBe(1);
    expect(stderr).toBe(`selfhost gate: timed out after 50ms while waiting: ${manifest} exists`);
  });

  it('waits while a port is listening', async () => {
    const { code, stderr } = await gate(['--absent', join(root, 'etcd.yaml'), '--port', '2379', '--interval', '10ms', '--timeout', '30ms'], HEADER + LISTEN_2379);
    expect(code).toBe(1);
    expect(stderr).toMatch(/port 2379 is in LISTEN state/);
  });

  it('opens as soon as the file goes away', async () => {
    const manifest = join(root, 'etcd.yaml');
    writeFileSync(manifest, 'kind: Pod\n');
    setTimeout(() => rmSync(manifest), 30);
    expect((await gate(['--absent', manifest, '--interval', '5ms', '--timeout', '5s'])).code).toBe(0);
  });

  it('--open-if-absent-at-start: opens at once next to a listener when the manifest is already gone (a later rollout)', async () => {
    const argv = ['--absent', join(root, 'kube-apiserver.yaml'), '--port', '2379', '--open-if-absent-at-start', '--timeout', '30ms'];
    expect(await gate(argv, HEADER + LISTEN_2379)).toEqual({ code: 0, stderr: '' });
  });

  it('--open-if-absent-at-start: once the manifest was there, waits for the port like any gate', async () => {
    const manifest = join(root, 'kube-apiserver.yaml');
    writeFileSync(manifest, 'kind: Pod\n');
    setTimeout(() => rmSync(manifest), 20);
    const { code, stderr } = await gate(['--absent', manifest, '--port', '2379', '--open-if-absent-at-start', '--interval', '5ms', '--timeout', '80ms'], HEADER + LISTEN_2379);
    expect(code).toBe(1);
    expect(stderr).toBe('selfhost gate: timed out after 80ms while waiting: port 2379 is in LISTEN state');
  });

  it.each([
    [['--port', '2379', '--open-if-absent-at-start'], /--open-if-absent-at-start: Invalid value: true: needs at least one --absent/],
    [[], /--absent, --port: Required value/],
    [['--absent', 'etcd.yaml'], /--absent: invalid value "etcd.yaml": must be an absolute path/],
    [['--port', '70000'], /--port: invalid value "70000"/],
    [['--port', '2379', '--interval', 'fast'], /--interval: invalid value "fast"/],
    [['--port', '2379', '--timeout', 'never'], /--timeout: invalid value "never".* or 0/],
    [['--port'], /argument missing|--port/],
    [['--wait', 'x'], /Unknown option '--wait'.*allowed options: --absent, --port, --interval, --timeout, --open-if-absent-at-start/],
    [['--port', '2379', 'extra'], /unexpected argument "extra"/],
  ])('%j is a usage error (exit 2)', async (argv, message) => {
    const io = memoryIo();
    expect(await runGate(argv, io)).toBe(2);
    expect(io.stderr.join('\n')).toMatch(message);
  });

  it('is reachable through dispatch', async () => {
    const io = memoryIo();
    expect(await dispatch(['gate', '--help'], io)).toBe(0);
    expect(io.stdout.join('\n')).toContain('--absent <file>');
  });
});
