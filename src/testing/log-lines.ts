/**
 * Test helper: pino loggers whose JSON lines are collected, so a test can assert what was logged.
 */
import { Writable } from 'node:stream';
import { pino, type LevelWithSilent, type Logger } from 'pino';

/** A destination that parses every JSON line written to it into `lines`. */
export function jsonLinesDestination(lines: Record<string, unknown>[]): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
}

/** A logger at `level` and the lines it has written so far. */
export function captureLogs(level: LevelWithSilent = 'debug'): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  return { logger: pino({ level }, jsonLinesDestination(lines)), lines };
}
