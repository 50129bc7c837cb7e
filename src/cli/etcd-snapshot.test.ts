import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bodyOf, fakeDb, fakeGateway, gatewayLines } from '../etcd-snapshot/testing.js';
import type { TlsFiles } from '../etcd-snapshot/gateway.js';
import { dispatch } from './dispatch.js';
import { parseEtcdSnapshotArgs, runEtcdSnapshot, type EtcdSnapshotDeps } from './etcd-snapshot.js';
import { memoryIo } from './testing.js';

const NOW = Date.parse('2026-12-03T12:46:06.123Z');

describe('parseEtcdSnapshotArgs', () => {
  it('defaults to kubeadm paths and the local etcd', () => {
    expect(parseEtcdSnapshotArgs([], NOW)).toEqual({
      ok: true,
      value: {
        endpoint: 'https://127.0.0.1:2379',
        cacert: '/etc/kubernetes/pki/etcd/ca.crt',
        cert: '/etc/kubernetes/pki/etcd/healthcheck-client.crt',
        key: '/etc/kubernetes/pki/etcd/healthcheck-client.key',
        dir: '/var/lib/selfhost/etcd-snapshots',
        name: 'etcd-20261203T124606Z',
        retention: 3,
        minFreeBytes: 1073741824,
        terminationLog: '/dev/termination-log',
      },
    });
  });

  it('takes every flag', () => {
    const argv = ['--endpoint=https://10.0.0.1:2379/', '--cacert=/a', '--cert=/b', '--key=/c', '--dir=/d/', '--name=n1', '--retention=1', '--min-free-bytes=0', '--termination-log=/t'];
    expect(parseEtcdSnapshotArgs(argv, NOW)).toEqual({
      ok: true,
      value: { endpoint: 'https://10.0.0.1:2379', cacert: '/a', cert: '/b', key: '/c', dir: '/d', name: 'n1', retention: 1, minFreeBytes: 0, terminationLog: '/t' },
    });
  });

  it.each([
    [['--endpoint=http://127.0.0.1:2379'], '--endpoint: invalid value "http://127.0.0.1:2379": must be https://<host>:<port>'],
    [['--endpoint=nope'], '--endpoint: invalid value "nope": must be a URL'],
    [['--cacert=ca.crt'], '--cacert: invalid value "ca.crt": must be an absolute path'],
    [['--dir=snaps'], '--dir: invalid value "snaps": must be an absolute path'],
    [['--dir=/'], '--dir: invalid value "/": must be a directory of its own'],
    [['--name=../x'], '--name: invalid value "../x": must be 1-63 characters'],
    [['--name=a..b'], '--name: invalid value "a..b"'],
    [['--retention=0'], '--retention: invalid value "0": must be an integer of at least 1'],
    [['--min-free-bytes=-1'], '--min-free-bytes: invalid value "-1": must be an integer of at least 0'],
    [['--bogus'], "Unknown option '--bogus'"],
    [['extra'], 'unexpected argument "extra"'],
  ])('refuses %j', (argv, want) => {
    const parsed = parseEtcdSnapshotArgs(argv, NOW);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.message).toContain(want);
  });
});

