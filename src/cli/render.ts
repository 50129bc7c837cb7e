import { dump, load } from 'js-yaml';
import { formatFieldError, validateControlPlane } from '../api/validate.js';
import { computeDesiredWorkloads } from '../convert/index.js';
import type { ManifestSource } from '../convert/parse.js';
import { readRunningVersion } from '../convert/running-version.js';
import { formatIgnored, formatRefusal, isIgnored } from '../convert/refusal.js';
import { parseCommandArgs, stringOpt } from './args.js';
import { EXIT_OK, EXIT_REFUSED, EXIT_USAGE, type CliIo } from './io.js';

export const RENDER_USAGE =
  'usage: selfhost render --manifests DIR [--version vX.Y.Z] [-f controlplane.yaml] [--control-plane-nodes N] [--node-name NAME]';

/**
 * `selfhost render --manifests /etc/kubernetes/manifests [--version v1.37.2]`: the workloads the
 * operator would apply, as multi-document YAML on stdout; anything it refuses goes to stderr with
 * the reason, and makes the exit code 1. Steps: 1. read every *.yaml/*.yml/*.json in DIR;
 * 2. build the spec (-f, else defaults) and the target version (--version, else the spec's, else
 * what the apiserver manifest runs, as the operator reads it: convert/running-version.ts); 3. convert; 4. print.
 */
export function runRender(argv: string[], io: CliIo): number {
  const parsed = parseCommandArgs(argv, {
    manifests: { type: 'string' },
    version: { type: 'string' },
    file: { type: 'string', short: 'f' },
    'control-plane-nodes': { type: 'string' },
    'node-name': { type: 'string' },
  });
  if (!parsed.ok) {
    io.err(`${parsed.message}\n${RENDER_USAGE}`);
    return EXIT_USAGE;
  }
  const dir = stringOpt(parsed.values, 'manifests');
  const nodesText = stringOpt(parsed.values, 'control-plane-nodes') ?? '1';
  const nodes = Number(nodesText);
  if (dir === undefined || parsed.positionals.length > 0 || !Number.isInteger(nodes) || nodes < 1) {
    io.err(`${RENDER_USAGE}${Number.isInteger(nodes) && nodes >= 1 ? '' : `\n--control-plane-nodes: "${nodesText}" is not a positive integer`}`);
    return EXIT_USAGE;
  }

  let manifests: ManifestSource[];
  try {
    manifests = io
      .listDir(dir)
      .filter((name) => /\.(ya?ml|json)$/.test(name))
      .sort()
      .map((name) => ({ path: `${dir.replace(/\/$/, '')}/${name}`, content: io.readFile(`${dir.replace(/\/$/, '')}/${name}`) }));
  } catch (err) {
    io.err(`${dir}: cannot read: ${err instanceof Error ? err.message : String(err)}`);
    return EXIT_REFUSED;
  }

  const given = stringOpt(parsed.values, 'version') ?? versionFromFile(io, parsed.values);
  const running = given === undefined ? readRunningVersion(manifests) : undefined;
  const version = given ?? (running?.ok === true ? running.version : undefined);
  if (version === undefined) {
    const why = running === undefined || running.ok ? '' : running.reason;
    io.err(`no target version (it is read from the kube-apiserver manifest in ${dir}): ${why}; pass --version vX.Y.Z or -f with spec.version`);
    return EXIT_REFUSED;
  }
  const spec = loadSpec(io, stringOpt(parsed.values, 'file'), version);
  if (!spec.ok) {
    for (const line of spec.lines) io.err(line);
    return EXIT_REFUSED;
  }

  // The node's name, as the operator has it from the Node object: etcd's member name is templated
  // only when it equals it. Without it the name is learned from the manifests (identity.ts).
  const nodeName = stringOpt(parsed.values, 'node-name');
  const result = computeDesiredWorkloads({
    manifests,
    spec: spec.value,
    version,
    controlPlaneNodes: nodes,
    ...(nodeName === undefined ? {} : { node: { name: nodeName } }),
  });
  if (result.workloads.length > 0) {
    io.out(result.workloads.map((w) => dump(w, { sortKeys: true, lineWidth: -1, noRefs: true }).trimEnd()).join('\n---\n'));
  }
  const refused = result.refusals.filter((r) => !isIgnored(r));
  for (const r of result.refusals.filter(isIgnored)) io.err(`ignored: ${formatIgnored(r)}`);
  for (const r of refused) io.err(`refused: ${formatRefusal(r)}`);
  return refused.length > 0 || result.workloads.length === 0 ? EXIT_REFUSED : EXIT_OK;
}

function versionFromFile(io: CliIo, values: Record<string, string | boolean | undefined>): string | undefined {
  const file = stringOpt(values, 'file');
  if (file === undefined) return undefined;
  try {
    const doc = load(io.readFile(file)) as { spec?: { version?: unknown } } | null;
    return typeof doc?.spec?.version === 'string' ? doc.spec.version : undefined;
  } catch {
    return undefined; // loadSpec reports the problem with the file
  }
}

/** The defaulted spec: from -f (validated like admission), else defaults with the version. */
function loadSpec(io: CliIo, file: string | undefined, version: string) {
  let doc: unknown = {
    apiVersion: 'selfhost.dev/v1alpha1',
    kind: 'ControlPlane',
    metadata: { name: 'cluster' },
    spec: { version },
  };
  if (file !== undefined) {
    try {
      doc = load(io.readFile(file));
    } catch (err) {
      return { ok: false as const, lines: [`${file}: ${err instanceof Error ? err.message : String(err)}`] };
    }
  }
  const result = validateControlPlane(doc);
  if (!result.ok) {
    return { ok: false as const, lines: [`${file ?? '--version'}: invalid`, ...result.errors.map((e) => `  ${formatFieldError(e)}`)] };
  }
  return { ok: true as const, value: result.value.spec };
}
