/**
 * `selfhost etcd-snapshot`: one verified etcd snapshot on this node (the pre-upgrade Job's
 * container). Flags are checked here; the work is in src/etcd-snapshot/take.ts.
 */
import { existsSync, writeFileSync } from 'node:fs';
import type { Checked } from '../agent/flags.js';
import { parseDirFlag } from '../agent/flags.js';
import { httpsGateway, type EtcdGateway, type TlsFiles } from '../etcd-snapshot/gateway.js';
import {
  DEFAULT_CACERT,
  DEFAULT_CERT,
  DEFAULT_ENDPOINT,
  DEFAULT_KEY,
  DEFAULT_MIN_FREE_BYTES,
  DEFAULT_RETENTION,
  DEFAULT_SNAPSHOT_DIR,
  DEFAULT_TERMINATION_LOG,
  defaultSnapshotName,
  parseCountFlag,
  parseEndpointFlag,
  parseSnapshotName,
} from '../etcd-snapshot/flags.js';
import { formatResult, type SnapshotResult } from '../etcd-snapshot/record.js';
import { statfsFreeBytes, takeSnapshot } from '../etcd-snapshot/take.js';
import { parseCommandArgs, stringOpt } from './args.js';
import { EXIT_OK, EXIT_REFUSED, EXIT_USAGE, type CliIo } from './io.js';

export const ETCD_SNAPSHOT_USAGE = `usage: selfhost etcd-snapshot [options]

Takes a snapshot through etcd's snapshot API (gRPC gateway, TLS client certificates), verifies
the sha256 trailer etcd appends, and writes <dir>/<name>.db (the format of etcdctl snapshot save)
and <dir>/<name>.json. When <name> exists already and its file still matches its record, that
snapshot is reported again (reused: true) instead of taking another. Prints one JSON result line,
also written to --termination-log. Exit 0 only for a verified snapshot.

options:
  --endpoint <url>        etcd client URL (default ${DEFAULT_ENDPOINT})
  --cacert <file>         CA of etcd's serving certificate (default ${DEFAULT_CACERT})
  --cert <file>           client certificate (default ${DEFAULT_CERT})
  --key <file>            client key (default ${DEFAULT_KEY})
  --dir <dir>             snapshot directory, made 0700 (default ${DEFAULT_SNAPSHOT_DIR})
  --name <name>           snapshot name (default etcd-<UTC time>, e.g. etcd-20261203T124606Z)
  --retention <n>         keep the n newest snapshots of this command, delete older ones (default ${DEFAULT_RETENTION})
  --min-free-bytes <n>    bytes that must stay free after the snapshot (default ${DEFAULT_MIN_FREE_BYTES})
  --termination-log <file>
                          also write the result there when the file exists (default ${DEFAULT_TERMINATION_LOG})`;

export interface EtcdSnapshotOptions {
  endpoint: string;
  cacert: string;
  cert: string;
  key: string;
  dir: string;
  name: string;
  retention: number;
  minFreeBytes: number;
  terminationLog: string;
}

export interface EtcdSnapshotDeps {
  now: () => number;
  gateway: (endpoint: string, tls: TlsFiles) => EtcdGateway;
  freeBytes: (dir: string) => Promise<number>;
  /** Writes the result to the termination log when that file exists. */
  writeTerminationLog: (path: string, text: string) => void;
  /** Stops the snapshot (its .part removed); default SIGTERM/SIGINT. */
  signal?: AbortSignal;
}

/**
 * SIGTERM/SIGINT as an AbortSignal. Node as PID 1 of a container has no default SIGTERM handling:
 * without this a Job deadline would SIGKILL it after the grace period and leave the .part behind.
 */
function processSignal(): { signal: AbortSignal; release: () => void } {
  const ctl = new AbortController();
  const onSignal = (sig: NodeJS.Signals): void => ctl.abort(new Error(`stopped by ${sig}`));
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  return {
    signal: ctl.signal,
    release: () => {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
    },
  };
}

