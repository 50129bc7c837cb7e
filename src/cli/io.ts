import { readdirSync, readFileSync } from 'node:fs';

/** What a CLI command may touch: injected so commands are tested without a process. */
export interface CliIo {
  out(line: string): void;
  err(line: string): void;
  /** Reads a file; `-` is standard input. */
  readFile(path: string): string;
  /** File names (not paths) in a directory. */
  listDir(path: string): string[];
}

export function processIo(): CliIo {
  return {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
    readFile: (path) => readFileSync(path === '-' ? 0 : path, 'utf8'),
    listDir: (path) => readdirSync(path),
  };
}

/** Exit codes: 0 success, 1 the input was refused, 2 the command line was wrong. */
export const EXIT_OK = 0;
export const EXIT_REFUSED = 1;
export const EXIT_USAGE = 2;
