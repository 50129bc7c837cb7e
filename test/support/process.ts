import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';

/** A child process we started, with its log file; stopped only by its own PID. */
export interface Managed {
  name: string;
  pid: number;
  logPath: string;
  stop(): Promise<void>;
  /** True until the process has exited. */
  running(): boolean;
  /** Throws with the log's tail when the process has exited (for readiness polls). */
  assertRunning(): void;
  /** The last lines of its log, for failure messages. */
  tail(lines?: number): string;
}

/** Children still running, killed (by their own PID) if this Node process exits without stopping them. */
const live = new Set<ChildProcess>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const child of live) child.kill('SIGKILL');
  });
}

/**
 * Starts `bin` with stdout and stderr appended to `logPath` (the file descriptor is handed to the
 * child, so the log keeps filling even if this process dies). The child is stopped by its PID:
 * SIGTERM, then SIGKILL after `graceMs`; if this Node process exits first, the child is killed.
 */
export function startProcess(
  name: string,
  bin: string,
  args: string[],
  logPath: string,
  { graceMs = 10_000, env }: { graceMs?: number; env?: NodeJS.ProcessEnv } = {},
): Managed {
  const fd = openSync(logPath, 'a');
  let child: ChildProcess;
  try {
    child = spawn(bin, args, { stdio: ['ignore', fd, fd], ...(env ? { env } : {}) });
  } finally {
    closeSync(fd);
  }
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${name}: could not start ${bin}`);
  installExitHook();
  live.add(child);
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      live.delete(child);
      resolve();
    }),
  );
  const isRunning = () => child.exitCode === null && child.signalCode === null;
  const tail = (lines = 20): string => tailOf(logPath, lines);
  return {
    name,
    pid,
    logPath,
    async stop() {
      if (!isRunning()) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
    running: isRunning,
    assertRunning() {
      if (!isRunning()) {
        const err = new Error(`${name} exited (${child.exitCode ?? child.signalCode}):\n${tail()}`);
        err.name = 'FatalWait';
        throw err;
      }
    },
    tail,
  };
}

/** The last `lines` lines of a log file ('(no log)' when it cannot be read). */
export function tailOf(logPath: string, lines = 20): string {
  try {
    return readFileSync(logPath, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/**
 * The kernel's start time of a process (field 22 of /proc/<pid>/stat, clock ticks since boot), or
 * undefined when it does not exist or is a zombie. Recorded next to a PID, it tells a later stop whether the PID
 * still names the same process (PIDs are reused).
 */
export function procStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm (field 2) may contain spaces and parentheses: split after the last ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // A zombie has exited and only waits to be reaped: gone.
    if (rest[0] === 'Z' || rest[0] === 'X') return undefined;
    return rest[19]; // fields 3.. are rest[0..]; field 22 is rest[19]
  } catch {
    return undefined;
  }
}

/** VmRSS and VmHWM of a process in KiB (from /proc/<pid>/status). */
export function procMemory(pid: number): { rssKiB: number; hwmKiB: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const field = (key: string): number => {
      const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status);
      return m?.[1] !== undefined ? Number(m[1]) : 0;
    };
    return { rssKiB: field('VmRSS'), hwmKiB: field('VmHWM') };
  } catch {
    return undefined;
  }
}
