import { describePlan, planFromTo } from '../plan/index.js';
import { parseCommandArgs, stringOpt } from './args.js';
import { EXIT_OK, EXIT_REFUSED, EXIT_USAGE, type CliIo } from './io.js';

export const PLAN_USAGE =
  'usage: selfhost plan --from vX.Y.Z --to vX.Y.Z [--etcd-version X.Y.Z] [--no-snapshot] [--aborting]';

/**
 * `selfhost plan --from v1.36.4 --to v1.37.2`: the ordered steps the operator would take on a
 * settled cluster at --from, or the refusal and its reason. --aborting plans the abort of an
 * upgrade that started at --to (the only way a minor downgrade is allowed).
 */
export function runPlan(argv: string[], io: CliIo): number {
  const parsed = parseCommandArgs(argv, {
    from: { type: 'string' },
    to: { type: 'string' },
    'etcd-version': { type: 'string' },
    'no-snapshot': { type: 'boolean' },
    aborting: { type: 'boolean' },
  });
  if (!parsed.ok) {
    io.err(`${parsed.message}\n${PLAN_USAGE}`);
    return EXIT_USAGE;
  }
  const from = stringOpt(parsed.values, 'from');
  const to = stringOpt(parsed.values, 'to');
  if (from === undefined || to === undefined || parsed.positionals.length > 0) {
    io.err(PLAN_USAGE);
    return EXIT_USAGE;
  }
  const etcdVersion = stringOpt(parsed.values, 'etcd-version');
  const result = planFromTo(from, to, {
    snapshotBeforeUpgrade: parsed.values['no-snapshot'] !== true,
    ...(etcdVersion !== undefined ? { etcdVersionOverride: etcdVersion } : {}),
    ...(parsed.values['aborting'] === true ? { inProgress: { operation: 'Upgrade', fromVersion: to } } : {}),
  });
  const lines = describePlan(result);
  for (const line of lines) (result.ok ? io.out : io.err)(line);
  return result.ok ? EXIT_OK : EXIT_REFUSED;
}
