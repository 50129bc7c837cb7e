/**
 * `selfhost etcd-snapshot` against a real etcd with TLS client-certificate auth (kubeadm's setup):
 * the snapshot comes through the gRPC gateway, its sha256 trailer is checked, revision and key
 * count are etcd's, and the file is a bbolt database holding the keys written. Needs only etcd
 * (SELFHOST_ETCD_BIN), not the sim tier.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runEtcdSnapshot, type EtcdSnapshotDeps } from '../../src/cli/etcd-snapshot.js';
import { memoryIo } from '../../src/cli/testing.js';
import { processIo } from '../../src/cli/io.js';
import { httpsGateway, type EtcdGateway } from '../../src/etcd-snapshot/gateway.js';
import { parseResultLine } from '../../src/etcd-snapshot/record.js';
import { b64, startTlsEtcd, type TlsEtcd } from '../support/etcd-tls.js';

let etcd: TlsEtcd;
let snapDir: string;
const KEYS = 2000;
const VALUE_BYTES = 4096;
let revisionAfterWrites = 0;

// On a failure, etcd's log tail (the sim tier's logs are printed by the project's setup file).
afterEach(({ task }) => {
  if (task.result?.state === 'fail') console.error(`etcd (TLS) log tail:\n${etcd.process.tail(30)}`);
});

beforeAll(async () => {
  etcd = await startTlsEtcd();
  snapDir = join(etcd.dir, 'snapshots');
  // 100 puts per transaction (etcd's --max-txn-ops is 128).
  for (let start = 0; start < KEYS; start += 100) {
    const success = [];
    for (let i = start; i < Math.min(KEYS, start + 100); i++) {
      const value = Buffer.alloc(VALUE_BYTES, i % 251);
      success.push({ request_put: { key: b64(`/selfhost-test/key-${String(i).padStart(5, '0')}`), value: b64(value) } });
    }
    await etcd.call('/v3/kv/txn', { success });
  }
  const header = (await etcd.call('/v3/kv/range', { key: b64('\0'), range_end: b64('\0'), count_only: true })).header as Record<string, string>;
  revisionAfterWrites = Number(header.revision);
}, 120_000);

afterAll(async () => {
  await etcd.stop();
});

function flags(name: string, ...more: string[]): string[] {
  return [
    `--endpoint=${etcd.endpoint}`,
    `--cacert=${etcd.files.ca}`,
    `--cert=${etcd.files.cert}`,
    `--key=${etcd.files.key}`,
    `--dir=${snapDir}`,
    `--name=${name}`,
    '--min-free-bytes=0',
    `--termination-log=${join(etcd.dir, 'termination-log')}`,
    ...more,
  ];
}

async function run(argv: string[], deps: Partial<EtcdSnapshotDeps> = {}) {
  // Captured output, real files (the certificates).
  const io = memoryIo();
  io.readFile = processIo().readFile;
  const code = await runEtcdSnapshot(argv, io, deps);
  return { code, stdout: io.stdout, stderr: io.stderr };
}

describe('selfhost etcd-snapshot against a real etcd (TLS client certificates)', () => {
  it('takes a verified snapshot through the gateway: file, hash trailer, revision and key count', async () => {
    writeFileSync(join(etcd.dir, 'termination-log'), '');
    const started = Date.now();
    const { code, stdout, stderr } = await run(flags('first'));
    const wallMs = Date.now() - started;
    expect(stderr).toEqual([]);
    expect(code).toBe(0);
    expect(stdout).toHaveLength(1);
    const result = parseResultLine(stdout[0] ?? '');
    if (!result.ok) throw new Error(result.error);

    const dbPath = join(snapDir, 'first.db');
    const file = readFileSync(dbPath);
    const db = file.subarray(0, file.length - 32);
    const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
    expect(result).toMatchObject({ ok: true, name: 'first', path: dbPath, size: file.length, sha256: sha(file), dbSha256: sha(db), etcdVersion: '3.7.0' });
    // The trailer etcd appended is the sha256 of the database bytes: checked here independently.
    expect(file.subarray(file.length - 32).toString('hex')).toBe(sha(db));
    // Revision and key count are what etcd said right before the snapshot (nothing written since).
    expect(result.revision).toBe(revisionAfterWrites);
    expect(result.keys).toBe(KEYS);
    // A bbolt file: magic 0xED0CDAED in the first meta page, and the keys' bytes inside.
    expect(db.readUInt32LE(16)).toBe(0xed0cdaed);
    expect(db.includes(Buffer.from('/selfhost-test/key-01999'))).toBe(true);
    // The record next to it and the termination log say the same.
    expect(JSON.parse(readFileSync(join(snapDir, 'first.json'), 'utf8'))).toEqual({ ...result, ok: undefined, deleted: undefined, reused: undefined });
    expect(readFileSync(join(etcd.dir, 'termination-log'), 'utf8')).toBe(stdout[0]);
    expect(statSync(snapDir).mode & 0o777).toBe(0o700);
    expect(statSync(dbPath).mode & 0o777).toBe(0o600);
    expect(readdirSync(snapDir).sort()).toEqual(['first.db', 'first.json']);
    console.log(`etcd snapshot: ${KEYS} keys of ${VALUE_BYTES} B, file ${file.length} B, took ${result.durationMs} ms (command wall time ${wallMs} ms)`);
  });

  it('refuses a stream corrupted in transit and leaves no file behind', async () => {
    const flipOneByte = (real: EtcdGateway): EtcdGateway => ({
      ...real,
      snapshot: async (signal) => {
        const body = await real.snapshot(signal);
        async function* corrupt(): AsyncGenerator<Buffer> {
          let done = false;
          for await (const piece of body) {
            // A base64 letter in the first chunk's blob changes: valid base64, wrong bytes.
            const at = piece.indexOf('"blob":"');
            if (!done && at !== -1 && piece.length > at + 200) {
              const copy = Buffer.from(piece);
              copy[at + 100] = copy[at + 100] === 0x41 ? 0x42 : 0x41;
              done = true;
              yield copy;
            } else yield piece;
          }
        }
        return corrupt();
      },
    });
    const before = readdirSync(snapDir).sort();
    const { code, stdout, stderr } = await run(flags('corrupt'), { gateway: (endpoint, tls) => flipOneByte(httpsGateway(endpoint, tls)) });
    expect(code).toBe(1);
    expect(stderr[0]).toMatch(/^selfhost etcd-snapshot: snapshot integrity check failed: the sha256 of the \d+ database bytes is [0-9a-f]{64}, the trailer etcd sent says [0-9a-f]{64}$/);
    expect(parseResultLine(stdout[0] ?? '')).toMatchObject({ ok: false, name: 'corrupt' });
    expect(readdirSync(snapDir).sort()).toEqual(before);
  });

  it('refuses a client certificate of another CA, naming the endpoint', async () => {
    const before = readdirSync(snapDir).sort();
    const { code, stderr } = await run([...flags('stranger'), `--cert=${etcd.files.strangerCert}`, `--key=${etcd.files.strangerKey}`]);
    expect(code).toBe(1);
    expect(stderr[0]).toContain(`selfhost etcd-snapshot: etcd POST ${etcd.endpoint}/v3/maintenance/status: etcd refused the client certificate (--cert/--key): it is not signed by a CA etcd trusts`);
    expect(readdirSync(snapDir).sort()).toEqual(before);
  });

  it('refuses to start when the disk cannot hold one more snapshot plus --min-free-bytes', async () => {
    const { code, stderr } = await run([...flags('full'), '--min-free-bytes=1000000000000000']);
    expect(code).toBe(1);
    expect(stderr[0]).toMatch(new RegExp(`^selfhost etcd-snapshot: not enough disk space in ${snapDir}: \\d+ bytes free, \\d+ needed \\(snapshot estimate \\d+ = etcd dbSize \\d+ × 1.1, plus --min-free-bytes 1000000000000000\\)`));
    expect(readdirSync(snapDir)).not.toContain('full.db');
  });

  it('keeps --retention of its own snapshots, deletes only the oldest of them, and leaves other files alone', async () => {
    const foreign = ['hand-made.db', 'notes.txt', 'other.json'];
    mkdirSync(snapDir, { recursive: true });
    for (const f of foreign) writeFileSync(join(snapDir, f), '{}');
    for (const name of ['r1', 'r2', 'r3']) expect((await run(flags(name, '--retention=5'))).code).toBe(0);
    const { code, stdout } = await run(flags('r4', '--retention=2'));
    expect(code).toBe(0);
    const result = parseResultLine(stdout[0] ?? '');
    expect(result).toMatchObject({ ok: true, name: 'r4', deleted: ['r2', 'r1', 'first'] });
    expect(readdirSync(snapDir).sort()).toEqual([...foreign, 'r3.db', 'r3.json', 'r4.db', 'r4.json'].sort());
  });

  it('reports the same snapshot again when run again with the same name (a re-created Job)', async () => {
    const first = parseResultLine((await run(flags('r4', '--retention=2'))).stdout[0] ?? '');
    expect(first).toMatchObject({ ok: true, name: 'r4', reused: true, deleted: [] });
  });
});
