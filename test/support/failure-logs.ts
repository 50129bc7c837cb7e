import { afterEach, inject } from 'vitest';
import { formatLogTails, type ComponentLogs } from './logs.js';

/** Per test file (vitest gives each file its own module instances): register the hook once. */
let registered = false;

/**
 * Call at the top of a test file (or from a vitest setupFile): when one of its tests fails, every
 * sim component's log tail is printed to stderr and attached to the test's report as an
 * annotation (`sim component logs`). The logs default to the ones the integration global setup
 * provides. Calling it again in the same file does nothing.
 */
export function captureLogsOnFailure({ logs, lines = 40 }: { logs?: ComponentLogs; lines?: number } = {}): void {
  if (registered) return;
  registered = true;
  afterEach(async ({ task, annotate }) => {
    if (task.result?.state !== 'fail') return;
    const text = formatLogTails(logs ?? inject('simLogs'), lines);
    console.error(`\n"${task.name}" failed; sim component logs:\n${text}\n`);
    try {
      await annotate('sim component logs', { body: text, bodyEncoding: 'utf-8', contentType: 'text/plain' });
    } catch {
      // Reporters without annotations: stderr has it.
    }
  });
}
