/**
 * One verified etcd snapshot into a directory: disk check, snapshot through etcd's API (never a
 * copy of the data dir), integrity check of the stream, fsync, rename, record, retention.
 * A failure at any step leaves no `.part` file behind; the previous snapshots stay untouched
 * (retention runs only after the new snapshot is complete, so the disk needs room for one more).
 */
import { createHash } from 'node:crypto';
import { chmod, mkdir, open, readdir, readFile, rename, rm, stat, statfs, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { checkDiskSpace } from './disk.js';
import type { EtcdGateway } from './gateway.js';
import { decodeSnapshotStream } from './gateway-stream.js';
import { SnapshotIntegrity } from './integrity.js';
import { parseRecord, RECORD_FORMAT, type SnapshotRecord } from './record.js';
import { findOwnSnapshots, selectForDeletion } from './retention.js';

export interface TakeOptions {
  dir: string;
  name: string;
  retention: number;
  minFreeBytes: number;
}

export interface TakeDeps {
  gateway: EtcdGateway;
  /** Milliseconds since the epoch. */
  now: () => number;
  /** Bytes available to this process on the filesystem holding dir. */
  freeBytes: (dir: string) => Promise<number>;
  signal?: AbortSignal;
}

export interface TakeOutcome {
  record: SnapshotRecord;
  deleted: string[];
  /** The snapshot of this name existed already and matched its record (a re-run of the same Job). */
  reused: boolean;
}

const DIR_MODE = 0o700;
const FILE_MODE = 0o600;

export async function statfsFreeBytes(dir: string): Promise<number> {
  const s = await statfs(dir);
  return s.bavail * s.bsize;
}

/** Snapshots hold every Secret of the cluster: the directory is private to root. */
async function ensurePrivateDir(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true, mode: DIR_MODE });
    // A hostPath DirectoryOrCreate or an older run may have made it 0755; the directory is ours by contract.
    if (((await stat(dir)).mode & 0o777) !== DIR_MODE) await chmod(dir, DIR_MODE);
  } catch (err) {
    throw new Error(`cannot prepare snapshot directory ${dir} (mode 0700): ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Streams the snapshot into an open file; returns what the integrity check found. */
async function streamInto(file: FileHandle, deps: TakeDeps): Promise<{ version: string; size: number; sha256: string; dbSha256: string }> {
  const integrity = new SnapshotIntegrity();
  let declared: number | undefined;
  let received = 0;
  let version = '';
  for await (const chunk of decodeSnapshotStream(await deps.gateway.snapshot(deps.signal))) {
    deps.signal?.throwIfAborted();
    // The first chunk announces the database size: what it carries plus what remains.
    declared ??= chunk.blob.length + chunk.remainingBytes;
    if (chunk.version !== undefined) version = chunk.version;
    if (chunk.blob.length === 0) continue;
    integrity.update(chunk.blob);
    received += chunk.blob.length;
    await file.write(chunk.blob);
  }
  const check = integrity.finish();
  if (!check.ok) throw new Error(check.message);
  if (declared !== undefined && declared !== check.dbBytes) {
    throw new Error(`snapshot stream inconsistent: etcd announced ${declared} database bytes, received ${check.dbBytes}`);
  }
  return { version, size: received, sha256: check.fileSha256, dbSha256: check.dbSha256 };
}

async function writePrivateFile(path: string, text: string): Promise<void> {
  const part = `${path}.part`;
  await rm(part, { force: true });
  try {
    const f = await open(part, 'w', FILE_MODE);
    try {
      await f.writeFile(text);
      await f.sync();
    } finally {
      await f.close();
    }
    await rename(part, path);
  } catch (err) {
    await rm(part, { force: true });
    throw err;
  }
}

async function syncDir(dir: string): Promise<void> {
  const d = await open(dir, 'r');
  try {
    await d.sync();
  } finally {
    await d.close();
  }
}

export async function takeSnapshot(opts: TakeOptions, deps: TakeDeps): Promise<TakeOutcome> {
  const started = deps.now();
  const dbPath = join(opts.dir, `${opts.name}.db`);
  const recordPath = join(opts.dir, `${opts.name}.json`);
  const partPath = `${dbPath}.part`;

  await ensurePrivateDir(opts.dir);
  if ((await exists(dbPath)) || (await exists(recordPath))) {
    const record = await verifyExisting(opts.dir, opts.name);
    const deleted = await applyRetention(opts.dir, opts.retention, opts.name);
    return { record, deleted, reused: true };
  }
  // Left by a run of the same name that was killed: it is ours and incomplete.
  await rm(partPath, { force: true });

  const status = await deps.gateway.status(deps.signal);
  const freeBytes = await deps.freeBytes(opts.dir);
  const disk = checkDiskSpace({ dir: opts.dir, freeBytes, dbSize: status.dbSize, minFreeBytes: opts.minFreeBytes });
  if (!disk.ok) throw new Error(disk.message);
  const count = await deps.gateway.countKeys(deps.signal);

  let streamed;
  const file = await open(partPath, 'wx', FILE_MODE);
  try {
    try {
      streamed = await streamInto(file, deps);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(partPath, dbPath);
  } catch (err) {
    await rm(partPath, { force: true });
    throw err;
  }

  const finished = deps.now();
  const record: SnapshotRecord = {
    format: RECORD_FORMAT,
    name: opts.name,
    path: dbPath,
    size: streamed.size,
    sha256: streamed.sha256,
    dbSha256: streamed.dbSha256,
    revision: count.revision,
    keys: count.keys,
    etcdVersion: status.version || streamed.version,
    time: new Date(finished).toISOString(),
    durationMs: finished - started,
  };
  try {
    await writePrivateFile(recordPath, `${JSON.stringify(record, null, 2)}\n`);
    await syncDir(opts.dir);
  } catch (err) {
    // A .db without its record would be neither reused nor ever deleted by retention.
    await rm(dbPath, { force: true });
    await rm(recordPath, { force: true });
    throw new Error(`cannot record snapshot ${opts.name} in ${opts.dir}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }

  const deleted = await applyRetention(opts.dir, opts.retention, opts.name);
  return { record, deleted, reused: false };
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  const f = await open(path, 'r');
  try {
    for await (const piece of f.createReadStream()) hash.update(piece as Buffer);
  } finally {
    await f.close();
  }
  return hash.digest('hex');
}

