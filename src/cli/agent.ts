/**
 * `selfhost agent`: the node agent (a DaemonSet on control-plane nodes). Flags are checked here;
 * the loop lives in src/agent.
 */
import { KubeConfig } from '../kube/client-node.js';
import { pino } from 'pino';
import { DEFAULT_BACKUP_DIR, agentConfigMapName } from '../api/agent.js';
import { NodeAgent } from '../agent/agent.js';
import { DEFAULT_CHECKPOINT_BIN, DEFAULT_CHECKPOINT_RUN_DIR } from '../agent/checkpoints.js';
import { GATE_EXEC_IMAGE_PATH } from '../convert/mutators/handover-gate.js';
import { readFile } from 'node:fs/promises';
import type { AgentConfigMap } from '../agent/configmap.js';
import { nodeDisk } from '../agent/disk.js';
import { isWithinDir, parseDirFlag, parseDurationFlag, parseNodeFlag, type Checked } from '../agent/flags.js';
import { realClock } from '../controller/clock.js';
import { kubeListWatch } from '../controller/kube-list-watch.js';
import { kubeClient } from '../kube/client.js';
import { parseCommandArgs, stringOpt } from './args.js';
import { EXIT_OK, EXIT_REFUSED, EXIT_USAGE, type CliIo } from './io.js';

export const DEFAULT_MANIFEST_DIR = '/etc/kubernetes/manifests';
const DEFAULT_NAMESPACE = 'kube-system';
const DEFAULT_INTERVAL = '2s';

export const AGENT_USAGE = `usage: selfhost agent --node <name> [options]

Keeps this node's static pod manifests as the operator's desired.json (ConfigMap
<namespace>/selfhost-agent-<node>) says, backing up originals first, and reports the
manifest directory, the backups and any conflicts in observed.json.

options:
  --node <name>          this node's name (default: $NODE_NAME; required)
  --manifest-dir <dir>   static pod manifests (default ${DEFAULT_MANIFEST_DIR})
  --backup-dir <dir>     originals of changed manifests (default ${DEFAULT_BACKUP_DIR});
                         must not be inside --manifest-dir
  --namespace <ns>       namespace of the agent ConfigMap (default ${DEFAULT_NAMESPACE})
  --interval <duration>  disk rescan period, a Go duration (default ${DEFAULT_INTERVAL})
  --kubeconfig <file>    kubeconfig (default: in-cluster when $KUBERNETES_SERVICE_HOST is set,
                         else $KUBECONFIG or ~/.kube/config)`;

export type KubeconfigSource = { kind: 'file'; path: string } | { kind: 'in-cluster' } | { kind: 'default' };

export interface AgentCommandOptions {
  node: string;
  namespace: string;
  manifestDir: string;
  backupDir: string;
  intervalMs: number;
  kubeconfig: KubeconfigSource;
}

export interface AgentCommandDeps {
  env: Readonly<Record<string, string | undefined>>;
  /** Runs the agent until it is stopped; returns the exit code. */
  start(opts: AgentCommandOptions, io: CliIo): Promise<number>;
}

