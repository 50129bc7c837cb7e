/**
 * The checkpoint of a self-hosted component on one node, as a static pod (pure): the proven
 * revision's pod template (the last known good: recorded only after its rollout passed the health
 * gate, so a crash-looping template never becomes a checkpoint), with its main container run by
 * the checkpoint supervisor (`selfhost-gate-exec checkpoint`, src/gate-exec/gate-exec.c).
 *
 * Steps (from the revision's workload object):
 *  1. the pod spec, without what a static pod cannot have or does not need: init containers (the
 *     handover gates, which wait for a manifest the checkpoint is not), placement (a static pod
 *     runs where its file is), service account, probes (a dormant supervisor would fail them and
 *     be restarted into a back-off at the very moment it must start) and resources (a dormant
 *     supervisor uses nothing, and requests would double the node's requested CPU);
 *  2. the main command unwrapped from etcd's `selfhost-gate-exec wait ... --` and wrapped in
 *     `selfhost-gate-exec checkpoint --standby=... --state=... --port=... --`;
 *  3. the node's own name and address written in for $(NODE_NAME) and $(HOST_IP) (a checkpoint is
 *     for one node, and after a cold boot the kubelet may not know the Node object yet);
 *  4. mounts of the supervisor binary (read-only) and of the marker directory;
 *  5. labels that select nothing of ours (`selfhost.dev/checkpoint-of`), so neither a workload nor
 *     the health gates ever count a checkpoint as the component; the revision in annotations.
 */
import { posix } from 'node:path';
import { dump } from 'js-yaml';
import type { V1Container, V1EnvVar, V1PodSpec, V1Volume } from '@kubernetes/client-node';
import { activePath, DEFAULT_CHECKPOINT_BIN, DEFAULT_CHECKPOINT_RUN_DIR, standbyPath } from '../agent/checkpoints.js';
import { ANNOTATION_TEMPLATE_HASH, LABEL_CHECKPOINT_OF, LABEL_MANAGED_BY, LABEL_VERSION, MANAGED_BY_VALUE, SYSTEM_NAMESPACE } from '../api/constants.js';
import type { Revision } from '../api/revisions.js';
import type { ComponentName } from '../api/types.js';
import { GATE_EXEC_PATH, GATE_EXEC_VOLUME, GATE_VOLUME } from '../convert/mutators/handover-gate.js';
import { fillNodeIdentity, HOST_IP, NODE_NAME } from '../convert/mutators/identity.js';
import { rec } from './snapshot.js';

export const CHECKPOINT_NAME_PREFIX = 'selfhost-checkpoint-';
export { LABEL_CHECKPOINT_OF };
export const ANNOTATION_CHECKPOINT_PROVEN_AT = 'selfhost.dev/proven-at';
/** Components that get a checkpoint: the ones nothing else can bring back after a cold boot. */
export const CHECKPOINTED: readonly ComponentName[] = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler'];

const DEFAULT_PORTS: Readonly<Record<string, number>> = {
  'kube-apiserver': 6443,
  'kube-controller-manager': 10257,
  'kube-scheduler': 10259,
};
const BIN_VOLUME = 'selfhost-checkpoint-bin';
const RUN_VOLUME = 'selfhost-checkpoint-run';

export interface CheckpointNode {
  readonly name: string;
  readonly ip?: string;
}

/** The ports the real instance listens on, and its command without etcd's handover gate. */
export function computeCheckpointCommand(component: ComponentName, main: V1Container): { ports: number[]; command: string[] } {
  const line = [...(main.command ?? []), ...(main.args ?? [])];
  if (line[0] === GATE_EXEC_PATH && line[1] === 'wait') {
    const sep = line.indexOf('--');
    const ports = line.slice(2, sep).filter((a) => a.startsWith('--port=')).map((a) => Number(a.slice('--port='.length)));
    return { ports, command: line.slice(sep + 1) };
  }
  const flag = line.find((a) => a.startsWith('--secure-port='));
  const port = flag === undefined ? DEFAULT_PORTS[component] : Number(flag.slice('--secure-port='.length));
  return { ports: port === undefined || !Number.isInteger(port) || port <= 0 ? [] : [port], command: line };
}