describe('selfhost etcd-snapshot', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'selfhost-etcd-snapshot-'));
    writeFileSync(join(root, 'tlog'), '');
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  const files = { '/pki/ca.crt': 'CA', '/pki/c.crt': 'CERT', '/pki/c.key': 'KEY' };
  const argv = (...more: string[]) => [
    '--cacert=/pki/ca.crt', '--cert=/pki/c.crt', '--key=/pki/c.key', `--dir=${join(root, 'snaps')}`, '--name=s1', '--min-free-bytes=0',
    `--termination-log=${join(root, 'tlog')}`, ...more,
  ];

  function run(args: string[], lines: string[], io = memoryIo(files), signal = new AbortController().signal) {
    const seen: { endpoint?: string; tls?: TlsFiles } = {};
    const deps: EtcdSnapshotDeps = {
      now: () => NOW,
      gateway: (endpoint, tls) => {
        Object.assign(seen, { endpoint, tls });
        return fakeGateway({ body: () => bodyOf(`${lines.join('\n')}\n`) });
      },
      freeBytes: () => Promise.resolve(1 << 30),
      writeTerminationLog: (path, text) => writeFileSync(path, text),
      signal,
    };
    return { io, seen, code: runEtcdSnapshot(args, io, deps) };
  }

  it('prints one JSON result line and writes it to the termination log (exit 0)', async () => {
    const { io, seen, code } = run(argv(), gatewayLines(fakeDb(1000)));
    expect(await code).toBe(0);
    expect(seen).toEqual({ endpoint: 'https://127.0.0.1:2379', tls: { ca: Buffer.from('CA'), cert: Buffer.from('CERT'), key: Buffer.from('KEY') } });
    expect(io.stdout).toHaveLength(1);
    const result = JSON.parse(io.stdout[0] ?? '') as Record<string, unknown>;
    expect(result).toMatchObject({ ok: true, name: 's1', size: 1032, keys: 7, revision: 42, deleted: [], reused: false });
    expect(readFileSync(join(root, 'tlog'), 'utf8')).toBe(io.stdout[0]);
    expect(io.stderr).toEqual([]);
  });

  it('reports a refused snapshot on stdout, stderr and the termination log (exit 1)', async () => {
    const { io, code } = run(argv(), ['{"error":{"message":"etcdserver: no leader"}}']);
    expect(await code).toBe(1);
    const line = '{"ok":false,"name":"s1","error":"etcd aborted the snapshot stream at line 1: etcdserver: no leader"}';
    expect(io.stdout).toEqual([line]);
    expect(io.stderr).toEqual(['selfhost etcd-snapshot: etcd aborted the snapshot stream at line 1: etcdserver: no leader']);
    expect(readFileSync(join(root, 'tlog'), 'utf8')).toBe(line);
  });

  it('stops on a signal, reporting why, with no file left', async () => {
    const ctl = new AbortController();
    ctl.abort(new Error('stopped by SIGTERM'));
    const { io, code } = run(argv(), gatewayLines(fakeDb(1000)), memoryIo(files), ctl.signal);
    expect(await code).toBe(1);
    expect(io.stderr).toEqual(['selfhost etcd-snapshot: stopped by SIGTERM']);
    expect(readFileSync(join(root, 'tlog'), 'utf8')).toBe('{"ok":false,"name":"s1","error":"stopped by SIGTERM"}');
  });

  it('names the key file it cannot read, never its content', async () => {
    const { io, code } = run(argv('--key=/pki/missing.key'), []);
    expect(await code).toBe(1);
    expect(io.stderr[0]).toMatch(/^selfhost etcd-snapshot: --key: cannot read \/pki\/missing\.key: ENOENT/);
  });

  it('exits 2 with the usage on a bad flag, and 0 for --help', async () => {
    const bad = run(['--retention=x'], []);
    expect(await bad.code).toBe(2);
    expect(bad.io.stderr[0]).toMatch(/^selfhost etcd-snapshot: --retention: invalid value "x"[\s\S]*usage: selfhost etcd-snapshot/);
    const help = memoryIo();
    expect(await dispatch(['etcd-snapshot', '--help'], help)).toBe(0);
    expect(help.stdout[0]).toMatch(/^usage: selfhost etcd-snapshot/);
  });

  it('the default termination log writer writes only to a file that exists', async () => {
    const { defaultEtcdSnapshotDeps } = await import('./etcd-snapshot.js');
    defaultEtcdSnapshotDeps.writeTerminationLog(join(root, 'absent'), 'x');
    defaultEtcdSnapshotDeps.writeTerminationLog(join(root, 'tlog'), 'y');
    expect(readFileSync(join(root, 'tlog'), 'utf8')).toBe('y');
    expect(() => readFileSync(join(root, 'absent'))).toThrow(/ENOENT/);
  });
});
