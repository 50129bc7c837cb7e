import { describe, expect, it } from 'vitest';
import { MemoryDisk } from './memory-disk.js';
import { computeDirPath, computeSha256, scanDisk } from './snapshot.js';

describe('scanDisk', () => {
  it('sees manifests and backups by name, skips hidden files, finds our temps in both directories', async () => {
    const disk = new MemoryDisk({
      '/m/etcd.yaml': 'a',
      '/m/.etcd.yaml.swp': 'editor',
      '/m/.selfhost-etcd.yaml.1.tmp': 'half',
      '/b/etcd.yaml': 'orig',
      '/b/.selfhost-etcd.yaml.2.tmp': 'half',
      '/elsewhere/x.yaml': 'x',
    });
    const snap = await scanDisk(disk, '/m/', '/b');
    expect(snap.manifestDir).toBe('/m');
    expect([...snap.manifests.entries()]).toEqual([['etcd.yaml', { sha256: computeSha256('a'), content: 'a' }]]);
    expect([...snap.backups.keys()]).toEqual(['etcd.yaml']);
    expect(snap.temps).toEqual(['/b/.selfhost-etcd.yaml.2.tmp', '/m/.selfhost-etcd.yaml.1.tmp']);
  });
});

describe('computeDirPath', () => {
  it.each([
    ['/etc/kubernetes/manifests/', '/etc/kubernetes/manifests'],
    ['/etc//kubernetes/./manifests', '/etc/kubernetes/manifests'],
    ['/', '/'],
  ])('%s → %s', (input, want) => {
    expect(computeDirPath(input)).toBe(want);
  });
});

describe('computeSha256', () => {
  it('is the hex sha256 of the UTF-8 bytes', () => {
    expect(computeSha256('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(computeSha256(Buffer.from('é'))).toBe(computeSha256('é'));
  });
});
