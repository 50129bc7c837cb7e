/** Whether the snapshot directory's filesystem can hold one more snapshot. */

/** Snapshot size estimate: etcd's dbSize plus a margin (the file is the db plus a 32-byte trailer). */
export const SIZE_FACTOR = 1.1;

export type DiskCheck = { ok: true; neededBytes: number } | { ok: false; message: string };

export function checkDiskSpace(input: { dir: string; freeBytes: number; dbSize: number; minFreeBytes: number }): DiskCheck {
  const estimate = Math.ceil(input.dbSize * SIZE_FACTOR);
  const neededBytes = estimate + input.minFreeBytes;
  if (input.freeBytes >= neededBytes) return { ok: true, neededBytes };
  return {
    ok: false,
    message:
      `not enough disk space in ${input.dir}: ${input.freeBytes} bytes free, ${neededBytes} needed ` +
      `(snapshot estimate ${estimate} = etcd dbSize ${input.dbSize} × ${SIZE_FACTOR}, plus --min-free-bytes ${input.minFreeBytes}); ` +
      'free space, lower --retention, or lower --min-free-bytes',
  };
}
