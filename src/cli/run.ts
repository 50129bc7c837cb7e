/**
 * `selfhost run`: the operator. In a cluster it uses the pod's service account; outside (development,
 * the e2e) a kubeconfig. Flags:
 *   --agent-image IMAGE     image of the node agent and etcd's handover gate (required, or SELFHOST_IMAGE)
 *   --kubeconfig PATH       default: in-cluster when KUBERNETES_SERVICE_HOST is set, else $KUBECONFIG / ~/.kube/config
 *   --metrics-addr HOST:PORT  /metrics, /healthz, /readyz (default :8080; port 0 = any)
 *   --leader-elect BOOL     default true
 *   --identity ID           default: $POD_NAME or hostname, plus a random suffix
 *   --log-level LEVEL       default info
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { KubeConfig } from '../kube/client-node.js';
import { createLogger } from '../operator/logger.js';
import { runOperator as startOperator } from '../operator/operator.js';
import { parseCommandArgs, stringOpt } from './args.js';
import { EXIT_USAGE, type CliIo } from './io.js';

const OPTIONS = {
  'agent-image': { type: 'string' },
  kubeconfig: { type: 'string' },
  'metrics-addr': { type: 'string' },
  'leader-elect': { type: 'string' },
  identity: { type: 'string' },
  'log-level': { type: 'string' },
} as const;

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
type Level = (typeof LEVELS)[number];

/** `host:port`, `:port` → host '' (all interfaces); undefined when malformed. */
export function parseListenAddress(text: string): { host: string; port: number } | undefined {
  const m = /^(.*):([0-9]{1,5})$/.exec(text);
  if (!m) return undefined;
  const port = Number(m[2]);
  if (port > 65535) return undefined;
  return { host: (m[1] ?? '').replace(/^\[(.*)\]$/, '$1'), port };
}

export function loadKubeConfig(path: string | undefined): KubeConfig {
  const kc = new KubeConfig();
  if (path !== undefined) kc.loadFromFile(path);
  else if (process.env['KUBERNETES_SERVICE_HOST'] !== undefined) kc.loadFromCluster();
  else kc.loadFromDefault();
  return kc;
}

export async function runOperator(argv: string[], io: CliIo): Promise<number> {
  const parsed = parseCommandArgs(argv, OPTIONS);
  if (!parsed.ok) {
    io.err(`selfhost run: ${parsed.message}`);
    return EXIT_USAGE;
  }
  const v = parsed.values;
  const image = stringOpt(v, 'agent-image') ?? process.env['SELFHOST_IMAGE'];
  if (image === undefined || image === '') {
    io.err('selfhost run: --agent-image: Required value: the image of the node agent (or set SELFHOST_IMAGE)');
    return EXIT_USAGE;
  }
  const addrText = stringOpt(v, 'metrics-addr') ?? ':8080';
  const addr = parseListenAddress(addrText);
  if (addr === undefined) {
    io.err(`selfhost run: --metrics-addr: Invalid value: "${addrText}": HOST:PORT or :PORT`);
    return EXIT_USAGE;
  }
  const electText = stringOpt(v, 'leader-elect') ?? 'true';
  if (electText !== 'true' && electText !== 'false') {
    io.err(`selfhost run: --leader-elect: Invalid value: "${electText}": true or false`);
    return EXIT_USAGE;
  }
  const levelText = stringOpt(v, 'log-level') ?? 'info';
  if (!(LEVELS as readonly string[]).includes(levelText)) {
    io.err(`selfhost run: --log-level: Unsupported value: "${levelText}": supported values: ${LEVELS.join(', ')}`);
    return EXIT_USAGE;
  }
  let kc: KubeConfig;
  try {
    kc = loadKubeConfig(stringOpt(v, 'kubeconfig'));
  } catch (err) {
    io.err(`selfhost run: --kubeconfig: ${err instanceof Error ? err.message : String(err)}`);
    return EXIT_USAGE;
  }
  const identity =
    stringOpt(v, 'identity') ?? `${process.env['POD_NAME'] ?? hostname()}_${randomBytes(4).toString('hex')}`;
  const logger = createLogger({ level: levelText as Level, name: 'selfhost-operator' });
  const stop = new AbortController();
  const onSignal = (sig: string): void => {
    logger.info({ signal: sig }, 'stopping');
    stop.abort();
  };
  process.once('SIGTERM', () => onSignal('SIGTERM'));
  process.once('SIGINT', () => onSignal('SIGINT'));
  try {
    return await startOperator(
      {
        kc,
        image,
        metricsHost: addr.host,
        metricsPort: addr.port,
        identity,
        leaderElect: electText === 'true',
        logger,
      },
      stop.signal,
    );
  } catch (err) {
    logger.fatal({ err }, 'operator failed');
    return 1;
  }
}
