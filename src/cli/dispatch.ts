import { EXIT_OK, EXIT_USAGE, type CliIo } from './io.js';
import { runAgent } from './agent.js';
import { runEtcdSnapshot } from './etcd-snapshot.js';
import { runGate } from './gate.js';
import { runPlan } from './plan.js';
import { runRender } from './render.js';
import { runOperator } from './run.js';
import { runValidate } from './validate.js';

type Command = (argv: string[], io: CliIo) => number | Promise<number>;

const COMMANDS: Record<string, { run: Command; summary: string }> = {
  validate: { run: runValidate, summary: 'check a ControlPlane file as admission would (offline)' },
  render: { run: runRender, summary: 'print the workloads the operator would create from static pod manifests' },
  plan: { run: runPlan, summary: 'print the ordered upgrade steps between two versions, or the refusal' },
  run: { run: runOperator, summary: 'run the operator (reconciles the ControlPlane; leader-elected)' },
  agent: { run: runAgent, summary: 'run the node agent (retires/restores static manifests on this node)' },
  gate: { run: runGate, summary: 'wait until a static component is gone from this node (init container)' },
  'etcd-snapshot': { run: runEtcdSnapshot, summary: 'take a verified etcd snapshot on this node (pre-upgrade Job)' },
};

export function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  return [
    'usage: selfhost <command> [options]',
    '',
    'commands:',
    ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`),
  ].join('\n');
}

/** Runs `selfhost <command> ...` and returns the exit code. */
export function dispatch(argv: string[], io: CliIo): number | Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    io.out(usage());
    return name === undefined ? EXIT_USAGE : EXIT_OK;
  }
  const command = COMMANDS[name];
  if (!command) {
    io.err(`unknown command "${name}"; allowed: ${Object.keys(COMMANDS).join(', ')}\n\n${usage()}`);
    return EXIT_USAGE;
  }
  return command.run(rest, io);
}
