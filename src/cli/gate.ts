/**
 * `selfhost gate`: the init container of the self-hosted etcd pod. Exits 0 once the static etcd is
 * gone (see src/agent/gate.ts for why both the file and the ports are checked).
 */
import { parseArgs } from 'node:util';
import { pino, type Logger } from 'pino';
import { parseDurationFlag, parsePortFlag, type Checked } from '../agent/flags.js';
import { PROC_NET_TCP, nodeGateProbe, waitForGate, type GateProbe } from '../agent/gate.js';
import type { Clock } from '../controller/clock.js';
import { EXIT_OK, EXIT_REFUSED, EXIT_USAGE, type CliIo } from './io.js';

const DEFAULT_INTERVAL = '200ms';

export const GATE_USAGE = `usage: selfhost gate --absent <file>... --port <port>... [options]

Waits until every --absent file is gone and nothing listens on any --port (TCP LISTEN in
/proc/net/tcp and /proc/net/tcp6; run it with hostNetwork), then exits 0.

options:
  --absent <file>        a file that must not exist (repeatable)
  --port <port>          a TCP port nothing may listen on (repeatable)
  --open-if-absent-at-start
                         exit 0 at once when every --absent file is already absent at the
                         first check (nothing to hand over; the port may be shared)
  --interval <duration>  poll period, a Go duration (default ${DEFAULT_INTERVAL})
  --timeout <duration>   give up (exit 1) after this long; 0 waits forever (default 0)`;

export interface GateCommandOptions {
  absent: string[];
  openIfAbsentAtStart: boolean;
  ports: number[];
  intervalMs: number;
  timeoutMs: number;
}

export interface GateCommandDeps {
  probe: GateProbe;
  procNetPaths: readonly string[];
  logger: Logger;
  clock: Clock;
  /** Stops the wait; default SIGTERM/SIGINT. */
  signal: AbortSignal;
}

export function parseGateArgs(argv: string[]): Checked<GateCommandOptions> {
  let values;
  let positionals;
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      options: {
        absent: { type: 'string', multiple: true },
        port: { type: 'string', multiple: true },
        interval: { type: 'string' },
        timeout: { type: 'string' },
        'open-if-absent-at-start': { type: 'boolean' },
      },
      strict: true,
      allowPositionals: true,
    }));
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return { ok: false, message: `${message} (allowed options: --absent, --port, --interval, --timeout, --open-if-absent-at-start)` };
  }
  if (positionals.length > 0) {
    return { ok: false, message: `unexpected argument ${JSON.stringify(positionals[0])}: selfhost gate takes only options` };
  }
  const absent = values.absent ?? [];
  for (const path of absent) {
    if (!path.startsWith('/')) return { ok: false, message: `--absent: invalid value ${JSON.stringify(path)}: must be an absolute path` };
  }
  const ports: number[] = [];
  for (const text of values.port ?? []) {
    const port = parsePortFlag(text);
    if (!port.ok) return port;
    ports.push(port.value);
  }
  if (absent.length === 0 && ports.length === 0) {
    return { ok: false, message: '--absent, --port: Required value: give at least one, or the gate would have nothing to wait for' };
  }
  const interval = parseDurationFlag('interval', values.interval ?? DEFAULT_INTERVAL);
  if (!interval.ok) return interval;
  const timeout = parseDurationFlag('timeout', values.timeout ?? '0', true);
  if (!timeout.ok) return timeout;
  const openIfAbsentAtStart = values['open-if-absent-at-start'] === true;
  if (openIfAbsentAtStart && absent.length === 0) {
    return { ok: false, message: '--open-if-absent-at-start: Invalid value: true: needs at least one --absent file to check' };
  }
  return { ok: true, value: { absent, openIfAbsentAtStart, ports, intervalMs: interval.value, timeoutMs: timeout.value } };
}

/** SIGTERM/SIGINT as an AbortSignal, with a way to remove the handlers. */
function processSignal(): { signal: AbortSignal; release: () => void } {
  const ctl = new AbortController();
  const onSignal = (): void => ctl.abort();
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

async function gate(opts: GateCommandOptions, io: CliIo, deps: Partial<GateCommandDeps>): Promise<number> {
  // Node as PID 1 of a container gets no default SIGTERM handling: without ours it would only die
  // by SIGKILL at the end of the grace period.
  const stop = deps.signal === undefined ? processSignal() : { signal: deps.signal, release: () => undefined };
  try {
    const outcome = await waitForGate(
      {
        ...opts,
        procNetPaths: deps.procNetPaths ?? PROC_NET_TCP,
        probe: deps.probe ?? nodeGateProbe(),
        logger: deps.logger ?? pino({ name: 'selfhost-gate' }),
        ...(deps.clock === undefined ? {} : { clock: deps.clock }),
      },
      stop.signal,
    );
    if (outcome.kind === 'open') return EXIT_OK;
    const why = outcome.kind === 'timeout' ? `timed out after ${opts.timeoutMs}ms` : 'stopped';
    io.err(`selfhost gate: ${why} while waiting: ${outcome.blockers.join('; ')}`);
    return EXIT_REFUSED;
  } finally {
    stop.release();
  }
}

export function runGate(argv: string[], io: CliIo, deps: Partial<GateCommandDeps> = {}): number | Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    io.out(GATE_USAGE);
    return EXIT_OK;
  }
  const parsed = parseGateArgs(argv);
  if (!parsed.ok) {
    io.err(`selfhost gate: ${parsed.message}\n\n${GATE_USAGE}`);
    return EXIT_USAGE;
  }
  return gate(parsed.value, io, deps);
}
