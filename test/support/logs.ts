import { tailOf } from './process.js';

/** Component name → log file path (what the sim tier provides as `simLogs`). */
export type ComponentLogs = Record<string, string>;

/** Every component's last `lines` log lines, one headed block each. */
export function formatLogTails(logs: ComponentLogs, lines = 40): string {
  return Object.entries(logs)
    .map(([name, path]) => `----- ${name} (${path}), last ${lines} lines -----\n${tailOf(path, lines)}`)
    .join('\n');
}
