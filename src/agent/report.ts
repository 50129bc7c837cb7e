/**
 * observed.json: what the agent reports, computed from a disk snapshot, and its deterministic
 * text. The agent writes the ConfigMap only when this text changes, so equal states must give
 * byte-identical text: everything is sorted and keys are emitted in a fixed order.
 */
import { posix } from 'node:path';
import type { AgentConflict, AgentObserved, ObservedCheckpoint, ObservedFile } from '../api/agent.js';
import { checkpointComponentOf } from './checkpoints.js';
import { dedupeConflicts } from './plan.js';
import type { DiskSnapshot, FileInfo } from './snapshot.js';

export interface ObservedInput {
  node: string;
  desiredSha256: string;
  snapshot: DiskSnapshot;
  conflicts: readonly AgentConflict[];
  /** The checkpoints on disk (reported apart: they are selfhost's, not sources of a conversion). */
  checkpoints?: readonly ObservedCheckpoint[];
}

function sortFiles(list: readonly ObservedFile[]): ObservedFile[] {
  return [...list].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

function files(dir: string, byName: ReadonlyMap<string, FileInfo>): ObservedFile[] {
  return sortFiles([...byName.entries()].map(([name, f]) => ({ path: posix.join(dir, name), sha256: f.sha256, content: f.content })));
}

export function computeAgentObserved(input: ObservedInput): AgentObserved {
  const { snapshot } = input;
  return {
    node: input.node,
    desiredSha256: input.desiredSha256,
    manifests: files(snapshot.manifestDir, new Map([...snapshot.manifests].filter(([name]) => checkpointComponentOf(name) === undefined))),
    // A backup is named by the manifest it backs up: that is the path the operator asks about.
    backups: files(snapshot.manifestDir, snapshot.backups),
    conflicts: dedupeConflicts(input.conflicts),
    ...(input.checkpoints === undefined ? {} : { checkpoints: [...input.checkpoints] }),
  };
}

function formatFile(f: ObservedFile): Record<string, string> {
  return { content: f.content, path: f.path, sha256: f.sha256 };
}

/** Sorted keys, sorted lists, no whitespace: the same observation always gives the same text. */
export function formatAgentObserved(observed: AgentObserved): string {
  return JSON.stringify({
    backups: sortFiles(observed.backups).map(formatFile),
    ...(observed.checkpoints === undefined
      ? {}
      : {
          checkpoints: [...observed.checkpoints]
            .sort((a, b) => (a.component < b.component ? -1 : a.component > b.component ? 1 : 0))
            .map((c) => ({ active: c.active, component: c.component, sha256: c.sha256, standby: c.standby })),
        }),
    conflicts: dedupeConflicts(observed.conflicts).map((c) => ({ message: c.message, path: c.path })),
    desiredSha256: observed.desiredSha256,
    manifests: sortFiles(observed.manifests).map(formatFile),
    node: observed.node,
  });
}
