import { mkdtempSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { computeTempName, isTempName, nodeDisk } from './disk.js';

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'selfhost-disk-'));
});
afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

describe('temp names', () => {
  it.each([
    ['.selfhost-etcd.yaml.0a1b2c.tmp', true],
    [computeTempName('kube-apiserver.yaml', 'ff00'), true],
    ['.selfhost-.tmp', false],
    ['selfhost-etcd.yaml.tmp', false],
    ['.etcd.yaml.swp', false],
    ['etcd.yaml', false],
  ])('%s is ours: %s', (name, ours) => {
    expect(isTempName(name)).toBe(ours);
  });

  it('are hidden, so the kubelet never runs a half-written manifest', () => {
    expect(computeTempName('etcd.yaml', 'x').startsWith('.')).toBe(true);
  });
});

describe('nodeDisk', () => {
  const disk = nodeDisk();

  it('writes atomically, creating directories, leaving no temp file, mode 0600', async () => {
    const path = join(root, 'a', 'b', 'etcd.yaml');
    await disk.writeAtomic(path, 'one');
    await disk.writeAtomic(path, Buffer.from('two'));
    expect(readFileSync(path, 'utf8')).toBe('two');
    expect(readdirSync(join(root, 'a', 'b'))).toEqual(['etcd.yaml']);
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it('reads bytes, undefined for a missing file', async () => {
    writeFileSync(join(root, 'f'), 'x');
    expect(Buffer.from((await disk.read(join(root, 'f'))) ?? []).toString()).toBe('x');
    expect(await disk.read(join(root, 'missing'))).toBeUndefined();
  });

  it('lists regular files and links to them, hidden ones too, not directories; [] for a missing dir', async () => {
    writeFileSync(join(root, 'etcd.yaml'), 'x');
    writeFileSync(join(root, '.hidden'), 'x');
    mkdirSync(join(root, 'subdir'));
    symlinkSync(join(root, 'etcd.yaml'), join(root, 'link.yaml'));
    symlinkSync(join(root, 'nowhere'), join(root, 'dangling.yaml'));
    symlinkSync(join(root, 'subdir'), join(root, 'dirlink'));
    expect(await disk.list(root)).toEqual(['.hidden', 'etcd.yaml', 'link.yaml']);
    expect(await disk.list(join(root, 'missing'))).toEqual([]);
  });

  it('removes idempotently', async () => {
    writeFileSync(join(root, 'f'), 'x');
    await disk.remove(join(root, 'f'));
    await disk.remove(join(root, 'f'));
    expect(readdirSync(root)).toEqual([]);
  });

  it('reports failures with the path, and cleans its temp file', async () => {
    mkdirSync(join(root, 'etcd.yaml'));
    writeFileSync(join(root, 'etcd.yaml', 'inside'), 'x');
    await expect(disk.writeAtomic(join(root, 'etcd.yaml'), 'x')).rejects.toThrow(/writing .*etcd\.yaml/);
    expect(readdirSync(root)).toEqual(['etcd.yaml']);
  });
});
