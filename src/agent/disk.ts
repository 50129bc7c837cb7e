/**
 * The agent's only way to touch the node's disk: list, read, crash-safe write, remove.
 *
 * Crash safety (the agent may be SIGKILLed at any instant, and the node may lose power): a write
 * goes to a temp file in the target's directory, is fsynced, renamed over the target, and the
 * directory is fsynced — so the target is always either the old or the new content, never half a
 * file, and once writeAtomic returns the change survives a crash. Temp files are hidden
 * (`.selfhost-*.tmp`) because the kubelet ignores hidden files in the manifest directory but runs
 * every other file, even one that is half written.
 */
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { posix } from 'node:path';

export const TEMP_PREFIX = '.selfhost-';
export const TEMP_SUFFIX = '.tmp';

export interface DiskOps {
  /**
   * Names (not paths) of the regular files in dir, symlinks to regular files included, hidden
   * files included; [] when dir does not exist.
   */
  list(dir: string): Promise<string[]>;
  /** The file's bytes; undefined when it does not exist. */
  read(path: string): Promise<Uint8Array | undefined>;
  /**
   * Replaces (or creates) path atomically and durably; creates missing directories. Mode 0600
   * unless given (the checkpoint supervisor binary is 0755).
   */
  writeAtomic(path: string, data: Uint8Array | string, mode?: number): Promise<void>;
  /** Removes path durably; nothing to do when it is already gone. */
  remove(path: string): Promise<void>;
}

/** A temp file name of ours: only these are cleaned up, other hidden files are left alone. */
export function isTempName(name: string): boolean {
  return name.startsWith(TEMP_PREFIX) && name.endsWith(TEMP_SUFFIX) && name.length > TEMP_PREFIX.length + TEMP_SUFFIX.length;
}

/** The temp name for a write of `target` (a base name); random so two writers never share one. */
export function computeTempName(target: string, random: string): string {
  return `${TEMP_PREFIX}${target}.${random}${TEMP_SUFFIX}`;
}

function errorCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const code = (err as Record<string, unknown>)['code'];
  return typeof code === 'string' ? code : undefined;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** fsync of a directory: makes a rename, unlink or create in it durable. */
async function syncDir(dir: string): Promise<void> {
  const fh = await fsp.open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** mkdir -p that also makes the new directories durable (each created entry's parent is synced). */
async function ensureDir(dir: string): Promise<void> {
  const first = await fsp.mkdir(dir, { recursive: true });
  if (first === undefined) return;
  const parents: string[] = [];
  for (let d = dir; ; d = posix.dirname(d)) {
    parents.push(posix.dirname(d));
    if (d === first || d === posix.dirname(d)) break;
  }
  for (const p of parents.reverse()) await syncDir(p);
}

/** The real node:fs implementation. */
export function nodeDisk(): DiskOps {
  return {
    async list(dir) {
      let entries;
      try {
        entries = await fsp.readdir(dir, { withFileTypes: true });
      } catch (err) {
        if (errorCode(err) === 'ENOENT') return [];
        throw new Error(`listing ${dir}: ${messageOf(err)}`, { cause: err });
      }
      const names: string[] = [];
      for (const e of entries) {
        if (e.isFile()) names.push(e.name);
        else if (e.isSymbolicLink()) {
          // The kubelet follows symlinks, so a link to a manifest is a manifest.
          const target = await fsp.stat(posix.join(dir, e.name)).catch(() => undefined);
          if (target?.isFile() === true) names.push(e.name);
        }
      }
      return names.sort();
    },

    async read(path) {
      try {
        return await fsp.readFile(path);
      } catch (err) {
        if (errorCode(err) === 'ENOENT') return undefined;
        throw new Error(`reading ${path}: ${messageOf(err)}`, { cause: err });
      }
    },

    async writeAtomic(path, data, mode = 0o600) {
      const dir = posix.dirname(path);
      const tmp = posix.join(dir, computeTempName(posix.basename(path), randomBytes(6).toString('hex')));
      try {
        await ensureDir(dir);
        // 0600 like kubeadm's manifests: backups are copies of them and need no wider access.
        const fh = await fsp.open(tmp, 'wx', mode);
        try {
          await fh.writeFile(data);
          await fh.chmod(mode); // the umask may have narrowed it
          await fh.sync();
        } finally {
          await fh.close();
        }
        await fsp.rename(tmp, path);
        await syncDir(dir);
      } catch (err) {
        await fsp.rm(tmp, { force: true }).catch(() => undefined);
        throw new Error(`writing ${path}: ${messageOf(err)}`, { cause: err });
      }
    },

    async remove(path) {
      try {
        await fsp.unlink(path);
      } catch (err) {
        if (errorCode(err) === 'ENOENT') return;
        throw new Error(`removing ${path}: ${messageOf(err)}`, { cause: err });
      }
      try {
        await syncDir(posix.dirname(path));
      } catch (err) {
        throw new Error(`removing ${path}: syncing its directory: ${messageOf(err)}`, { cause: err });
      }
    },
  };
}
