/**
 * The contract between the operator and the node agent, through the API (no SSH, no exec).
 *
 * One ConfigMap per control-plane node, `kube-system/selfhost-agent-<node>`, with two keys owned by
 * two server-side-apply field managers, so neither side can clobber the other:
 *   - `desired.json` (manager `selfhost`, the operator): what each static manifest on that node
 *     should look like — its original, the port-sharing variant, or retired (absent from the
 *     manifest directory).
 *   - `observed.json` (manager `selfhost-agent`, the agent): what is on disk — every manifest in the
 *     directory and every backup, with sha256 and content — and which desired state it last acted on.
 *
 * Why contents travel: once a static manifest is retired its mirror pod is gone, yet the operator
 * still converts the original (the same source gives byte-identical desired workloads on every
 * pass). The backup the agent keeps is that original.
 *
 * Files on the node (docs/design.md "What stays on disk"):
 *   <manifestDir>/<file>      active static manifests (kubelet runs them)
 *   <backupDir>/<file>        the original of every manifest selfhost changed or retired, written
 *                             once before the first change, never overwritten with other content
 *   <manifestDir>/selfhost-checkpoint-<component>.yaml
 *                             the checkpoint of a self-hosted component: a static pod of its last
 *                             known good template whose supervisor (selfhost-gate-exec checkpoint)
 *                             stays dormant while the real pod runs (src/agent/checkpoints.ts)
 *   /etc/kubernetes/selfhost/bin/selfhost-gate-exec
 *                             the supervisor, copied from the agent's image
 *   /run/selfhost/checkpoints/<component>.standby, .active
 *                             the standby marker (fresh while the real pod runs and the API
 *                             answers) and the supervisor's "my copy runs now" file
 */
export const AGENT_CONFIGMAP_PREFIX = 'selfhost-agent-';
export const AGENT_DESIRED_KEY = 'desired.json';
export const AGENT_OBSERVED_KEY = 'observed.json';
export const AGENT_FIELD_MANAGER = 'selfhost-agent';
/** Label on the agent ConfigMaps: the node they belong to. */
export const LABEL_AGENT_NODE = 'selfhost.dev/node';
export const DEFAULT_BACKUP_DIR = '/etc/kubernetes/selfhost/backup';

export function agentConfigMapName(node: string): string {
  return `${AGENT_CONFIGMAP_PREFIX}${node}`;
}

/**
 * What one static manifest should be:
 *  - Original: the backup's content (or the file as it is when selfhost never changed it);
 *  - Prepared: `content` (the original with --permit-port-sharing, see convert/port-sharing-prep);
 *  - Retired: no file in the manifest directory; the backup holds the original;
 *  - Handback: `content`, the unpivot's first step: the static pod that starts beside the
 *    self-hosted one (convert/restore.ts);
 *  - Restored: `content`, the unpivot's result: the static pod kubeadm writes for the version
 *    that runs now (convert/restore.ts).
 */
export type ManifestState = 'Original' | 'Prepared' | 'Retired' | 'Handback' | 'Restored';

/** States whose file is the entry's `content`. */
export const CONTENT_STATES: ReadonlySet<ManifestState> = new Set<ManifestState>(['Prepared', 'Handback', 'Restored']);

export interface DesiredManifest {
  /** Absolute path in the manifest directory, e.g. /etc/kubernetes/manifests/etcd.yaml. */
  path: string;
  state: ManifestState;
  /**
   * sha256 (hex) of the original file. The agent backs up and changes a file only when the file
   * (or its existing backup) has exactly this hash; otherwise it reports a conflict and leaves it.
   */
  originalSha256: string;
  /** The file content for state Prepared. */
  content?: string;
  /**
   * sha256 of every other content selfhost may have written to this path (its Prepared variant).
   * Once a backup exists, the agent changes or removes the active file only when it is absent, the
   * original, `content`, or one of these: anything else was written by someone else (a kubeadm
   * upgrade, a person), and the agent reports a conflict instead of destroying it.
   */
  writtenSha256?: string[];
}

/** A checkpoint the agent keeps on its node (reboot survival). */
export interface DesiredCheckpoint {
  /** Component name (etcd, kube-apiserver, ...): names the file and the markers. */
  component: string;
  /** The static pod manifest, complete (computed by the operator from the proven revision). */
  content: string;
  /**
   * The real pod runs on this node: keep the standby marker fresh (while the API answers), so
   * the checkpoint stays dormant. False: remove the marker, so the checkpoint may take over as
   * soon as the component's ports are free.
   */
  standby: boolean;
}

