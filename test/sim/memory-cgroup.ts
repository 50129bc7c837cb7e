/**
 * A memory cgroup for one measured process (bench-memory.ts, `MEMORY_LIMIT_MIB=N` in a variant):
 * the operator runs under the limit its Deployment would set. That matters beyond OOM: Node sizes
 * V8's heap from the cgroup's limit (at or below 512 MiB: a 1 MiB semi-space and a ~256 MiB heap
 * limit, as with --max-semi-space-size=1 --max-old-space-size=256), so a process without a limit
 * on a large host shows a young generation a pod never has. Needs root and cgroup v1 or v2.
 */
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface MemoryCgroup {
  /** Write a PID here to move that process in. */
  readonly procs: string;
  /** Peak memory use of the cgroup (anonymous and page cache charged to it), bytes. */
  peak(): number | undefined;
  /** OOM kills in the cgroup so far. */
  oomKills(): number;
  /** Removes the cgroup (its processes must have exited). */
  remove(): void;
}

const ROOT = '/sys/fs/cgroup';

function readNumber(path: string): number | undefined {
  try {
    const n = Number(readFileSync(path, 'utf8').trim());
    return Number.isFinite(n) ? n : undefined;
  } catch {
    return undefined;
  }
}

function oomKillsIn(path: string): number {
  try {
    return Number(/^oom_kill (\d+)$/m.exec(readFileSync(path, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

export function createMemoryCgroup(name: string, limitMiB: number): MemoryCgroup {
  const bytes = String(limitMiB * 1024 * 1024);
  const v2 = existsSync(join(ROOT, 'cgroup.controllers'));
  const dir = v2 ? join(ROOT, name) : join(ROOT, 'memory', name);
  try {
    mkdirSync(dir);
    writeFileSync(join(dir, v2 ? 'memory.max' : 'memory.limit_in_bytes'), bytes);
  } catch (err) {
    throw new Error(`bench-memory: MEMORY_LIMIT_MIB needs root and a writable memory cgroup (${dir})`, { cause: err });
  }
  return {
    procs: join(dir, 'cgroup.procs'),
    peak: () => readNumber(join(dir, v2 ? 'memory.peak' : 'memory.max_usage_in_bytes')),
    oomKills: () => oomKillsIn(join(dir, v2 ? 'memory.events' : 'memory.oom_control')),
    remove: () => rmdirSync(dir),
  };
}

/** argv that runs `command args…` inside the cgroup: a shell moves itself in, then execs (same PID). */
export function computeCgroupArgv(cgroup: MemoryCgroup, command: string, args: readonly string[]): [string, string[]] {
  return ['/bin/sh', ['-c', 'echo $$ > "$0" && exec "$@"', cgroup.procs, command, ...args]];
}