/**
 * A snapshot of the same name is there already (the same Job created again, e.g. after the operator
 * restarted): it counts only when its record is ours and the file still has the recorded size and
 * sha256; anything else is refused rather than overwritten.
 */
async function verifyExisting(dir: string, name: string): Promise<SnapshotRecord> {
  const dbPath = join(dir, `${name}.db`);
  const refuse = (why: string, cause?: unknown): Error =>
    new Error(`snapshot ${name} already exists in ${dir} but ${why}: choose another --name, or remove ${name}.db and ${name}.json`, { cause });
  let record: SnapshotRecord | undefined;
  try {
    record = parseRecord(await readFile(join(dir, `${name}.json`), 'utf8'));
  } catch (err) {
    throw refuse(`its record ${name}.json cannot be read`, err);
  }
  if (record === undefined || record.name !== name || record.path !== dbPath) throw refuse(`${name}.json is not a record of this command for it`);
  let size: number;
  try {
    size = (await stat(dbPath)).size;
  } catch (err) {
    throw refuse(`${name}.db is missing`, err);
  }
  if (size !== record.size) throw refuse(`${name}.db has ${size} bytes, its record says ${record.size}`);
  const sha = await sha256File(dbPath);
  if (sha !== record.sha256) throw refuse(`the sha256 of ${name}.db is ${sha}, its record says ${record.sha256}`);
  return record;
}

/** Deletes this command's snapshots beyond the newest `retention` (see retention.ts). */
export async function applyRetention(dir: string, retention: number, keep: string): Promise<string[]> {
  const files = await readdir(dir);
  const texts = new Map<string, string>();
  for (const f of files) {
    if (!f.endsWith('.json')) continue;
    try {
      texts.set(f, await readFile(join(dir, f), 'utf8'));
    } catch {
      // Unreadable: not counted as ours, so never deleted.
    }
  }
  const doomed = selectForDeletion(findOwnSnapshots(files, (f) => texts.get(f)), retention, keep);
  for (const name of doomed) {
    // The .db first: a record without its .db is no longer a snapshot, and a rerun ignores it.
    await rm(join(dir, `${name}.db`), { force: true });
    await rm(join(dir, `${name}.json`), { force: true });
  }
  return doomed;
}
