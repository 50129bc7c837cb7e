/**
 * What the agent sees on disk in one pass: the manifest directory, the backup directory, and
 * temp files a crashed write left behind. Plans and reports are computed from this snapshot.
 */
import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import { isTempName, type DiskOps } from './disk.js';

export interface FileInfo {
  /** sha256 (hex) of the file's bytes. */
  sha256: string;
  /** The bytes as UTF-8 text (manifests are YAML, which is UTF-8 here). */
  content: string;
}

export interface DiskSnapshot {
  /** Normalized, without a trailing slash. */
  manifestDir: string;
  backupDir: string;
  /** Regular, non-hidden files of the manifest directory, by base name. */
  manifests: ReadonlyMap<string, FileInfo>;
  /** Regular, non-hidden files of the backup directory, by base name. */
  backups: ReadonlyMap<string, FileInfo>;
  /** Full paths of our leftover temp files (`.selfhost-*.tmp`) in either directory, sorted. */
  temps: readonly string[];
}

export function computeSha256(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** `/a/b/` → `/a/b`; `/a/./b` → `/a/b`. The root stays `/`. */
export function computeDirPath(dir: string): string {
  const normalized = posix.normalize(dir);
  return normalized.length > 1 ? normalized.replace(/\/+$/, '') : normalized;
}

export function computeFileInfo(data: Uint8Array): FileInfo {
  return { sha256: computeSha256(data), content: Buffer.from(data).toString('utf8') };
}

async function scanDir(disk: DiskOps, dir: string): Promise<{ files: Map<string, FileInfo>; temps: string[] }> {
  const files = new Map<string, FileInfo>();
  const temps: string[] = [];
  for (const name of await disk.list(dir)) {
    const path = posix.join(dir, name);
    if (isTempName(name)) temps.push(path);
    if (name.startsWith('.')) continue; // the kubelet ignores hidden files, and so do we
    const data = await disk.read(path);
    if (data !== undefined) files.set(name, computeFileInfo(data)); // undefined: removed meanwhile
  }
  return { files, temps };
}

export async function scanDisk(disk: DiskOps, manifestDir: string, backupDir: string): Promise<DiskSnapshot> {
  const mdir = computeDirPath(manifestDir);
  const bdir = computeDirPath(backupDir);
  const manifests = await scanDir(disk, mdir);
  const backups = await scanDir(disk, bdir);
  return {
    manifestDir: mdir,
    backupDir: bdir,
    manifests: manifests.files,
    backups: backups.files,
    temps: [...manifests.temps, ...backups.temps].sort(),
  };
}
