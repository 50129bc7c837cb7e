import { CONTROL_PLANE_NAME } from '../api/constants.js';
import { describePlan, planFromTo } from '../plan/index.js';
import { parseCommandArgs, stringOpt } from './args.js';
import { EXIT_OK, EXIT_REFUSED, EXIT_USAGE, type CliIo } from './io.js';
import { computeKubeConfigChoice, errorText, KUBECONFIG_OPTIONS, processLiveDeps, type LiveDeps } from './live-connect.js';
import { computeLivePlan } from './live-plan.js';
import { computeLivePlanLines } from './live-plan-view.js';
import { readLiveWorld } from './live-world.js';

export function planUsage(program: string): string {
  return [
    `usage: ${program} plan [--to vX.Y.Z] [--name NAME] [--etcd-version X.Y.Z] [--no-snapshot] [--kubeconfig PATH] [--context NAME]`,
    `       ${program} plan --from vX.Y.Z --to vX.Y.Z [--etcd-version X.Y.Z] [--no-snapshot] [--aborting]`,
    '',
    'Without --from: the live cluster — which versions it can move to now and the steps each takes',
    '(or why not); --to plans just that one. With --from: offline, for a settled cluster at --from.',
  ].join('\n');
}

const OPTIONS = {
  from: { type: 'string' },
  to: { type: 'string' },
  name: { type: 'string' },
  'etcd-version': { type: 'string' },
  'no-snapshot': { type: 'boolean' },
  aborting: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  ...KUBECONFIG_OPTIONS,
} as const;

/** Flags that only the live form reads. */
const LIVE_ONLY = ['name', 'kubeconfig', 'context'] as const;

/**
 * `selfhost plan --from v1.36.4 --to v1.37.2`: the ordered steps the operator would take on a
 * settled cluster at --from, or the refusal and its reason. --aborting plans the abort of an
 * upgrade that started at --to (the only way a minor downgrade is allowed).
 *
 * `selfhost plan [--to v1.37.2]` (no --from): the same against the live cluster (live-plan.ts).
 * The offline form answers synchronously (its tests rely on it); the live one returns a promise.
 */
export function runPlan(argv: string[], io: CliIo, program = 'selfhost', deps: LiveDeps = processLiveDeps()): number | Promise<number> {
  const parsed = parseCommandArgs(argv, OPTIONS);
  const usage = planUsage(program);
  if (!parsed.ok) {
    io.err(`${parsed.message}\n${usage}`);
    return EXIT_USAGE;
  }
  const v = parsed.values;
  if (v['help'] === true) {
    io.out(usage);
    return EXIT_OK;
  }
  if (parsed.positionals.length > 0) {
    io.err(`unexpected argument ${JSON.stringify(parsed.positionals[0])}\n${usage}`);
    return EXIT_USAGE;
  }
  const from = stringOpt(v, 'from');
  const to = stringOpt(v, 'to');
  const etcdVersion = stringOpt(v, 'etcd-version');
  const snapshotBeforeUpgrade = v['no-snapshot'] !== true;
  if (from === undefined) {
    if (v['aborting'] === true) {
      io.err(`--aborting: only with --from (the live plan reads the upgrade in progress from the cluster)\n${usage}`);
      return EXIT_USAGE;
    }
    return runLivePlan(io, program, deps, {
      name: stringOpt(v, 'name') ?? CONTROL_PLANE_NAME,
      values: v,
      ...(to === undefined ? {} : { to }),
      ...(etcdVersion === undefined ? {} : { etcdVersionOverride: etcdVersion }),
      ...(v['no-snapshot'] === true ? { snapshotBeforeUpgrade: false } : {}),
    });
  }
  const live = LIVE_ONLY.find((f) => v[f] !== undefined);
  if (to === undefined || live !== undefined) {
    io.err(`${live === undefined ? '--to: Required value with --from' : `--${live}: only without --from (it reads the live cluster)`}\n${usage}`);
    return EXIT_USAGE;
  }
  const result = planFromTo(from, to, {
    snapshotBeforeUpgrade,
    ...(etcdVersion !== undefined ? { etcdVersionOverride: etcdVersion } : {}),
    ...(v['aborting'] === true ? { inProgress: { operation: 'Upgrade', fromVersion: to } } : {}),
  });
  const lines = describePlan(result);
  for (const line of lines) (result.ok ? io.out : io.err)(line);
  return result.ok ? EXIT_OK : EXIT_REFUSED;
}

interface LivePlanRequest {
  readonly name: string;
  readonly values: Record<string, string | boolean | undefined>;
  readonly to?: string;
  readonly etcdVersionOverride?: string;
  readonly snapshotBeforeUpgrade?: boolean;
}

/** Exit 0 when the cluster could be planned (with --to: when that version is possible), 1 otherwise. */
async function runLivePlan(io: CliIo, program: string, deps: LiveDeps, req: LivePlanRequest): Promise<number> {
  let conn;
  try {
    conn = deps.connect(computeKubeConfigChoice(req.values));
  } catch (err) {
    io.err(`${program} plan: ${errorText(err)}`);
    return EXIT_USAGE;
  }
  let world;
  try {
    world = await readLiveWorld(conn.client, req.name);
  } catch (err) {
    io.err(`${program} plan: ${errorText(err)}`);
    return EXIT_REFUSED;
  }
  const model = computeLivePlan(
    { name: req.name, ...(world.controlPlane === undefined ? {} : { controlPlane: world.controlPlane }), nodes: world.nodes, pods: world.pods, workloads: world.workloads },
    {
      ...(req.to === undefined ? {} : { to: req.to }),
      ...(req.etcdVersionOverride === undefined ? {} : { etcdVersionOverride: req.etcdVersionOverride }),
      ...(req.snapshotBeforeUpgrade === undefined ? {} : { snapshotBeforeUpgrade: req.snapshotBeforeUpgrade }),
    },
  );
  for (const line of computeLivePlanLines(model, program)) io.out(line);
  if (model.running === undefined) return EXIT_REFUSED;
  if (req.to !== undefined) return model.candidates.every((c) => c.result.ok) ? EXIT_OK : EXIT_REFUSED;
  return EXIT_OK;
}
