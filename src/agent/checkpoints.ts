/**
 * Checkpoints on the node (reboot survival): the agent keeps, per self-hosted component, a static
 * pod of its last known good template in the manifest directory, and the standby marker that
 * keeps that pod's supervisor dormant while the real pod runs.
 *
 * Why static pods that are always there, dormant, rather than files written when needed: after a
 * cold boot the kubelet runs only what is on disk, and nothing that needs the API (this agent
 * included) runs until the API is back. So the decision "the real pod is gone" cannot wait for
 * anyone: the supervisor (selfhost-gate-exec checkpoint) makes it on the node from two facts, the
 * standby marker's age and the component's ports. The agent refreshes the marker only while the
 * operator says the real pod runs *and* the API answered in this pass; when the API goes away the
 * marker ages out, and the checkpoint starts as soon as the ports are free.
 *
 * Files (all root-owned; the manifest 0600 like kubeadm's, the markers 0600, the binary 0755):
 *   <manifestDir>/selfhost-checkpoint-<component>.yaml   the static pod (content from desired.json)
 *   <binPath>                                           selfhost-gate-exec, copied from the image
 *   <runDir>/<component>.standby                         the standby marker (its mtime is its age)
 *   <runDir>/<component>.active                          written by the supervisor while it runs its copy
 *
 * Order within a pass: the binary, the markers, then the manifests (a checkpoint must never start
 * before its marker says the real pod runs), then removals.
 */
import { posix } from 'node:path';
import type { DesiredCheckpoint, ObservedCheckpoint } from '../api/agent.js';
import type { DiskOps } from './disk.js';
import { computeSha256, type FileInfo } from './snapshot.js';

export const CHECKPOINT_FILE_PREFIX = 'selfhost-checkpoint-';
export const CHECKPOINT_FILE_SUFFIX = '.yaml';
export const DEFAULT_CHECKPOINT_RUN_DIR = '/run/selfhost/checkpoints';
export const DEFAULT_CHECKPOINT_BIN = '/etc/kubernetes/selfhost/bin/selfhost-gate-exec';

export interface CheckpointPaths {
  readonly manifestDir: string;
  /** Where the supervisor binary is installed on the node. */
  readonly binPath: string;
  /** Where the markers and state files live (a tmpfs on a real node: a boot clears it). */
  readonly runDir: string;
}

export function checkpointFileName(component: string): string {
  return `${CHECKPOINT_FILE_PREFIX}${component}${CHECKPOINT_FILE_SUFFIX}`;
}

/** The component a manifest file name is the checkpoint of; undefined for other files. */
export function checkpointComponentOf(fileName: string): string | undefined {
  if (!fileName.startsWith(CHECKPOINT_FILE_PREFIX) || !fileName.endsWith(CHECKPOINT_FILE_SUFFIX)) return undefined;
  const c = fileName.slice(CHECKPOINT_FILE_PREFIX.length, -CHECKPOINT_FILE_SUFFIX.length);
  return c === '' ? undefined : c;
}

export function standbyPath(runDir: string, component: string): string {
  return posix.join(runDir, `${component}.standby`);
}

export function activePath(runDir: string, component: string): string {
  return posix.join(runDir, `${component}.active`);
}

/** What the agent sees of its checkpoints in one pass. */
export interface CheckpointDisk {
  /** Checkpoint manifests in the manifest directory, by component. */
  readonly files: ReadonlyMap<string, FileInfo>;
  /** sha256 of the installed supervisor; undefined when absent. */
  readonly binSha256?: string;
  readonly standby: ReadonlySet<string>;
  readonly active: ReadonlySet<string>;
}

export type CheckpointAction =
  | { kind: 'installBinary' }
  | { kind: 'touchStandby'; component: string }
  | { kind: 'removeStandby'; component: string }
  | { kind: 'writeCheckpoint'; component: string; content: string }
  | { kind: 'removeCheckpoint'; component: string }
  | { kind: 'removeBinary' };

export interface CheckpointPlanInput {
  /** undefined: unknown (no desired state, or an operator that sends no checkpoints): touch nothing. */
  readonly desired: readonly DesiredCheckpoint[] | undefined;
  readonly disk: CheckpointDisk;
  /** sha256 of the supervisor in the agent's image. */
  readonly sourceSha256: string;
  /** The API answered in this pass: only then may a marker be refreshed. */
  readonly apiAnswered: boolean;
}

