import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SnapshotIntegrity, TRAILER_BYTES } from './integrity.js';
import { fakeDb, withTrailer } from './testing.js';

function check(stream: Buffer, cuts: number[] = []) {
  const integrity = new SnapshotIntegrity();
  let off = 0;
  for (const cut of [...cuts, stream.length]) {
    integrity.update(stream.subarray(off, Math.max(off, cut)));
    off = Math.max(off, cut);
  }
  return integrity.finish();
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

describe('SnapshotIntegrity', () => {
  const db = fakeDb(5000);
  const good = withTrailer(db);

  it.each([
    ['one piece', []],
    ['the trailer split across pieces', [good.length - 10]],
    ['the trailer alone in the last piece', [db.length]],
    ['byte by byte near the end', [good.length - 40, good.length - 33, good.length - 31, good.length - 1]],
  ])('accepts a stream whose trailer is the sha256 of the database: %s', (_what, cuts) => {
    expect(check(good, cuts)).toEqual({ ok: true, dbBytes: db.length, dbSha256: sha(db), fileSha256: sha(good) });
  });

  it.each([
    ['a flipped database byte', (b: Buffer) => { b[100] = (b[100] ?? 0) ^ 1; return b; }],
    ['a flipped trailer byte', (b: Buffer) => { b[b.length - 1] = (b[b.length - 1] ?? 0) ^ 1; return b; }],
    ['a truncated stream (no trailer)', (b: Buffer) => b.subarray(0, db.length)],
    ['a stream cut inside the trailer', (b: Buffer) => b.subarray(0, b.length - 5)],
    ['extra bytes after the trailer', (b: Buffer) => Buffer.concat([b, Buffer.from('x')])],
  ])('refuses %s', (_what, corrupt) => {
    const result = check(corrupt(Buffer.from(good)), [1000, 4990]);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.message).toMatch(/^snapshot integrity check failed: the sha256 of the \d+ database bytes is [0-9a-f]{64}, the trailer etcd sent says [0-9a-f]{64}$/);
  });

  it.each([
    ['an empty stream', Buffer.alloc(0)],
    ['a trailer without a database', Buffer.alloc(TRAILER_BYTES)],
    ['fewer bytes than a trailer', Buffer.alloc(10)],
  ])('refuses %s as too short', (_what, stream) => {
    const result = check(stream);
    expect(result).toEqual({ ok: false, message: expect.stringMatching(/^snapshot stream too short: \d+ bytes/) });
  });

  it('gives the same answer for every way of cutting the stream into pieces', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 0, max: good.length }), { maxLength: 12 }), (cuts) => {
        const r = check(good, [...cuts].sort((a, b) => a - b));
        return r.ok && r.dbBytes === db.length;
      }),
    );
  });

  it('does not keep a reference to the caller buffer (it may be reused)', () => {
    const integrity = new SnapshotIntegrity();
    const piece = Buffer.from(good);
    integrity.update(piece);
    piece.fill(0);
    expect(integrity.finish().ok).toBe(true);
  });
});