export interface AgentDesired {
  /** Sorted by path. Manifests not listed are never touched. */
  manifests: DesiredManifest[];
  /**
   * Sorted by component. Absent: the agent leaves checkpoints as they are (an operator that knows
   * no checkpoints); present: checkpoint files not listed are removed.
   */
  checkpoints?: DesiredCheckpoint[];
  /**
   * Nothing on this node is self-hosted any more (the unpivot finished): the agent removes every
   * backup not named in `manifests`, so a later pivot starts from the files as they are then.
   */
  release?: boolean;
}

/** A checkpoint file found on the node. */
export interface ObservedCheckpoint {
  component: string;
  /** sha256 of the manifest file. */
  sha256: string;
  /** Its supervisor runs the component now (the real pod is absent). */
  active: boolean;
  /** The standby marker exists. */
  standby: boolean;
}

export interface ObservedFile {
  /** Path of the manifest (for a backup: the manifest path it backs up). */
  path: string;
  sha256: string;
  content: string;
}

export interface AgentConflict {
  path: string;
  message: string;
}

export interface AgentObserved {
  node: string;
  /** sha256 of the desired.json text the agent last finished acting on ('' before any). */
  desiredSha256: string;
  /** Every regular, non-hidden file in the manifest directory, sorted by path. */
  manifests: ObservedFile[];
  /** Every backup, sorted by path. */
  backups: ObservedFile[];
  /** Desired entries the agent refused to act on, sorted by path. */
  conflicts: AgentConflict[];
  /** Checkpoint files on the node, sorted by component (absent in reports of older agents). */
  checkpoints?: ObservedCheckpoint[];
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const STATES: readonly string[] = ['Original', 'Prepared', 'Retired', 'Handback', 'Restored'] satisfies ManifestState[];

/** Parses desired.json; an error names the field and value. */
export function parseAgentDesired(text: string): AgentDesired {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new Error(`${AGENT_DESIRED_KEY}: not JSON`, { cause: err });
  }
  if (!isRecord(raw) || !Array.isArray(raw['manifests'])) {
    throw new Error(`${AGENT_DESIRED_KEY}: manifests: Required value: an array`);
  }
  const manifests = raw['manifests'].map((m: unknown, i): DesiredManifest => {
    const at = `${AGENT_DESIRED_KEY}: manifests[${i}]`;
    if (!isRecord(m)) throw new Error(`${at}: Invalid value: ${JSON.stringify(m)}: an object`);
    const { path, state, originalSha256, content, writtenSha256 } = m;
    if (typeof path !== 'string' || !path.startsWith('/')) {
      throw new Error(`${at}.path: Invalid value: ${JSON.stringify(path)}: an absolute path`);
    }
    if (typeof state !== 'string' || !STATES.includes(state)) {
      throw new Error(`${at}.state: Unsupported value: ${JSON.stringify(state)}: supported values: ${STATES.join(', ')}`);
    }
    if (typeof originalSha256 !== 'string' || !/^[0-9a-f]{64}$/.test(originalSha256)) {
      throw new Error(`${at}.originalSha256: Invalid value: ${JSON.stringify(originalSha256)}: 64 lowercase hex digits`);
    }
    if (CONTENT_STATES.has(state as ManifestState) && typeof content !== 'string') {
      throw new Error(`${at}.content: Required value: state ${state} needs the file content`);
    }
    if (writtenSha256 !== undefined && (!Array.isArray(writtenSha256) || !writtenSha256.every((h) => typeof h === 'string' && /^[0-9a-f]{64}$/.test(h)))) {
      throw new Error(`${at}.writtenSha256: Invalid value: ${JSON.stringify(writtenSha256)}: a list of sha256 digests (64 lowercase hex digits)`);
    }
    return {
      path,
      state: state as ManifestState,
      originalSha256,
      ...(typeof content === 'string' ? { content } : {}),
      ...(Array.isArray(writtenSha256) ? { writtenSha256: writtenSha256 as string[] } : {}),
    };
  });
  const checkpoints = raw['checkpoints'] === undefined ? undefined : parseCheckpoints(raw['checkpoints']);
  const release = raw['release'];
  if (release !== undefined && typeof release !== 'boolean') {
    throw new Error(`${AGENT_DESIRED_KEY}: release: Invalid value: ${JSON.stringify(release)}: true or false`);
  }
  return { manifests, ...(checkpoints === undefined ? {} : { checkpoints }), ...(release === true ? { release } : {}) };
}

/** Component names double as file names: lowercase words joined by dashes, nothing else. */
const COMPONENT_NAME = /^[a-z0-9]+(-[a-z0-9]+)*$/;

