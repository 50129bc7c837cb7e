import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, mkdirSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseRecord } from './record.js';
import { takeSnapshot, type TakeDeps } from './take.js';
import { bodyOf, fakeDb, fakeGateway, gatewayLines, RECORD, withTrailer } from './testing.js';

let root: string;
let dir: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'selfhost-take-'));
  dir = join(root, 'snaps');
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const db = fakeDb(70_000);
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

function deps(lines: string[] = gatewayLines(db), extra: Partial<Omit<TakeDeps, 'gateway'>> = {}): TakeDeps & { gateway: ReturnType<typeof fakeGateway> } {
  let t = Date.parse('2026-12-03T12:00:00Z');
  return {
    gateway: fakeGateway({ body: () => bodyOf(`${lines.join('\n')}\n`, 4096), status: { dbSize: db.length } }),
    now: () => (t += 250),
    freeBytes: () => Promise.resolve(10 * 1024 * 1024),
    ...extra,
  };
}

const opts = (name = 'snap-1', retention = 3) => ({ dir, name, retention, minFreeBytes: 0 });

describe('takeSnapshot', () => {
  it('writes <name>.db (etcdctl format) and <name>.json, private, and records where each number came from', async () => {
    const d = deps();
    const outcome = await takeSnapshot(opts(), d);
    const file = readFileSync(join(dir, 'snap-1.db'));
    expect(file.equals(withTrailer(db))).toBe(true);
    expect(outcome).toEqual({
      reused: false,
      deleted: [],
      record: {
        format: 'selfhost.dev/etcd-snapshot/v1',
        name: 'snap-1',
        path: join(dir, 'snap-1.db'),
        size: db.length + 32,
        sha256: sha(file),
        dbSha256: sha(db),
        revision: 42, // from countKeys, read right before the snapshot (not status' 41)
        keys: 7,
        etcdVersion: '3.7.0',
        time: '2026-12-03T12:00:00.500Z',
        durationMs: 250,
      },
    });
    expect(parseRecord(readFileSync(join(dir, 'snap-1.json'), 'utf8'))).toEqual(outcome.record);
    expect(d.gateway.calls).toEqual(['status', 'countKeys', 'snapshot']);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, 'snap-1.db')).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'snap-1.json')).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir).sort()).toEqual(['snap-1.db', 'snap-1.json']);
  });

  it('makes an existing world-readable directory 0700 (a hostPath DirectoryOrCreate is 0755)', async () => {
    mkdirSync(dir, { mode: 0o755 });
    chmodSync(dir, 0o755);
    await takeSnapshot(opts(), deps());
    expect(statSync(dir).mode & 0o777).toBe(0o700);
  });

  const flip = (lines: string[]): string[] => {
    const doc = JSON.parse(lines[1] ?? '') as { result: { blob: string } };
    const blob = Buffer.from(doc.result.blob, 'base64');
    blob[10] = (blob[10] ?? 0) ^ 0xff;
    doc.result.blob = blob.toString('base64');
    return [lines[0] ?? '', JSON.stringify(doc), ...lines.slice(2)];
  };

  it.each<[string, string[], RegExp]>([
    ['a corrupted chunk', flip(gatewayLines(db)), /^snapshot integrity check failed: the sha256 of the 70000 database bytes is/],
    ['a stream that ends before the trailer', gatewayLines(db).slice(0, -1), /integrity check failed/],
    ['a stream that stops half-way', gatewayLines(db).slice(0, 2), /integrity check failed/],
    ['an error line from the gateway', [...gatewayLines(db).slice(0, 1), '{"error":{"message":"etcdserver: request timed out"}}'], /^etcd aborted the snapshot stream at line 2: etcdserver: request timed out$/],
    ['an empty answer', [], /^snapshot stream too short: 0 bytes/],
    ['a trailer that matches but fewer bytes than announced', [
      JSON.stringify({ result: { blob: db.subarray(0, 100).toString('base64'), remaining_bytes: '500' } }),
      JSON.stringify({ result: { blob: createHash('sha256').update(db.subarray(0, 100)).digest().toString('base64') } }),
    ], /^snapshot stream inconsistent: etcd announced 600 database bytes, received 100$/],
  ])('refuses %s and leaves no file behind', async (_what, lines, want) => {
    await expect(takeSnapshot(opts(), deps(lines))).rejects.toThrow(want);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('removes the .part when the stream itself fails (connection reset)', async () => {
    async function* broken(): AsyncGenerator<Buffer> {
      yield Buffer.from(`${gatewayLines(db)[0] ?? ''}\n`);
      throw new Error('read ECONNRESET');
    }
    const d = deps();
    d.gateway = fakeGateway({ body: broken, status: { dbSize: db.length } });
    await expect(takeSnapshot(opts(), d)).rejects.toThrow('read ECONNRESET');
    expect(readdirSync(dir)).toEqual([]);
  });

  it('refuses to start when the disk cannot hold one more snapshot, before asking etcd for it', async () => {
    const d = deps(gatewayLines(db), { freeBytes: () => Promise.resolve(70_000) });
    await expect(takeSnapshot({ ...opts(), minFreeBytes: 1000 }, d)).rejects.toThrow(
      `not enough disk space in ${dir}: 70000 bytes free, 78000 needed (snapshot estimate 77000 = etcd dbSize 70000 × 1.1, plus --min-free-bytes 1000)`,
    );
    expect(d.gateway.calls).toEqual(['status']);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('removes a .part of the same name left by a killed run', async () => {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'snap-1.db.part'), 'half');
    await takeSnapshot(opts(), deps());
    expect(readdirSync(dir).sort()).toEqual(['snap-1.db', 'snap-1.json']);
  });

  it('reports a verified snapshot of the same name again instead of taking another', async () => {
    const first = await takeSnapshot(opts(), deps());
    const again = deps();
    const second = await takeSnapshot(opts(), again);
    expect(second).toEqual({ record: first.record, deleted: [], reused: true });
    expect(again.gateway.calls).toEqual([]);
  });

  it.each<[string, (dbPath: string, jsonPath: string) => void, RegExp]>([
    ['a changed .db', (p) => writeFileSync(p, Buffer.concat([readFileSync(p).subarray(0, 100), Buffer.alloc(70_000 + 32 - 100)])), /the sha256 of snap-1.db is [0-9a-f]{64}, its record says/],
    ['a truncated .db', (p) => writeFileSync(p, 'x'), /snap-1.db has 1 bytes, its record says 70032/],
    ['a missing .db', (p) => rmSync(p), /snap-1.db is missing/],
    ['a foreign .json', (_p, j) => writeFileSync(j, '{}'), /snap-1.json is not a record of this command for it/],
    ['a missing .json', (_p, j) => rmSync(j), /its record snap-1.json cannot be read/],
  ])('refuses to reuse or overwrite %s of the same name', async (_what, damage, want) => {
    await takeSnapshot(opts(), deps());
    damage(join(dir, 'snap-1.db'), join(dir, 'snap-1.json'));
    const before = readdirSync(dir).sort();
    await expect(takeSnapshot(opts(), deps())).rejects.toThrow(want);
    expect(readdirSync(dir).sort()).toEqual(before);
  });

  it('keeps --retention of its own snapshots and deletes only the oldest of them, nothing else', async () => {
    mkdirSync(dir, { recursive: true });
    const foreign = ['manual.db', 'notes.txt', 'other.db', 'other.json', 'orphan.db'];
    for (const f of foreign) writeFileSync(join(dir, f), f === 'other.json' ? '{"name":"other"}' : 'x');
    for (const [i, name] of ['s1', 's2', 's3'].entries()) {
      let t = Date.parse(`2026-12-0${i + 1}T00:00:00Z`);
      await takeSnapshot(opts(name), deps(gatewayLines(db), { now: () => (t += 1) }));
    }
    const outcome = await takeSnapshot(opts('s4', 2), deps());
    expect(outcome.deleted).toEqual(['s2', 's1']);
    expect(readdirSync(dir).sort()).toEqual([...foreign, 's3.db', 's3.json', 's4.db', 's4.json'].sort());
  });

  it('keeps the new snapshot even when the record of an older one has a later time', async () => {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'later.db'), 'x');
    writeFileSync(join(dir, 'later.json'), JSON.stringify({ ...RECORD, name: 'later', path: join(dir, 'later.db'), time: '2099-01-01T00:00:00Z' }));
    const outcome = await takeSnapshot(opts('now', 1), deps());
    expect(outcome.deleted).toEqual(['later']);
    expect(readdirSync(dir).sort()).toEqual(['now.db', 'now.json']);
  });
});

describe('takeSnapshot when stopped', () => {
  it('removes the .part and says it was stopped (SIGTERM from a Job deadline)', async () => {
    const ctl = new AbortController();
    async function* slow(): AsyncGenerator<Buffer> {
      const lines = gatewayLines(db);
      yield Buffer.from(`${lines[0] ?? ''}\n`);
      ctl.abort(new Error('stopped by SIGTERM'));
      yield Buffer.from(`${lines.slice(1).join('\n')}\n`);
    }
    const d = deps();
    d.gateway = fakeGateway({ body: slow, status: { dbSize: db.length } });
    await expect(takeSnapshot(opts(), { ...d, signal: ctl.signal })).rejects.toThrow('stopped by SIGTERM');
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe('takeSnapshot when the record cannot be written', () => {
  it('removes the new .db too, so no snapshot without its record stays behind', async () => {
    // A directory where the record's .part goes: writing the record fails.
    mkdirSync(join(dir, 'snap-1.json.part'), { recursive: true });
    await expect(takeSnapshot(opts(), deps())).rejects.toThrow(`cannot record snapshot snap-1 in ${dir}: `);
    expect(readdirSync(dir)).toEqual(['snap-1.json.part']);
  });
});
