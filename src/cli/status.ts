/**
 * `selfhost status` (`kubectl selfhost status`): the ControlPlane, its nodes' components, the plan,
 * checkpoints and last upgrade, read from the live cluster and printed by the pure view
 * (status-view.ts). `--watch` redraws whenever the ControlPlane changes (and, on a terminal, every
 * few seconds so running steps' times move); `-o json|yaml` prints the model itself.
 *
 * The watch survives the API going away — it does during the apiserver and etcd handovers the
 * command is there to show: the last frame stays, with a line saying since when the API does not
 * answer, and the watch resumes when it is back.
 */
import { dump } from 'js-yaml';
import { CONTROL_PLANE_NAME } from '../api/constants.js';
import { parseCommandArgs, stringOpt } from './args.js';
import { EXIT_OK, EXIT_REFUSED, EXIT_USAGE, type CliIo } from './io.js';
import { computeKubeConfigChoice, errorText, KUBECONFIG_OPTIONS, processLiveDeps, type LiveConnection, type LiveDeps } from './live-connect.js';
import { readLiveWorld, type LiveWorld } from './live-world.js';
import { computeStatusModel, type StatusModel } from './status-model.js';
import { computeStatusLines } from './status-view.js';

const OPTIONS = {
  name: { type: 'string' },
  output: { type: 'string', short: 'o' },
  watch: { type: 'boolean', short: 'w' },
  help: { type: 'boolean', short: 'h' },
  ...KUBECONFIG_OPTIONS,
} as const;

