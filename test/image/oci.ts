/**
 * Reading OCI image archives (what `make image` and `make image-dockerfile` write) without an
 * engine: the config, and the root filesystem with every layer applied in order (whiteouts
 * included), so two images built different ways can be compared file by file.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, readlinkSync, lstatSync, rmSync } from 'node:fs';
import { join, posix } from 'node:path';

/** The parts of an OCI image config's `config` object the comparison reads. */
export interface ImageConfig {
  User?: string;
  Env?: string[];
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  WorkingDir?: string;
}

interface Descriptor {
  mediaType: string;
  digest: string;
}

/** One entry of a tree listing: type (f file, d dir, l symlink, o other), mode bits, and content. */
export interface TreeEntry {
  type: 'f' | 'd' | 'l' | 'o';
  mode: number;
  /** sha256 of a file, the target of a symlink, '' otherwise. */
  content: string;
}

/** What a layer's whiteout entry removes: a whole path, or (opaque) a directory's former contents. */
export type Whiteout = { kind: 'path'; path: string } | { kind: 'opaque'; dir: string };

/**
 * The whiteouts among a layer's entries (OCI image spec, "Whiteouts"): `.wh.NAME` deletes NAME from
 * the layers below, `.wh..wh..opq` empties its directory; other entries are not whiteouts.
 */
export function computeWhiteouts(entries: readonly string[]): Whiteout[] {
  const out: Whiteout[] = [];
  for (const raw of entries) {
    const entry = posix.normalize(raw.replace(/^\.\//, '')).replace(/\/$/, '');
    const base = posix.basename(entry);
    const dir = posix.dirname(entry);
    if (base === '.wh..wh..opq') out.push({ kind: 'opaque', dir: dir === '.' ? '' : dir });
    else if (base.startsWith('.wh.')) out.push({ kind: 'path', path: posix.join(dir, base.slice('.wh.'.length)) });
  }
  return out;
}

/** Whether an ELF file is statically linked: 64-bit little-endian with no PT_INTERP program header. */
export function isStaticElf(bytes: Buffer): boolean {
  if (bytes.length < 64 || bytes.readUInt32BE(0) !== 0x7f454c46) return false;
  if (bytes[4] !== 2 || bytes[5] !== 1) return false; // ELFCLASS64, little-endian
  const phoff = Number(bytes.readBigUInt64LE(0x20));
  const phentsize = bytes.readUInt16LE(0x36);
  const phnum = bytes.readUInt16LE(0x38);
  if (phnum === 0 || phoff + phentsize * phnum > bytes.length) return false;
  for (let i = 0; i < phnum; i++) {
    if (bytes.readUInt32LE(phoff + i * phentsize) === 3) return false; // PT_INTERP: needs a loader
  }
  return true;
}

/** Differences between two tree listings, one line each, sorted by path ('' when equal). */
export function computeTreeDiff(a: ReadonlyMap<string, TreeEntry>, b: ReadonlyMap<string, TreeEntry>): string[] {
  const out: string[] = [];
  const paths = [...new Set([...a.keys(), ...b.keys()])].sort();
  for (const p of paths) {
    const x = a.get(p);
    const y = b.get(p);
    if (x === undefined) out.push(`${p}: only in the second`);
    else if (y === undefined) out.push(`${p}: only in the first`);
    else if (x.type !== y.type) out.push(`${p}: type ${x.type} vs ${y.type}`);
    else if (x.mode !== y.mode) out.push(`${p}: mode ${x.mode.toString(8)} vs ${y.mode.toString(8)}`);
    else if (x.content !== y.content) out.push(`${p}: ${x.type === 'l' ? `link ${x.content} vs ${y.content}` : 'content differs'}`);
  }
  return out;
}

/** The tree under ROOT/SUB, keyed by path relative to ROOT. */
export function listTree(root: string, sub: string): Map<string, TreeEntry> {
  const out = new Map<string, TreeEntry>();
  const walk = (rel: string): void => {
    const abs = join(root, rel);
    const st = lstatSync(abs);
    const mode = st.mode & 0o7777;
    if (st.isSymbolicLink()) out.set(rel, { type: 'l', mode, content: readlinkSync(abs) });
    else if (st.isFile()) out.set(rel, { type: 'f', mode, content: createHash('sha256').update(readFileSync(abs)).digest('hex') });
    else if (st.isDirectory()) {
      out.set(rel, { type: 'd', mode, content: '' });
      for (const name of readdirSync(abs).sort()) walk(posix.join(rel, name));
    } else out.set(rel, { type: 'o', mode, content: '' });
  };
  walk(sub);
  return out;
}

function readBlob(dir: string, digest: string): Buffer {
  const [alg, hex] = digest.split(':');
  if (alg !== 'sha256' || hex === undefined) throw new Error(`unsupported digest ${digest} in ${dir}`);
  return readFileSync(join(dir, 'blobs', 'sha256', hex));
}

/**
 * Unpack the OCI archive ARCHIVE (one image) into DEST/oci and DEST/rootfs; returns its config.
 * Layers are applied in order: each layer's whiteouts first, then its files (GNU tar, owners kept).
 */
export function unpackOciArchive(archive: string, dest: string): ImageConfig {
  const oci = join(dest, 'oci');
  const rootfs = join(dest, 'rootfs');
  mkdirSync(oci, { recursive: true });
  mkdirSync(rootfs, { recursive: true });
  execFileSync('tar', ['-xf', archive, '-C', oci]);
  const index = JSON.parse(readFileSync(join(oci, 'index.json'), 'utf8')) as { manifests?: Descriptor[] };
  const manifests = index.manifests ?? [];
  const first = manifests[0];
  if (manifests.length !== 1 || first === undefined) throw new Error(`${archive}: index.json has ${manifests.length} manifests, want 1`);
  const manifest = JSON.parse(readBlob(oci, first.digest).toString('utf8')) as { config: Descriptor; layers: Descriptor[] };
  for (const layer of manifest.layers) {
    const [, hex] = layer.digest.split(':');
    const file = join(oci, 'blobs', 'sha256', hex ?? '');
    const gz = layer.mediaType.endsWith('+gzip') ? ['-z'] : [];
    if (!/\.tar(\+gzip)?$/.test(layer.mediaType)) throw new Error(`${archive}: layer ${layer.digest} has media type ${layer.mediaType}, want a tar (+gzip)`);
    const entries = execFileSync('tar', [...gz, '-tf', file], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 }).split('\n').filter(Boolean);
    for (const w of computeWhiteouts(entries)) {
      if (w.kind === 'path') rmSync(join(rootfs, w.path), { recursive: true, force: true });
      else for (const name of readdirSync(join(rootfs, w.dir))) rmSync(join(rootfs, w.dir, name), { recursive: true, force: true });
    }
    execFileSync('tar', [...gz, '-xf', file, '-C', rootfs, '--numeric-owner', '--exclude=.wh.*']);
  }
  const config = JSON.parse(readBlob(oci, manifest.config.digest).toString('utf8')) as { config?: ImageConfig };
  return config.config ?? {};
}
