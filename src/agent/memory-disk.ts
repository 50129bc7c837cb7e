/**
 * An in-memory DiskOps for tests of the planner's executor and the agent loop: deterministic,
 * synchronous underneath (so FakeClock-driven loops run without real I/O), with an operation log
 * and injectable failures. The real implementation is tested on tmp dirs in disk.test.ts.
 */
import { posix } from 'node:path';
import type { DiskOps } from './disk.js';

export type DiskOp = 'list' | 'read' | 'writeAtomic' | 'remove';

export class MemoryDisk implements DiskOps {
  readonly files = new Map<string, Buffer>();
  /** Modes given to writeAtomic (0o600 when none was). */
  readonly modes = new Map<string, number>();
  /** Mutating operations, in order: `write <path>` / `remove <path>`. */
  readonly log: string[] = [];
  /** Return an error to make that operation fail (once per call). */
  failWith: ((op: DiskOp, path: string) => Error | undefined) | undefined;

  constructor(files: Record<string, string> = {}) {
    for (const [path, text] of Object.entries(files)) this.files.set(path, Buffer.from(text));
  }

  /** Current text of a file, undefined when absent. */
  text(path: string): string | undefined {
    return this.files.get(path)?.toString('utf8');
  }

  private check(op: DiskOp, path: string): void {
    const err = this.failWith?.(op, path);
    if (err !== undefined) throw err;
  }

  list(dir: string): Promise<string[]> {
    return this.run(() => {
      this.check('list', dir);
      return [...this.files.keys()].filter((p) => posix.dirname(p) === dir).map((p) => posix.basename(p)).sort();
    });
  }

  read(path: string): Promise<Uint8Array | undefined> {
    return this.run(() => {
      this.check('read', path);
      const data = this.files.get(path);
      return data === undefined ? undefined : Buffer.from(data);
    });
  }

  writeAtomic(path: string, data: Uint8Array | string, mode = 0o600): Promise<void> {
    return this.run(() => {
      this.check('writeAtomic', path);
      this.files.set(path, Buffer.from(data));
      this.modes.set(path, mode);
      this.log.push(`write ${path}`);
    });
  }

  remove(path: string): Promise<void> {
    return this.run(() => {
      this.check('remove', path);
      if (this.files.delete(path)) this.log.push(`remove ${path}`);
    });
  }

  private run<T>(fn: () => T): Promise<T> {
    try {
      return Promise.resolve(fn());
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }
}
