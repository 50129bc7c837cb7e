/**
 * selfhost-gate-exec, compiled from gate-exec.c exactly as the image build does (gcc -static) and
 * run for real: install, wait on a file and on LISTEN sockets (a /proc/net/tcp stand-in), exec.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const SOURCE = join(import.meta.dirname, 'gate-exec.c');
const HEADER = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';
// 127.0.0.1:2379 (0x094B) in LISTEN (0A), and an established connection from port 2380 (01).
const LISTEN_2379 = '   0: 0100007F:094B 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0 100 0 0 10 0\n';
const ESTABLISHED_2380 = '   1: 0100007F:094C 0100007F:A000 01 00000000:00000000 00:00000000 00000000     0        0 2 1 0 100 0 0 10 0\n';

let dir: string;
let bin: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'selfhost-gate-exec-'));
  bin = join(dir, 'selfhost-gate-exec');
  // gcc is part of the test bed (make node-deps); a missing compiler fails here, with gcc's error.
  execFileSync('gcc', ['-static', '-Os', '-s', '-Wall', '-Wextra', '-Werror', '-o', bin, SOURCE], { stdio: 'pipe' });
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function run(args: string[], timeoutMs = 5000): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(bin, args, { encoding: 'utf8', timeout: timeoutMs });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('selfhost-gate-exec', () => {
  it('install copies itself, executable, and the copy works', () => {
    const dest = join(dir, 'installed');
    expect(run(['install', dest]).code).toBe(0);
    expect(statSync(dest).mode & 0o777).toBe(0o755);
    expect(readFileSync(dest)).toEqual(readFileSync(bin));
    const r = spawnSync(dest, ['wait', `--absent=${join(dir, 'none')}`, '--', 'echo', 'ran'], { encoding: 'utf8' });
    expect(r.stdout).toBe('ran\n');
  });

  it('execs the command at once when the file is absent and nothing listens (same argv, exit code)', () => {
    const tcp = join(dir, 'tcp-free');
    writeFileSync(tcp, HEADER + ESTABLISHED_2380);
    const r = run(['wait', `--absent=${join(dir, 'etcd.yaml')}`, '--port=2379', '--port=2380', `--proc-net=${tcp}`, '--', 'sh', '-c', 'echo "$0 $1"; exit 7', 'a b', 'c']);
    expect(r).toMatchObject({ code: 7, stdout: 'a b c\n' });
    expect(r.stderr).toMatch(/gate open after \d+ ms, exec sh/);
  });

  it('waits while the file exists or the port listens, then execs within an interval', async () => {
    const manifest = join(dir, 'etcd-wait.yaml');
    const tcp = join(dir, 'tcp-wait');
    writeFileSync(manifest, 'kind: Pod\n');
    writeFileSync(tcp, HEADER + LISTEN_2379);
    const child = spawn(bin, ['wait', `--absent=${manifest}`, '--port=2379', `--proc-net=${tcp}`, '--interval-ms=20', '--', 'echo', 'etcd'], { stdio: 'pipe' });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await new Promise((r) => setTimeout(r, 200));
    expect(stdout).toBe('');
    expect(stderr).toContain(`${manifest} exists; port 2379 is in LISTEN state`);
    rmSync(manifest);
    await new Promise((r) => setTimeout(r, 200));
    expect(stdout).toBe(''); // the port still listens
    writeFileSync(tcp, HEADER);
    expect(await exited).toBe(0);
    expect(stdout).toBe('etcd\n');
  });

  it('waits when no /proc/net file can be read, and exits 143 on SIGTERM while waiting', async () => {
    const child = spawn(bin, ['wait', '--port=2379', `--proc-net=${join(dir, 'missing')}`, '--interval-ms=20', '--', 'echo', 'never'], { stdio: 'pipe' });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await new Promise((r) => setTimeout(r, 150));
    expect(stderr).toContain('ports cannot be checked');
    child.kill('SIGTERM');
    expect(await exited).toBe(143);
  });

  it.each([
    [['wait', '--', 'echo'], /give at least one --absent or --port/],
    [['wait', '--absent=relative.yaml', '--', 'echo'], /unknown or invalid option --absent=relative.yaml/],
    [['wait', '--port=70000', '--', 'echo'], /--port: must be a number from 1 to 65535/],
    [['wait', '--port=2379'], /no command after --/],
    [['wait', '--interval-ms=0', '--port=1', '--', 'echo'], /--interval-ms: must be 1..60000/],
    [[], /expected `install DEST`, `wait/],
    [['checkpoint', '--port=1', '--', 'echo'], /checkpoint needs --standby=FILE/],
    [['checkpoint', '--standby=/x', '--grace-ms=-1', '--', 'echo'], /invalid value in --grace-ms=-1/],
  ])('%j is a usage error (exit 2)', (args, message) => {
    const r = run(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  it('exits 127 when the command cannot be executed', () => {
    const r = run(['wait', `--absent=${join(dir, 'none')}`, '--', join(dir, 'no-such-binary')]);
    expect(r.code).toBe(127);
    expect(r.stderr).toMatch(/exec .*no-such-binary: No such file or directory/);
  });
});

/** A checkpoint supervisor under test: its child writes "started" lines to stdout and sleeps. */
function startCheckpoint(name: string, extra: string[] = []) {
  const standby = join(dir, `${name}.standby`);
  const state = join(dir, `${name}.active`);
  const tcp = join(dir, `${name}.tcp`);
  writeFileSync(tcp, HEADER);
  const child = spawn(
    bin,
    ['checkpoint', `--standby=${standby}`, `--state=${state}`, '--port=2379', `--proc-net=${tcp}`, '--grace-ms=100', '--fresh-ms=1000', '--interval-ms=20', '--stop-timeout-ms=2000', ...extra, '--', 'sh', '-c', 'echo started; exec sleep 60'],
    { stdio: 'pipe' },
  );
  const out = { stdout: '', stderr: '' };
  child.stdout.on('data', (d: Buffer) => (out.stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out.stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal === null ? null : 128))));
  return { child, out, exited, standby, state, tcp, starts: () => out.stdout.split('\n').filter((l) => l === 'started').length };
}