const OPTIONS = {
  node: { type: 'string' },
  'manifest-dir': { type: 'string' },
  'backup-dir': { type: 'string' },
  namespace: { type: 'string' },
  interval: { type: 'string' },
  kubeconfig: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** The command line (and environment) as options, or a usage message naming the flag. */
export function parseAgentArgs(argv: string[], env: AgentCommandDeps['env']): Checked<AgentCommandOptions> {
  const parsed = parseCommandArgs(argv, OPTIONS);
  if (!parsed.ok) return { ok: false, message: parsed.message };
  if (parsed.positionals.length > 0) {
    return { ok: false, message: `unexpected argument ${JSON.stringify(parsed.positionals[0])}: selfhost agent takes only options` };
  }
  const v = parsed.values;
  const nodeText = stringOpt(v, 'node') ?? env['NODE_NAME'];
  if (nodeText === undefined || nodeText === '') {
    return { ok: false, message: '--node: Required value: give --node or set NODE_NAME (the downward API spec.nodeName)' };
  }
  const node = parseNodeFlag(nodeText);
  if (!node.ok) return node;
  const manifestDir = parseDirFlag('manifest-dir', stringOpt(v, 'manifest-dir') ?? DEFAULT_MANIFEST_DIR);
  if (!manifestDir.ok) return manifestDir;
  const backupDir = parseDirFlag('backup-dir', stringOpt(v, 'backup-dir') ?? DEFAULT_BACKUP_DIR);
  if (!backupDir.ok) return backupDir;
  // The kubelet runs every non-hidden file under the manifest directory's top level; a backup
  // there would run the original next to its replacement. Parents are refused too: the agent
  // would report the backup directory's files as manifests.
  if (isWithinDir(backupDir.value, manifestDir.value) || isWithinDir(manifestDir.value, backupDir.value)) {
    return {
      ok: false,
      message: `--backup-dir: invalid value ${JSON.stringify(backupDir.value)}: must be outside --manifest-dir ${manifestDir.value} (and not contain it)`,
    };
  }
  const namespace = stringOpt(v, 'namespace') ?? DEFAULT_NAMESPACE;
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(namespace) || namespace.length > 63) {
    return { ok: false, message: `--namespace: invalid value ${JSON.stringify(namespace)}: must be a DNS-1123 label` };
  }
  const interval = parseDurationFlag('interval', stringOpt(v, 'interval') ?? DEFAULT_INTERVAL);
  if (!interval.ok) return interval;
  const file = stringOpt(v, 'kubeconfig');
  const kubeconfig: KubeconfigSource =
    file !== undefined
      ? { kind: 'file', path: file }
      : (env['KUBERNETES_SERVICE_HOST'] ?? '') !== ''
        ? { kind: 'in-cluster' }
        : { kind: 'default' };
  return {
    ok: true,
    value: {
      node: node.value,
      namespace,
      manifestDir: manifestDir.value,
      backupDir: backupDir.value,
      intervalMs: interval.value,
      kubeconfig,
    },
  };
}

function loadKubeConfig(source: KubeconfigSource): KubeConfig {
  const kc = new KubeConfig();
  if (source.kind === 'file') kc.loadFromFile(source.path);
  else if (source.kind === 'in-cluster') kc.loadFromCluster();
  else kc.loadFromDefault();
  return kc;
}

/** The real agent: API client, watch, node:fs, JSON logs on stdout; SIGTERM/SIGINT stop it. */
async function startAgent(opts: AgentCommandOptions, io: CliIo): Promise<number> {
  let kc: KubeConfig;
  try {
    kc = loadKubeConfig(opts.kubeconfig);
  } catch (err) {
    const what = opts.kubeconfig.kind === 'file' ? `--kubeconfig ${JSON.stringify(opts.kubeconfig.path)}` : `${opts.kubeconfig.kind} kubeconfig`;
    io.err(`selfhost agent: loading ${what}: ${err instanceof Error ? err.message : String(err)}`);
    return opts.kubeconfig.kind === 'file' ? EXIT_USAGE : EXIT_REFUSED;
  }
  const logger = pino({ name: 'selfhost-agent', base: { node: opts.node } });
  const stop = new AbortController();
  const onSignal = (signal: NodeJS.Signals): void => {
    logger.info({ signal }, 'stopping');
    stop.abort();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  try {
    const agent = new NodeAgent({
      node: opts.node,
      namespace: opts.namespace,
      manifestDir: opts.manifestDir,
      backupDir: opts.backupDir,
      intervalMs: opts.intervalMs,
      client: kubeClient(kc),
      source: kubeListWatch<AgentConfigMap>({
        kc,
        path: `/api/v1/namespaces/${opts.namespace}/configmaps`,
        fieldSelector: `metadata.name=${agentConfigMapName(opts.node)}`,
      }),
      disk: nodeDisk(),
      logger,
      clock: realClock(),
      checkpoints: {
        paths: { manifestDir: opts.manifestDir, binPath: DEFAULT_CHECKPOINT_BIN, runDir: DEFAULT_CHECKPOINT_RUN_DIR },
        // The supervisor ships in this image (the etcd gate's binary); read once per install.
        source: () => readFile(GATE_EXEC_IMAGE_PATH),
      },
    });
    await agent.run(stop.signal);
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
  return EXIT_OK;
}

export function runAgent(argv: string[], io: CliIo, deps: Partial<AgentCommandDeps> = {}): number | Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    io.out(AGENT_USAGE);
    return EXIT_OK;
  }
  const parsed = parseAgentArgs(argv, deps.env ?? process.env);
  if (!parsed.ok) {
    io.err(`selfhost agent: ${parsed.message}\n\n${AGENT_USAGE}`);
    return EXIT_USAGE;
  }
  return (deps.start ?? startAgent)(parsed.value, io);
}