function parseCheckpoints(v: unknown): DesiredCheckpoint[] {
  if (!Array.isArray(v)) throw new Error(`${AGENT_DESIRED_KEY}: checkpoints: Invalid value: an array`);
  return v.map((c: unknown, i): DesiredCheckpoint => {
    const at = `${AGENT_DESIRED_KEY}: checkpoints[${i}]`;
    if (!isRecord(c)) throw new Error(`${at}: Invalid value: ${JSON.stringify(c)}: an object`);
    const { component, content, standby } = c;
    if (typeof component !== 'string' || !COMPONENT_NAME.test(component)) {
      throw new Error(`${at}.component: Invalid value: ${JSON.stringify(component)}: lowercase letters, digits and dashes`);
    }
    if (typeof content !== 'string' || content === '') throw new Error(`${at}.content: Required value: the static pod manifest`);
    if (typeof standby !== 'boolean') throw new Error(`${at}.standby: Invalid value: ${JSON.stringify(standby)}: true or false`);
    return { component, content, standby };
  });
}

function parseFiles(v: unknown, at: string): ObservedFile[] {
  if (!Array.isArray(v)) throw new Error(`${at}: Required value: an array`);
  return v.map((f: unknown, i) => {
    if (!isRecord(f) || typeof f['path'] !== 'string' || typeof f['sha256'] !== 'string' || typeof f['content'] !== 'string') {
      throw new Error(`${at}[${i}]: Invalid value: needs path, sha256 and content strings`);
    }
    return { path: f['path'], sha256: f['sha256'], content: f['content'] };
  });
}

/** Parses observed.json; an error names the field. */
export function parseAgentObserved(text: string): AgentObserved {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new Error(`${AGENT_OBSERVED_KEY}: not JSON`, { cause: err });
  }
  if (!isRecord(raw)) throw new Error(`${AGENT_OBSERVED_KEY}: Invalid value: an object`);
  const { node, desiredSha256, conflicts } = raw;
  if (typeof node !== 'string') throw new Error(`${AGENT_OBSERVED_KEY}: node: Required value`);
  if (typeof desiredSha256 !== 'string') throw new Error(`${AGENT_OBSERVED_KEY}: desiredSha256: Required value`);
  if (!Array.isArray(conflicts)) throw new Error(`${AGENT_OBSERVED_KEY}: conflicts: Required value: an array`);
  return {
    node,
    desiredSha256,
    manifests: parseFiles(raw['manifests'], `${AGENT_OBSERVED_KEY}: manifests`),
    backups: parseFiles(raw['backups'], `${AGENT_OBSERVED_KEY}: backups`),
    conflicts: conflicts.map((c: unknown, i) => {
      if (!isRecord(c) || typeof c['path'] !== 'string' || typeof c['message'] !== 'string') {
        throw new Error(`${AGENT_OBSERVED_KEY}: conflicts[${i}]: Invalid value: needs path and message strings`);
      }
      return { path: c['path'], message: c['message'] };
    }),
    ...(Array.isArray(raw['checkpoints']) ? { checkpoints: parseObservedCheckpoints(raw['checkpoints']) } : {}),
  };
}

function parseObservedCheckpoints(v: unknown[]): ObservedCheckpoint[] {
  return v.map((c: unknown, i) => {
    if (!isRecord(c) || typeof c['component'] !== 'string' || typeof c['sha256'] !== 'string' || typeof c['active'] !== 'boolean' || typeof c['standby'] !== 'boolean') {
      throw new Error(`${AGENT_OBSERVED_KEY}: checkpoints[${i}]: Invalid value: needs component and sha256 strings, active and standby booleans`);
    }
    return { component: c['component'], sha256: c['sha256'], active: c['active'], standby: c['standby'] };
  });
}

/** Deterministic serialisation (the contract is compared by hash, so key order matters). */
export function formatAgentDesired(desired: AgentDesired): string {
  const manifests = [...desired.manifests]
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
    .map((m) => ({
      ...(m.content === undefined ? {} : { content: m.content }),
      originalSha256: m.originalSha256,
      path: m.path,
      state: m.state,
      ...(m.writtenSha256 === undefined || m.writtenSha256.length === 0 ? {} : { writtenSha256: [...new Set(m.writtenSha256)].sort() }),
    }));
  const checkpoints = desired.checkpoints?.slice().sort((a, b) => (a.component < b.component ? -1 : a.component > b.component ? 1 : 0))
    .map((c) => ({ component: c.component, content: c.content, standby: c.standby }));
  return JSON.stringify({ ...(checkpoints === undefined ? {} : { checkpoints }), manifests, ...(desired.release === true ? { release: true } : {}) });
}