async function until(what: string, ok: () => boolean, timeoutMs = 3000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('selfhost-gate-exec checkpoint', () => {
  it('starts the command after the grace period when there is no standby marker and no listener, and reports it active', async () => {
    const cp = startCheckpoint('cold-boot');
    await until('the checkpoint to start', () => cp.starts() === 1 && existsSync(cp.state));
    expect(readFileSync(cp.state, 'utf8')).toBe('active\n');
    cp.child.kill('SIGTERM');
    expect(await cp.exited).toBe(143);
    expect(existsSync(cp.state)).toBe(false);
    expect(cp.out.stderr).toContain("stopping the checkpoint's sh");
  });

  it('stays dormant while a fresh marker exists or the port listens, and starts once both are gone', async () => {
    const cp = startCheckpoint('dormant');
    writeFileSync(cp.standby, '');
    await new Promise((r) => setTimeout(r, 400));
    expect(cp.starts()).toBe(0);
    // The marker ages out (the agent stopped refreshing it: the API is gone), but the real one still listens.
    writeFileSync(cp.tcp, HEADER + LISTEN_2379);
    const past = new Date(Date.now() - 5000);
    utimesSync(cp.standby, past, past);
    await new Promise((r) => setTimeout(r, 400));
    expect(cp.starts()).toBe(0);
    expect(cp.out.stderr).toContain('port 2379 is in LISTEN state');
    writeFileSync(cp.tcp, HEADER);
    await until('the checkpoint to start', () => cp.starts() === 1);
    cp.child.kill('SIGTERM');
    await cp.exited;
  });

  it('steps aside (the command stopped, the state file gone) when the marker becomes fresh, and comes back when it goes stale', async () => {
    const cp = startCheckpoint('step-aside');
    await until('the checkpoint to start', () => cp.starts() === 1);
    writeFileSync(cp.standby, '');
    await until('the checkpoint to step aside', () => !existsSync(cp.state) && cp.out.stderr.includes('checkpoint dormant'));
    await new Promise((r) => setTimeout(r, 300));
    expect(cp.starts()).toBe(1);
    // Nobody refreshes the marker: after --fresh-ms it is stale and the checkpoint starts again.
    await until('the checkpoint to start again', () => cp.starts() === 2, 4000);
    cp.child.kill('SIGTERM');
    expect(await cp.exited).toBe(143);
  });

  it('starts a command that exited again, after a back-off', async () => {
    const standby = join(dir, 'exits.standby');
    const tcp = join(dir, 'exits.tcp');
    writeFileSync(tcp, HEADER);
    const child = spawn(bin, ['checkpoint', `--standby=${standby}`, '--port=2379', `--proc-net=${tcp}`, '--grace-ms=50', '--interval-ms=20', '--', 'sh', '-c', 'echo run'], { stdio: 'pipe' });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    await until('two runs', () => stdout.split('\n').filter((l) => l === 'run').length >= 2, 5000);
    expect(stderr).toMatch(/the checkpoint's sh exited \(code 0\)/);
    child.kill('SIGTERM');
  });
});