/** The actions of one pass, in order (pure). */
export function computeCheckpointPlan(input: CheckpointPlanInput): CheckpointAction[] {
  const { desired, disk } = input;
  if (desired === undefined) return [];
  const wanted = new Map(desired.map((c) => [c.component, c]));
  const out: CheckpointAction[] = [];
  if (wanted.size > 0 && disk.binSha256 !== input.sourceSha256) out.push({ kind: 'installBinary' });
  for (const c of [...wanted.values()].sort((a, b) => compare(a.component, b.component))) {
    if (c.standby && input.apiAnswered) out.push({ kind: 'touchStandby', component: c.component });
    if (!c.standby && disk.standby.has(c.component)) out.push({ kind: 'removeStandby', component: c.component });
  }
  for (const c of [...wanted.values()].sort((a, b) => compare(a.component, b.component))) {
    if (disk.files.get(c.component)?.sha256 !== computeSha256(c.content)) {
      out.push({ kind: 'writeCheckpoint', component: c.component, content: c.content });
    }
  }
  for (const component of [...new Set([...disk.files.keys(), ...disk.standby])].sort(compare)) {
    if (wanted.has(component)) continue;
    if (disk.files.has(component)) out.push({ kind: 'removeCheckpoint', component });
    if (disk.standby.has(component)) out.push({ kind: 'removeStandby', component });
  }
  if (wanted.size === 0 && disk.binSha256 !== undefined) out.push({ kind: 'removeBinary' });
  return out;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Reads the checkpoint files, the installed binary and the markers. */
export async function scanCheckpoints(disk: DiskOps, paths: CheckpointPaths): Promise<CheckpointDisk> {
  const files = new Map<string, FileInfo>();
  for (const name of await disk.list(paths.manifestDir)) {
    const component = checkpointComponentOf(name);
    if (component === undefined) continue;
    const data = await disk.read(posix.join(paths.manifestDir, name));
    if (data !== undefined) files.set(component, { sha256: computeSha256(data), content: Buffer.from(data).toString('utf8') });
  }
  const bin = await disk.read(paths.binPath);
  const standby = new Set<string>();
  const active = new Set<string>();
  for (const name of await disk.list(paths.runDir)) {
    if (name.endsWith('.standby')) standby.add(name.slice(0, -'.standby'.length));
    if (name.endsWith('.active')) active.add(name.slice(0, -'.active'.length));
  }
  return { files, ...(bin === undefined ? {} : { binSha256: computeSha256(bin) }), standby, active };
}

/** The report's view: one entry per checkpoint file, sorted by component. */
export function computeObservedCheckpoints(disk: CheckpointDisk): ObservedCheckpoint[] {
  return [...disk.files.entries()]
    .sort(([a], [b]) => compare(a, b))
    .map(([component, f]) => ({ component, sha256: f.sha256, active: disk.active.has(component), standby: disk.standby.has(component) }));
}

export interface CheckpointLogger {
  info(obj: object, msg: string): void;
  debug(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/**
 * Carries out the actions; a failure is returned (for the report) and the rest of the pass goes
 * on, except that a checkpoint is not written when its marker or the supervisor could not be.
 */
export async function executeCheckpointPlan(
  actions: readonly CheckpointAction[],
  disk: DiskOps,
  paths: CheckpointPaths,
  source: () => Promise<Uint8Array>,
  now: () => Date,
  logger: CheckpointLogger,
): Promise<{ done: number; failures: { path: string; message: string }[] }> {
  let done = 0;
  const failures: { path: string; message: string }[] = [];
  const markerFailed = new Set<string>();
  let binaryFailed = false;
  for (const a of actions) {
    const path =
      a.kind === 'installBinary' || a.kind === 'removeBinary'
        ? paths.binPath
        : a.kind === 'touchStandby' || a.kind === 'removeStandby'
          ? standbyPath(paths.runDir, a.component)
          : posix.join(paths.manifestDir, checkpointFileName(a.component));
    // A checkpoint whose marker could not be written would start beside the real pod; one whose
    // supervisor is missing could not start at all (its hostPath would not exist).
    if (a.kind === 'writeCheckpoint' && (markerFailed.has(a.component) || binaryFailed)) continue;
    try {
      switch (a.kind) {
        case 'installBinary':
          await disk.writeAtomic(path, await source(), 0o755);
          break;
        case 'touchStandby':
          await disk.writeAtomic(path, `${now().toISOString()}\n`);
          break;
        case 'writeCheckpoint':
          await disk.writeAtomic(path, a.content);
          break;
        case 'removeStandby':
        case 'removeCheckpoint':
        case 'removeBinary':
          await disk.remove(path);
          break;
      }
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      if (a.kind === 'touchStandby') markerFailed.add(a.component);
      if (a.kind === 'installBinary') binaryFailed = true;
      logger.error({ err, action: a.kind, path }, `${a.kind} failed`);
      failures.push({ path, message: `${a.kind} failed: ${message}` });
      continue;
    }
    if (a.kind === 'touchStandby') {
      logger.debug({ action: a.kind, path }, 'refreshed the standby marker');
      continue;
    }
    done++;
    logger.info({ action: a.kind, path }, CHECKPOINT_MESSAGES[a.kind]);
  }
  return { done, failures };
}

const CHECKPOINT_MESSAGES: Record<CheckpointAction['kind'], string> = {
  installBinary: 'installed the checkpoint supervisor',
  touchStandby: 'refreshed the standby marker',
  removeStandby: 'removed the standby marker: the checkpoint may take over',
  writeCheckpoint: 'wrote the checkpoint (the last known good pod as a dormant static pod)',
  removeCheckpoint: 'removed the checkpoint',
  removeBinary: 'removed the checkpoint supervisor (no checkpoint left)',
};
