/**
 * The agent's decisions, pure: desired state + disk snapshot → ordered steps and conflicts.
 *
 * Every rule is level-based, so re-running after a crash at any point converges: a half-done
 * change is seen as its current disk state and only the missing part is planned. Within one
 * manifest the backup comes first and the executor stops that manifest at its first failure, so
 * the active file never changes before the original is safely in the backup directory.
 */
import { posix } from 'node:path';
import type { AgentConflict, AgentDesired, DesiredManifest } from '../api/agent.js';
import { computeDirPath, computeSha256, type DiskSnapshot, type FileInfo } from './snapshot.js';

export type AgentAction =
  /** A temp file a crashed write left behind. */
  | { kind: 'removeTemp'; path: string }
  /** Copy the active file to the backup, if its bytes still have sha256. */
  | { kind: 'backup'; from: string; to: string; sha256: string }
  /** Copy the backup over the active file, if its bytes still have sha256. */
  | { kind: 'restore'; from: string; to: string; sha256: string }
  /** Make the active file `content`. */
  | { kind: 'write'; path: string; content: string }
  /** Remove the active file. */
  | { kind: 'remove'; path: string }
  /** Remove a backup nothing needs any more (desired.release). */
  | { kind: 'removeBackup'; path: string };

/** Actions for one path, run in order; the first failure skips the rest of the step. */
export interface AgentStep {
  path: string;
  actions: AgentAction[];
}

export interface AgentPlan {
  /** Temp clean-up first, then manifests sorted by path; steps without actions are left out. */
  steps: AgentStep[];
  /** Desired entries refused, sorted by path. */
  conflicts: AgentConflict[];
}

type Located = { ok: true; name: string; backupPath: string } | { ok: false; message: string };

/** Where a desired path's file and backup are, or why the agent will not touch it. */
function locate(path: string, snap: DiskSnapshot): Located {
  const manifestDir = computeDirPath(snap.manifestDir);
  const name = posix.basename(path);
  if (!posix.isAbsolute(path) || posix.normalize(path) !== path || posix.dirname(path) !== manifestDir) {
    return { ok: false, message: `${path} is not a file directly in the manifest directory ${manifestDir}; the agent only changes files there` };
  }
  if (name.startsWith('.')) {
    return { ok: false, message: `${path} is a hidden file, which the kubelet ignores; the agent does not manage hidden files` };
  }
  return { ok: true, name, backupPath: posix.join(computeDirPath(snap.backupDir), name) };
}

type EntryResult = { actions: AgentAction[] } | { conflict: string };

function found(file: FileInfo | undefined): string {
  return file === undefined ? 'it is absent' : `it has sha256 ${file.sha256}`;
}

/** The active file is the original or a version selfhost wrote (or is about to write). */
function isOurs(m: DesiredManifest, sha256: string): boolean {
  if (sha256 === m.originalSha256) return true;
  if (m.content !== undefined && sha256 === computeSha256(m.content)) return true;
  return m.writtenSha256?.includes(sha256) ?? false;
}

function planEntry(m: DesiredManifest, active: FileInfo | undefined, backup: FileInfo | undefined, backupPath: string): EntryResult {
  const expected = m.originalSha256;
  const actions: AgentAction[] = [];
  let original: 'backup' | 'active';
  if (backup !== undefined) {
    if (backup.sha256 !== expected) {
      return {
        conflict: `backup ${backupPath} has sha256 ${backup.sha256}, expected originalSha256 ${expected}; ${m.path} is left as it is`,
      };
    }
    original = 'backup';
  } else {
    if (active?.sha256 !== expected) {
      return {
        conflict: `${m.path}: ${found(active)}, expected originalSha256 ${expected}, and there is no backup ${backupPath}; it is left as it is`,
      };
    }
    original = 'active';
    // Original with the active file still pristine needs no backup: nothing is about to change.
    if (m.state !== 'Original') actions.push({ kind: 'backup', from: m.path, to: backupPath, sha256: expected });
  }

  // With the original safe in the backup, the active file may be one selfhost wrote — or one
  // someone else wrote since (a kubeadm upgrade, a person). Only the former may be overwritten or
  // removed: the latter is nowhere else.
  if (original === 'backup' && active !== undefined && !isOurs(m, active.sha256)) {
    return {
      conflict: `${m.path} has sha256 ${active.sha256}, which is neither the original (${expected}) nor a version selfhost wrote; it is left as it is (move it away or restore the original to continue)`,
    };
  }

  switch (m.state) {
    case 'Original':
      if (original === 'backup' && active?.sha256 !== expected) {
        actions.push({ kind: 'restore', from: backupPath, to: m.path, sha256: expected });
      }
      break;
    case 'Prepared':
    case 'Handback':
    case 'Restored': {
      const content = m.content ?? '';
      if (active?.sha256 !== computeSha256(content)) actions.push({ kind: 'write', path: m.path, content });
      break;
    }
    case 'Retired':
      if (active !== undefined) actions.push({ kind: 'remove', path: m.path });
      break;
  }
  return { actions };
}

/**
 * What to do. `desired` undefined means unknown (the API is unreachable and nothing is cached):
 * only temp files are cleaned up. Files not listed in desired are never touched.
 */
export function computeAgentPlan(desired: AgentDesired | undefined, snap: DiskSnapshot): AgentPlan {
  const steps: AgentStep[] = snap.temps.map((path) => ({ path, actions: [{ kind: 'removeTemp', path }] }));
  const conflicts: AgentConflict[] = [];
  const manifests = [...(desired?.manifests ?? [])].sort((a, b) => compare(a.path, b.path));
  const counts = new Map<string, number>();
  for (const m of manifests) counts.set(m.path, (counts.get(m.path) ?? 0) + 1);

  for (const m of manifests) {
    if ((counts.get(m.path) ?? 0) > 1) {
      conflicts.push({ path: m.path, message: `${m.path} is listed more than once in desired.json; it is left as it is` });
      continue;
    }
    const where = locate(m.path, snap);
    if (!where.ok) {
      conflicts.push({ path: m.path, message: where.message });
      continue;
    }
    const result = planEntry(m, snap.manifests.get(where.name), snap.backups.get(where.name), where.backupPath);
    if ('conflict' in result) conflicts.push({ path: m.path, message: result.conflict });
    else if (result.actions.length > 0) steps.push({ path: m.path, actions: result.actions });
  }
  if (desired?.release === true) {
    // Backups of manifests still listed stay (their entries may need them); the rest go.
    const listed = new Set(manifests.map((m) => posix.basename(m.path)));
    const backupDir = computeDirPath(snap.backupDir);
    for (const name of [...snap.backups.keys()].sort()) {
      if (listed.has(name)) continue;
      const path = posix.join(backupDir, name);
      steps.push({ path, actions: [{ kind: 'removeBackup', path }] });
    }
  }
  return { steps, conflicts: dedupeConflicts(conflicts) };
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Sorted by path then message, without repeats. */
export function dedupeConflicts(conflicts: readonly AgentConflict[]): AgentConflict[] {
  const seen = new Set<string>();
  const out: AgentConflict[] = [];
  for (const c of [...conflicts].sort((a, b) => compare(a.path, b.path) || compare(a.message, b.message))) {
    const key = JSON.stringify([c.path, c.message]);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(c);
  }
  return out;
}
