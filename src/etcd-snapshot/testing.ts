/** Test helpers: snapshot streams shaped like etcd's gateway sends them, and a fake gateway. */
import { createHash } from 'node:crypto';
import type { EtcdGateway, EtcdStatus, KeyCount } from './gateway.js';
import { RECORD_FORMAT, type SnapshotRecord } from './record.js';

/** A database-like buffer (deterministic content). */
export function fakeDb(bytes: number, seed = 1): Buffer {
  const buf = Buffer.alloc(bytes);
  let x = seed;
  for (let i = 0; i < bytes; i++) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    buf[i] = x & 0xff;
  }
  return buf;
}

/** db followed by its sha256: the bytes of an etcd snapshot stream and of `etcdctl snapshot save`. */
export function withTrailer(db: Buffer): Buffer {
  return Buffer.concat([db, createHash('sha256').update(db).digest()]);
}

/** The gateway's newline-delimited JSON for db: chunks of `chunk` bytes, then the trailer line. */
export function gatewayLines(db: Buffer, { chunk = 32 * 1024, trailer = createHash('sha256').update(db).digest() } = {}): string[] {
  const lines: string[] = [];
  for (let off = 0; off < db.length; off += chunk) {
    const blob = db.subarray(off, off + chunk);
    const remaining = db.length - off - blob.length;
    const result: Record<string, string> = { blob: blob.toString('base64'), version: '3.7.0' };
    if (remaining > 0) result.remaining_bytes = String(remaining);
    lines.push(JSON.stringify({ result }));
  }
  lines.push(JSON.stringify({ result: { blob: trailer.toString('base64'), version: '3.7.0' } }));
  return lines;
}

/** A body that yields `text` in pieces of `piece` bytes (so lines span reads). */
export async function* bodyOf(text: string, piece = 1000): AsyncGenerator<Buffer> {
  const buf = Buffer.from(text);
  for (let off = 0; off < buf.length; off += piece) yield buf.subarray(off, off + piece);
}

export function fakeGateway(opts: { body: () => AsyncIterable<Buffer>; status?: Partial<EtcdStatus>; count?: KeyCount }): EtcdGateway & {
  calls: string[];
} {
  const calls: string[] = [];
  return {
    calls,
    status: () => {
      calls.push('status');
      return Promise.resolve({ dbSize: 1000, version: '3.7.0', revision: 41, ...opts.status });
    },
    countKeys: () => {
      calls.push('countKeys');
      return Promise.resolve(opts.count ?? { keys: 7, revision: 42 });
    },
    snapshot: () => {
      calls.push('snapshot');
      return Promise.resolve(opts.body());
    },
  };
}

/** A valid record, for tests that need one. */
export const RECORD: SnapshotRecord = {
  format: RECORD_FORMAT,
  name: 'etcd-1',
  path: '/var/lib/selfhost/etcd-snapshots/etcd-1.db',
  size: 20512,
  sha256: 'a'.repeat(64),
  dbSha256: 'b'.repeat(64),
  revision: 82,
  keys: 81,
  etcdVersion: '3.7.0',
  time: '2026-12-03T12:00:00.000Z',
  durationMs: 250,
};
