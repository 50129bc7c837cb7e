import { EXIT_OK, EXIT_USAGE, type CliIo } from './io.js';
import { runAgent } from './agent.js';
import { runEtcdSnapshot } from './etcd-snapshot.js';
import { runGate } from './gate.js';
import { runPlan } from './plan.js';
import { runRender } from './render.js';
import { runOperator } from './run.js';
import { runStatus } from './status.js';
import { runValidate } from './validate.js';

/**
 * `program` is how the user called us (`selfhost`, `kubectl selfhost`), for usage texts. Commands
 * are wrapped: their own third parameters are injected dependencies for tests.
 */
type Command = (argv: string[], io: CliIo, program: string) => number | Promise<number>;

const COMMANDS: Record<string, { run: Command; summary: string }> = {
  validate: { run: (argv, io) => runValidate(argv, io), summary: 'check a ControlPlane file as admission would (offline)' },
  render: { run: (argv, io) => runRender(argv, io), summary: 'print the workloads the operator would create from static pod manifests' },
  plan: { run: (argv, io, program) => runPlan(argv, io, program), summary: 'which versions the live cluster can move to and the steps (or, with --from, offline)' },
  status: { run: (argv, io, program) => runStatus(argv, io, program), summary: 'show the ControlPlane: phase, components per node, plan, checkpoints (live; --watch)' },
  run: { run: (argv, io) => runOperator(argv, io), summary: 'run the operator (reconciles the ControlPlane; leader-elected)' },
  agent: { run: (argv, io) => runAgent(argv, io), summary: 'run the node agent (retires/restores static manifests on this node)' },
  gate: { run: (argv, io) => runGate(argv, io), summary: 'wait until a static component is gone from this node (init container)' },
  'etcd-snapshot': { run: (argv, io) => runEtcdSnapshot(argv, io), summary: 'take a verified etcd snapshot on this node (pre-upgrade Job)' },
};

/** The executable's name as kubectl's plugin mechanism runs it. */
export const PLUGIN_EXECUTABLE = 'kubectl-selfhost';

/** `kubectl selfhost` when run as the kubectl plugin (argv[1] is the link's name), else `selfhost`. */
export function computeProgramName(scriptPath: string | undefined): string {
  const base = (scriptPath ?? '').split(/[\\/]/).pop() ?? '';
  return base.replace(/\.(m?js|ts)$/, '') === PLUGIN_EXECUTABLE ? 'kubectl selfhost' : 'selfhost';
}

export function usage(program = 'selfhost'): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  return [
    `usage: ${program} <command> [options]`,
    '',
    'commands:',
    ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`),
    '',
    'Exit codes: 0 done, 1 refused or failed, 2 bad usage.',
  ].join('\n');
}

/** Runs `selfhost <command> ...` and returns the exit code. */
export function dispatch(argv: string[], io: CliIo, program = 'selfhost'): number | Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    io.out(usage(program));
    return name === undefined ? EXIT_USAGE : EXIT_OK;
  }
  const command = COMMANDS[name];
  if (!command) {
    io.err(`unknown command "${name}"; allowed: ${Object.keys(COMMANDS).join(', ')}\n\n${usage(program)}`);
    return EXIT_USAGE;
  }
  return command.run(rest, io, program);
}
