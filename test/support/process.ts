import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';

/** A child process we started, with its log file; stopped only by its own PID. */
export interface Managed {
  name: string;
  pid: number;
  logPath: string;
  stop(): Promise<void>;
  /** Throws with the log's tail when the process has exited (for readiness polls). */
  assertRunning(): void;
  /** The last lines of its log, for failure messages. */
  tail(lines?: number): string;
}

export function startProcess(name: string, bin: string, args: string[], logPath: string): Managed {
  const log = createWriteStream(logPath, { flags: 'a' });
  const child: ChildProcess = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${name}: could not start ${bin}`);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    name,
    pid,
    logPath,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
      log.end();
    },
    assertRunning() {
      if (child.exitCode !== null || child.signalCode !== null) {
        const err = new Error(`${name} exited (${child.exitCode ?? child.signalCode}):\n${this.tail()}`);
        err.name = 'FatalWait';
        throw err;
      }
    },
    tail(lines = 20) {
      try {
        return readFileSync(logPath, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
      } catch {
        return '(no log)';
      }
    },
  };
}