const OPTIONS = {
  endpoint: { type: 'string' },
  cacert: { type: 'string' },
  cert: { type: 'string' },
  key: { type: 'string' },
  dir: { type: 'string' },
  name: { type: 'string' },
  retention: { type: 'string' },
  'min-free-bytes': { type: 'string' },
  'termination-log': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export function parseEtcdSnapshotArgs(argv: string[], nowMs: number): Checked<EtcdSnapshotOptions> {
  const parsed = parseCommandArgs(argv, OPTIONS);
  if (!parsed.ok) return parsed;
  if (parsed.positionals.length > 0) {
    return { ok: false, message: `unexpected argument ${JSON.stringify(parsed.positionals[0])}: selfhost etcd-snapshot takes only options` };
  }
  const v = parsed.values;
  const endpoint = parseEndpointFlag(stringOpt(v, 'endpoint') ?? DEFAULT_ENDPOINT);
  if (!endpoint.ok) return endpoint;
  const files: Record<'cacert' | 'cert' | 'key' | 'termination-log', string> = {
    cacert: stringOpt(v, 'cacert') ?? DEFAULT_CACERT,
    cert: stringOpt(v, 'cert') ?? DEFAULT_CERT,
    key: stringOpt(v, 'key') ?? DEFAULT_KEY,
    'termination-log': stringOpt(v, 'termination-log') ?? DEFAULT_TERMINATION_LOG,
  };
  for (const [flag, path] of Object.entries(files)) {
    if (!path.startsWith('/')) return { ok: false, message: `--${flag}: invalid value ${JSON.stringify(path)}: must be an absolute path` };
  }
  const dir = parseDirFlag('dir', stringOpt(v, 'dir') ?? DEFAULT_SNAPSHOT_DIR);
  if (!dir.ok) return dir;
  if (dir.value === '/') return { ok: false, message: '--dir: invalid value "/": must be a directory of its own for snapshots' };
  const name = parseSnapshotName(stringOpt(v, 'name') ?? defaultSnapshotName(nowMs));
  if (!name.ok) return name;
  const retention = parseCountFlag('retention', stringOpt(v, 'retention') ?? String(DEFAULT_RETENTION), 1);
  if (!retention.ok) return retention;
  const minFree = parseCountFlag('min-free-bytes', stringOpt(v, 'min-free-bytes') ?? String(DEFAULT_MIN_FREE_BYTES), 0);
  if (!minFree.ok) return minFree;
  return {
    ok: true,
    value: {
      endpoint: endpoint.value.origin,
      cacert: files.cacert,
      cert: files.cert,
      key: files.key,
      dir: dir.value,
      name: name.value,
      retention: retention.value,
      minFreeBytes: minFree.value,
      terminationLog: files['termination-log'],
    },
  };
}

export const defaultEtcdSnapshotDeps: EtcdSnapshotDeps = {
  now: () => Date.now(),
  gateway: (endpoint, tls) => httpsGateway(endpoint, tls),
  freeBytes: statfsFreeBytes,
  writeTerminationLog: (path, text) => {
    if (existsSync(path)) writeFileSync(path, text);
  },
};

function readTls(opts: EtcdSnapshotOptions, io: CliIo): TlsFiles {
  const read = (flag: string, path: string): Buffer => {
    try {
      return Buffer.from(io.readFile(path));
    } catch (err) {
      // The message names the file, never its content.
      throw new Error(`--${flag}: cannot read ${path}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
  };
  return { ca: read('cacert', opts.cacert), cert: read('cert', opts.cert), key: read('key', opts.key) };
}

/** Runs the snapshot and reports it; the exit code is 0 only for a verified, recorded snapshot. */
export async function etcdSnapshot(opts: EtcdSnapshotOptions, io: CliIo, deps: EtcdSnapshotDeps): Promise<number> {
  let result: SnapshotResult;
  const stop = deps.signal === undefined ? processSignal() : { signal: deps.signal, release: () => undefined };
  try {
    const gateway = deps.gateway(opts.endpoint, readTls(opts, io));
    const { record, deleted, reused } = await takeSnapshot(
      { dir: opts.dir, name: opts.name, retention: opts.retention, minFreeBytes: opts.minFreeBytes },
      { gateway, now: deps.now, freeBytes: deps.freeBytes, signal: stop.signal },
    );
    result = { ok: true, ...record, deleted, reused };
  } catch (err) {
    const reason: unknown = stop.signal.aborted ? stop.signal.reason : undefined;
    const message = err instanceof Error ? err.message : String(err);
    result = { ok: false, name: opts.name, error: reason instanceof Error && reason.message !== message ? `${reason.message}: ${message}` : message };
  } finally {
    stop.release();
  }
  const line = formatResult(result);
  io.out(line);
  if (!result.ok) io.err(`selfhost etcd-snapshot: ${result.error}`);
  try {
    deps.writeTerminationLog(opts.terminationLog, line);
  } catch (err) {
    io.err(`selfhost etcd-snapshot: cannot write --termination-log ${opts.terminationLog}: ${err instanceof Error ? err.message : String(err)}`);
  }
  return result.ok ? EXIT_OK : EXIT_REFUSED;
}

export function runEtcdSnapshot(argv: string[], io: CliIo, deps: Partial<EtcdSnapshotDeps> = {}): number | Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    io.out(ETCD_SNAPSHOT_USAGE);
    return EXIT_OK;
  }
  const all: EtcdSnapshotDeps = { ...defaultEtcdSnapshotDeps, ...deps };
  const parsed = parseEtcdSnapshotArgs(argv, all.now());
  if (!parsed.ok) {
    io.err(`selfhost etcd-snapshot: ${parsed.message}\n\n${ETCD_SNAPSHOT_USAGE}`);
    return EXIT_USAGE;
  }
  return etcdSnapshot(parsed.value, io, all);
}