export const OUTPUT_FORMATS = ['text', 'json', 'yaml'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export function statusUsage(program: string): string {
  return [
    `usage: ${program} status [--name NAME] [-o json|yaml] [-w|--watch] [--kubeconfig PATH] [--context NAME]`,
    '',
    `  --name NAME        the ControlPlane (default ${CONTROL_PLANE_NAME})`,
    '  -o, --output FMT   json or yaml: the same model as a document (default: text)',
    '  -w, --watch        redraw whenever it changes; Ctrl-C ends it',
    '  --kubeconfig PATH  default $KUBECONFIG, ~/.kube/config, or in-cluster',
    '  --context NAME     a kubeconfig context other than the current one',
  ].join('\n');
}

export interface StatusDeps extends LiveDeps {
  /** Aborted (SIGINT) to end --watch. */
  readonly signal: AbortSignal;
  /** On a terminal: clears it before each frame. Absent: frames are appended, a blank line apart. */
  readonly clearScreen?: () => void;
  /** How often a terminal redraws without a change (running steps' times). */
  readonly refreshMs: number;
  /** First wait before retrying an API that does not answer (doubles, up to 30 s). */
  readonly retryMs: number;
  sleep(ms: number, signal: AbortSignal): Promise<void>;
}

/** Resolves after ms, or at once when the signal aborts. */
export function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/** The process-wired command: SIGINT ends --watch with exit code 0. */
export async function runStatus(argv: string[], io: CliIo, program = 'selfhost'): Promise<number> {
  const stop = new AbortController();
  const onSigint = (): void => stop.abort();
  process.once('SIGINT', onSigint);
  try {
    return await runStatusWith(argv, io, program, {
      ...processLiveDeps(),
      signal: stop.signal,
      ...(process.stdout.isTTY ? { clearScreen: () => process.stdout.write('\x1b[H\x1b[2J') } : {}),
      refreshMs: 2000,
      retryMs: 1000,
      sleep: abortableSleep,
    });
  } finally {
    process.removeListener('SIGINT', onSigint);
  }
}

export function parseOutputFormat(text: string | undefined): OutputFormat | undefined {
  const f = text ?? 'text';
  return (OUTPUT_FORMATS as readonly string[]).includes(f) ? (f as OutputFormat) : undefined;
}

/** One frame in the chosen format. */
export function computeStatusFrame(model: StatusModel, format: OutputFormat): string {
  switch (format) {
    case 'json':
      return JSON.stringify(model, null, 2);
    case 'yaml':
      return dump(model, { noRefs: true, lineWidth: -1 }).trimEnd();
    case 'text':
      return computeStatusLines(model).join('\n');
  }
}

export async function runStatusWith(argv: string[], io: CliIo, program: string, deps: StatusDeps): Promise<number> {
  const parsed = parseCommandArgs(argv, OPTIONS);
  if (!parsed.ok) {
    io.err(`${program} status: ${parsed.message}\n${statusUsage(program)}`);
    return EXIT_USAGE;
  }
  if (parsed.values['help'] === true) {
    io.out(statusUsage(program));
    return EXIT_OK;
  }
  if (parsed.positionals.length > 0) {
    io.err(`${program} status: unexpected argument ${JSON.stringify(parsed.positionals[0])}: name the ControlPlane with --name\n${statusUsage(program)}`);
    return EXIT_USAGE;
  }
  const outputText = stringOpt(parsed.values, 'output');
  const format = parseOutputFormat(outputText);
  if (format === undefined) {
    io.err(`${program} status: -o/--output: Unsupported value: ${JSON.stringify(outputText)}: supported values: json, yaml\n${statusUsage(program)}`);
    return EXIT_USAGE;
  }
  const name = stringOpt(parsed.values, 'name') ?? CONTROL_PLANE_NAME;
  let conn: LiveConnection;
  try {
    conn = deps.connect(computeKubeConfigChoice(parsed.values));
  } catch (err) {
    io.err(`${program} status: ${errorText(err)}`);
    return EXIT_USAGE;
  }
  const render = (world: LiveWorld): { frame: string; found: boolean } => {
    const model = computeStatusModel({ name, ...world, now: deps.now() });
    return { frame: computeStatusFrame(model, format), found: model.found };
  };
  // Appended frames need a separator a reader of the format understands: YAML's document marker.
  if (parsed.values['watch'] === true) return watchStatus(name, render, format === 'yaml' ? '---' : '', io, conn, deps);
  try {
    const { frame, found } = render(await readLiveWorld(conn.client, name, deps.signal));
    io.out(frame);
    return found ? EXIT_OK : EXIT_REFUSED;
  } catch (err) {
    io.err(`${program} status: ${deps.signal.aborted ? 'interrupted' : errorText(err)}`);
    return EXIT_REFUSED;
  }
}

/**
 * The --watch loop: list the ControlPlane (for a resourceVersion), draw, watch from there and
 * redraw on every event; when the watch ends, list again; when the API does not answer, keep the
 * last frame, say so, and retry with a growing pause. Ends when deps.signal aborts.
 */
async function watchStatus(
  name: string,
  render: (world: LiveWorld) => { frame: string },
  separator: string,
  io: CliIo,
  conn: LiveConnection,
  deps: StatusDeps,
): Promise<number> {
  const { signal } = deps;
  let frame: string | undefined;
  let problem: string | undefined;
  let shown: string | undefined;
  const show = (): void => {
    if (frame === undefined && problem === undefined) return;
    if (deps.clearScreen === undefined) {
      // Appended output (a pipe, a file, a test): each new frame once; problems go to stderr.
      if (frame !== undefined && frame !== shown) {
        if (shown !== undefined) io.out(separator);
        io.out(frame);
        shown = frame;
      }
      return;
    }
    const screen = [frame ?? `waiting for ControlPlane ${name}…`, ...(problem === undefined ? [] : ['', `! ${problem}`])].join('\n');
    if (screen === shown) return;
    deps.clearScreen();
    io.out(screen);
    shown = screen;
  };
  let failingSince: Date | undefined;
  const report = (err: unknown): void => {
    if (signal.aborted) return;
    failingSince ??= deps.now();
    const text = `the API does not answer since ${failingSince.toISOString()}: ${errorText(err)}; retrying`;
    if (deps.clearScreen === undefined && text !== problem) io.err(text);
    problem = text;
    show();
  };

  // Draws never overlap; events during a draw queue one more (not one per event).
  let queued = false;
  let chain: Promise<void> = Promise.resolve();
  const refresh = (): void => {
    if (queued) return;
    queued = true;
    chain = chain.then(async () => {
      queued = false;
      try {
        const world = await readLiveWorld(conn.client, name, signal);
        failingSince = undefined;
        problem = undefined;
        frame = render(world).frame;
        show();
      } catch (err) {
        report(err);
      }
    });
  };

  const source = conn.watchControlPlane(name);
  const timer = deps.clearScreen === undefined ? undefined : setInterval(refresh, deps.refreshMs);
  let delay = deps.retryMs;
  try {
    while (!signal.aborted) {
      let resourceVersion: string;
      try {
        resourceVersion = (await source.list(signal)).resourceVersion;
      } catch (err) {
        report(err);
        await deps.sleep(delay, signal);
        delay = Math.min(delay * 2, 30_000);
        continue;
      }
      delay = deps.retryMs;
      refresh();
      const ended = await new Promise<unknown>((resolve) => {
        // The source may stay silent once the signal aborts: the abort ends the wait too.
        const onAbort = (): void => resolve(undefined);
        signal.addEventListener('abort', onAbort, { once: true });
        source.watch(resourceVersion, signal, refresh, (err) => {
          signal.removeEventListener('abort', onAbort);
          resolve(err);
        });
      });
      // A watch that broke (410 Gone, a dropped stream) is listed again after a pause; whether the
      // API answers is for that list to find out (and report).
      if (ended !== undefined) await deps.sleep(delay, signal);
    }
  } finally {
    if (timer !== undefined) clearInterval(timer);
    await chain;
  }
  return EXIT_OK;
}
