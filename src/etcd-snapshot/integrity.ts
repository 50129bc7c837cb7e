/**
 * The integrity check of an etcd snapshot stream. etcd's Maintenance/Snapshot sends the bbolt
 * database followed by 32 bytes: the sha256 of the database bytes it sent (etcd
 * server/etcdserver/api/v3rpc/maintenance.go). `etcdutl snapshot restore` checks the same trailer,
 * so the file keeps it: it is byte for byte what `etcdctl snapshot save` writes.
 *
 * The stream is hashed as it arrives (a snapshot can be gigabytes): the last 32 bytes seen so far
 * are held back, because until the stream ends they might be the trailer.
 */
import { createHash, type Hash } from 'node:crypto';

export const TRAILER_BYTES = 32;

export type IntegrityResult =
  | {
      ok: true;
      /** Bytes of the database, without the trailer. */
      dbBytes: number;
      /** The trailer: sha256 of the database as etcd computed it (hex). */
      dbSha256: string;
      /** sha256 of everything received (database + trailer), what `sha256sum <file>` prints. */
      fileSha256: string;
    }
  | { ok: false; message: string };

export class SnapshotIntegrity {
  private readonly db: Hash = createHash('sha256');
  private readonly file: Hash = createHash('sha256');
  private held: Buffer = Buffer.alloc(0);
  private dbBytes = 0;
  private finished = false;

  update(chunk: Buffer): void {
    if (this.finished) throw new Error('SnapshotIntegrity: update after finish');
    this.file.update(chunk);
    const all = this.held.length === 0 ? chunk : Buffer.concat([this.held, chunk]);
    const cut = Math.max(0, all.length - TRAILER_BYTES);
    if (cut > 0) {
      this.db.update(all.subarray(0, cut));
      this.dbBytes += cut;
    }
    // A copy, so the caller may reuse its buffer.
    this.held = Buffer.from(all.subarray(cut));
  }

  finish(): IntegrityResult {
    if (this.finished) throw new Error('SnapshotIntegrity: finish called twice');
    this.finished = true;
    const fileSha256 = this.file.digest('hex');
    if (this.held.length < TRAILER_BYTES || this.dbBytes === 0) {
      return {
        ok: false,
        message: `snapshot stream too short: ${this.dbBytes + this.held.length} bytes, need a database and its ${TRAILER_BYTES}-byte sha256 trailer`,
      };
    }
    const expected = this.held.toString('hex');
    const actual = this.db.digest('hex');
    if (expected !== actual) {
      return {
        ok: false,
        message: `snapshot integrity check failed: the sha256 of the ${this.dbBytes} database bytes is ${actual}, the trailer etcd sent says ${expected}`,
      };
    }
    return { ok: true, dbBytes: this.dbBytes, dbSha256: actual, fileSha256 };
  }
}