function omit<T extends object, K extends keyof T>(obj: T, keys: readonly K[]): Omit<T, K> {
  const out = { ...obj };
  for (const k of keys) Reflect.deleteProperty(out, k);
  return out;
}

/** The static pod manifest text of a component's checkpoint on a node (deterministic). */
export function computeDesiredCheckpointPod(component: ComponentName, revision: Revision, node: CheckpointNode): string {
  const template = rec(rec(revision.object['spec'])['template']);
  const spec = rec(template['spec']) as unknown as V1PodSpec;
  const [main, ...sidecars] = spec.containers;
  if (main === undefined) throw new Error(`the proven ${component} revision has no container`);
  const { ports, command } = computeCheckpointCommand(component, main);
  const substituted = new Set([NODE_NAME, ...(node.ip === undefined ? [] : [HOST_IP])]);
  const env = (main.env ?? []).filter((e: V1EnvVar) => !substituted.has(e.name));
  const supervisor = [
    posix.join('/', BIN_VOLUME, posix.basename(DEFAULT_CHECKPOINT_BIN)),
    'checkpoint',
    `--standby=${standbyPath(DEFAULT_CHECKPOINT_RUN_DIR, component)}`,
    `--state=${activePath(DEFAULT_CHECKPOINT_RUN_DIR, component)}`,
    ...ports.map((p) => `--port=${p}`),
    '--',
    ...command.map((a) => fillNodeIdentity(a, node)),
  ];
  // What a checkpoint drops (step 1): probes, resources, ports, and args (folded into command).
  const kept = omit(main, ['args', 'livenessProbe', 'readinessProbe', 'startupProbe', 'resources', 'ports', 'env']);
  const container: V1Container = {
    ...kept,
    command: supervisor,
    ...(env.length === 0 ? {} : { env }),
    volumeMounts: [
      ...(main.volumeMounts ?? []).filter((m) => m.name !== GATE_VOLUME && m.name !== GATE_EXEC_VOLUME),
      { name: BIN_VOLUME, mountPath: `/${BIN_VOLUME}`, readOnly: true },
      { name: RUN_VOLUME, mountPath: DEFAULT_CHECKPOINT_RUN_DIR },
    ],
  };
  const volumes: V1Volume[] = [
    ...(spec.volumes ?? []).filter((v) => v.name !== GATE_VOLUME && v.name !== GATE_EXEC_VOLUME),
    { name: BIN_VOLUME, hostPath: { path: posix.dirname(DEFAULT_CHECKPOINT_BIN), type: 'Directory' } },
    { name: RUN_VOLUME, hostPath: { path: DEFAULT_CHECKPOINT_RUN_DIR, type: 'DirectoryOrCreate' } },
  ];
  const podKept = omit(spec, ['initContainers', 'nodeSelector', 'affinity', 'serviceAccountName', 'serviceAccount', 'nodeName']);
  const podSpec: V1PodSpec = { ...podKept, containers: [container, ...sidecars], volumes };
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: `${CHECKPOINT_NAME_PREFIX}${component}`,
      namespace: SYSTEM_NAMESPACE,
      labels: { [LABEL_MANAGED_BY]: MANAGED_BY_VALUE, [LABEL_CHECKPOINT_OF]: component },
      annotations: {
        [ANNOTATION_TEMPLATE_HASH]: revision.templateHash,
        [ANNOTATION_CHECKPOINT_PROVEN_AT]: revision.provenAt,
        ...(revision.version === undefined ? {} : { [LABEL_VERSION]: revision.version }),
      },
    },
    spec: podSpec,
  };
  const header =
    `# selfhost checkpoint of ${component} on ${node.name}: its last known good pod, run by a supervisor that stays\n` +
    '# dormant while the self-hosted pod runs. Written by the selfhost agent; do not edit (docs/design.md "Checkpoints").\n';
  return header + dump(JSON.parse(JSON.stringify(pod)), { sortKeys: true, lineWidth: -1, noRefs: true });
}
