/**
 * The etcd handover gate: an init container of the self-hosted etcd pod (hostNetwork) waits here
 * until the static etcd is gone — its manifest absent from the manifest directory AND nothing
 * listening on its ports. The manifest alone is not enough: the kubelet stops the static pod some
 * time after the file disappears, and until the process has exited it still holds the data
 * directory. The listening sockets are the observable sign that it has. Together they guarantee
 * that two etcd processes never run on one data directory.
 */
import { promises as fsp } from 'node:fs';
import type { Logger } from 'pino';
import { realClock, type Clock } from '../controller/clock.js';

export const PROC_NET_TCP = ['/proc/net/tcp', '/proc/net/tcp6'];
/** Socket state TCP_LISTEN in /proc/net/tcp{,6} (include/net/tcp_states.h). */
const TCP_LISTEN = '0A';

/**
 * Ports with a socket in LISTEN state, from the text of /proc/net/tcp or /proc/net/tcp6.
 * Lines: `sl local_address rem_address st ...`, local_address `HEXADDR:HEXPORT`.
 */
export function computeListeningPorts(procNetTcpText: string): Set<number> {
  const ports = new Set<number>();
  for (const line of procNetTcpText.split('\n')) {
    const fields = line.trim().split(/\s+/);
    const [slot, local, , state] = fields;
    if (slot === undefined || !/^\d+:$/.test(slot) || local === undefined || state?.toUpperCase() !== TCP_LISTEN) continue;
    const hex = local.slice(local.lastIndexOf(':') + 1);
    if (!/^[0-9A-Fa-f]{1,4}$/.test(hex)) continue;
    ports.add(Number.parseInt(hex, 16));
  }
  return ports;
}

/** The gate's view of the host, injectable for tests. */
export interface GateProbe {
  /** True when path exists (a dangling symlink counts: the kubelet would still see a file). */
  exists(path: string): Promise<boolean>;
  /** The file's text; undefined when it does not exist. */
  readText(path: string): Promise<string | undefined>;
}

function errorCode(err: unknown): string | undefined {
  const code = typeof err === 'object' && err !== null ? (err as Record<string, unknown>)['code'] : undefined;
  return typeof code === 'string' ? code : undefined;
}

export function nodeGateProbe(): GateProbe {
  return {
    async exists(path) {
      try {
        await fsp.lstat(path);
        return true;
      } catch (err) {
        if (errorCode(err) === 'ENOENT') return false;
        throw new Error(`checking ${path}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
      }
    },
    async readText(path) {
      try {
        return await fsp.readFile(path, 'utf8');
      } catch (err) {
        if (errorCode(err) === 'ENOENT') return undefined;
        throw new Error(`reading ${path}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
      }
    },
  };
}

export interface GateSpec {
  /** Files that must be absent. */
  absent: readonly string[];
  /** Ports nothing may listen on. */
  ports: readonly number[];
  /** /proc/net/tcp and /proc/net/tcp6 by default. */
  procNetPaths?: readonly string[];
}

/**
 * What the gate still waits for, one phrase each; [] when it may open. Anything it cannot check
 * counts as a reason to wait: opening wrongly would start a second etcd on the data directory.
 */
export async function computeGateBlockers(spec: GateSpec, probe: GateProbe): Promise<string[]> {
  const blockers: string[] = [];
  for (const path of spec.absent) {
    try {
      if (await probe.exists(path)) blockers.push(`${path} exists`);
    } catch (err) {
      blockers.push(`cannot tell whether ${path} exists: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  if (spec.ports.length === 0) return blockers;
  const procPaths = spec.procNetPaths ?? PROC_NET_TCP;
  const listening = new Set<number>();
  let readable = 0;
  let failed = 0;
  for (const path of procPaths) {
    try {
      // A missing tcp6 is normal (IPv6 disabled); at least one file must be readable (below).
      const text = await probe.readText(path);
      if (text === undefined) continue;
      readable++;
      for (const port of computeListeningPorts(text)) listening.add(port);
    } catch (err) {
      failed++;
      blockers.push(`cannot read ${path}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  if (readable === 0 && failed === 0) {
    blockers.push(`none of ${procPaths.join(', ')} exists, so listening ports cannot be checked`);
  }
  for (const port of spec.ports) if (listening.has(port)) blockers.push(`port ${port} is in LISTEN state`);
  return blockers;
}

export interface GateOptions extends GateSpec {
  /**
   * Open at once when every --absent file is already absent at the first check: there is no static
   * instance to hand over from (a later rollout or a restart), and the ports may legitimately be
   * in use by a self-hosted instance sharing them (SO_REUSEPORT). For the apiserver only: etcd's
   * ports must always be free.
   */
  openIfAbsentAtStart?: boolean;
  intervalMs: number;
  /** Give up after this long; 0 waits forever. */
  timeoutMs: number;
  probe: GateProbe;
  logger: Logger;
  clock?: Clock;
  /** At most one "waiting" log line per this many ms. Default 10 s. */
  logEveryMs?: number;
}

export type GateOutcome = { kind: 'open' } | { kind: 'timeout'; blockers: string[] } | { kind: 'aborted'; blockers: string[] };

/** Polls until the gate may open, the timeout passes, or signal aborts. */
export async function waitForGate(opts: GateOptions, signal: AbortSignal): Promise<GateOutcome> {
  const clock = opts.clock ?? realClock();
  const logEveryMs = opts.logEveryMs ?? 10_000;
  const started = clock.now();
  if (opts.openIfAbsentAtStart === true) {
    const present = await computeGateBlockers({ absent: opts.absent, ports: [] }, opts.probe);
    if (present.length === 0) {
      opts.logger.info({ absent: opts.absent, waitedMs: 0 }, 'gate open: no static manifest to hand over from');
      return { kind: 'open' };
    }
  }
  let lastLog: number | undefined;
  for (;;) {
    const blockers = await computeGateBlockers(opts, opts.probe);
    const waitedMs = clock.now() - started;
    if (blockers.length === 0) {
      opts.logger.info({ absent: opts.absent, ports: opts.ports, waitedMs }, 'gate open');
      return { kind: 'open' };
    }
    if (signal.aborted) return { kind: 'aborted', blockers };
    if (opts.timeoutMs > 0 && waitedMs >= opts.timeoutMs) {
      opts.logger.error({ blockers, waitedMs }, 'gate timed out');
      return { kind: 'timeout', blockers };
    }
    if (lastLog === undefined || clock.now() - lastLog >= logEveryMs) {
      lastLog = clock.now();
      opts.logger.info({ blockers, waitedMs }, 'waiting');
    }
    const remaining = opts.timeoutMs > 0 ? opts.timeoutMs - waitedMs : opts.intervalMs;
    await clock.sleep(Math.min(opts.intervalMs, remaining), signal);
  }
}
