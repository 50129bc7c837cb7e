import { describe, expect, it } from 'vitest';
import { checkDiskSpace } from './disk.js';

describe('checkDiskSpace', () => {
  it.each([
    ['plenty of room', 10_000, 1000, 0, { ok: true, neededBytes: 1100 }],
    ['exactly enough', 1100 + 500, 1000, 500, { ok: true, neededBytes: 1600 }],
    ['an empty etcd still needs the margin', 100, 0, 100, { ok: true, neededBytes: 100 }],
  ])('%s', (_what, freeBytes, dbSize, minFreeBytes, want) => {
    expect(checkDiskSpace({ dir: '/snap', freeBytes, dbSize, minFreeBytes })).toEqual(want);
  });

  it('refuses one byte short, naming the dir, the free bytes and what is needed', () => {
    expect(checkDiskSpace({ dir: '/var/lib/selfhost/etcd-snapshots', freeBytes: 1599, dbSize: 1000, minFreeBytes: 500 })).toEqual({
      ok: false,
      message:
        'not enough disk space in /var/lib/selfhost/etcd-snapshots: 1599 bytes free, 1600 needed ' +
        '(snapshot estimate 1100 = etcd dbSize 1000 × 1.1, plus --min-free-bytes 500); free space, lower --retention, or lower --min-free-bytes',
    });
  });

  it('rounds the estimate up', () => {
    expect(checkDiskSpace({ dir: '/d', freeBytes: 12, dbSize: 10, minFreeBytes: 1 })).toEqual({ ok: true, neededBytes: 12 });
    expect(checkDiskSpace({ dir: '/d', freeBytes: 12, dbSize: 11, minFreeBytes: 0 })).toEqual({ ok: false, message: expect.stringContaining('13 needed') });
  });
});
