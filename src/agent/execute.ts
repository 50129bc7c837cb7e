/**
 * Carries out a plan on disk. Steps are independent: a failure is reported for its path and the
 * rest of that step is skipped (never the backup failed and the active file changed anyway), and
 * the other steps still run. Copies re-check the source's hash at the moment they read it, so a
 * file changed between the scan and the copy is refused rather than backed up or restored.
 */
import type { Logger } from 'pino';
import type { AgentConflict } from '../api/agent.js';
import type { DiskOps } from './disk.js';
import type { AgentAction, AgentPlan } from './plan.js';
import { computeSha256 } from './snapshot.js';

export interface ExecuteResult {
  /** Actions that changed the disk. */
  done: number;
  /** One per failed step, for the report. */
  failures: AgentConflict[];
}

async function copyVerified(disk: DiskOps, from: string, to: string, sha256: string): Promise<void> {
  const data = await disk.read(from);
  if (data === undefined) throw new Error(`${from} disappeared before it could be copied to ${to}`);
  const actual = computeSha256(data);
  if (actual !== sha256) {
    throw new Error(`${from} now has sha256 ${actual}, expected ${sha256}; not copied to ${to}`);
  }
  await disk.writeAtomic(to, data);
}

async function perform(disk: DiskOps, action: AgentAction): Promise<void> {
  switch (action.kind) {
    case 'removeTemp':
    case 'remove':
    case 'removeBackup':
      return disk.remove(action.path);
    case 'backup':
    case 'restore':
      return copyVerified(disk, action.from, action.to, action.sha256);
    case 'write':
      return disk.writeAtomic(action.path, action.content);
  }
}

const MESSAGES: Record<AgentAction['kind'], string> = {
  removeTemp: 'removed a leftover temp file',
  backup: 'backed up the original manifest',
  restore: 'restored the original manifest from its backup',
  write: 'wrote the manifest selfhost computed',
  remove: 'retired the manifest (removed it from the manifest directory)',
  removeBackup: 'removed a backup nothing needs any more (released)',
};

function fields(action: AgentAction): Record<string, string> {
  switch (action.kind) {
    case 'backup':
    case 'restore':
      return { from: action.from, to: action.to, sha256: action.sha256 };
    case 'write':
      return { path: action.path, sha256: computeSha256(action.content) };
    default:
      return { path: action.path };
  }
}

export async function executeAgentPlan(plan: AgentPlan, disk: DiskOps, logger: Logger): Promise<ExecuteResult> {
  let done = 0;
  const failures: AgentConflict[] = [];
  for (const step of plan.steps) {
    for (const action of step.actions) {
      try {
        await perform(disk, action);
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        logger.error({ err, action: action.kind, ...fields(action) }, `${action.kind} failed`);
        failures.push({ path: step.path, message: `${action.kind} failed: ${message}` });
        break;
      }
      done++;
      logger.info({ action: action.kind, ...fields(action) }, MESSAGES[action.kind]);
    }
  }
  return { done, failures };
}
