/**
 * The handover gate: the self-hosted etcd or kube-apiserver pod is created, scheduled and admitted
 * while the static one still runs, but its container starts only after the static one is gone.
 *
 * Why not the scheduler's hostPort check: once the static etcd stops, the apiserver has no
 * storage, so neither the mirror pod's deletion nor the new pod's binding can be written — a pod
 * that waits to be *scheduled* until the static etcd is gone waits forever. The pod must already
 * be bound and running its gate when the static manifest is retired. The gate (hostNetwork like
 * the pod) waits until the static manifest is absent and nothing listens on etcd's client and peer
 * ports; only then does etcd start. For etcd the gate runs inside the etcd container
 * (selfhost-gate-exec, which then execs etcd), because at that moment the kubelet's sync loop can
 * be stuck for minutes (src/gate-exec/gate-exec.c says why). etcd's own locks (WAL file lock,
 * bbolt flock) remain a last line of defence.
 *
 * Why the apiserver too: a kubeadm apiserver listens without SO_REUSEPORT, so no second apiserver
 * can bind its port while it runs. Restarting it first with --permit-port-sharing (the "Prepared"
 * handover the scheduler and controller-manager use) costs two outages' worth of time: the static
 * pod's graceful termination (the kubelet waits for it, ~30 s, before starting the same-named pod)
 * plus a start. With the gate, the self-hosted apiserver binds as soon as the static one closes
 * its listener (right after SIGTERM), so the API is down for one apiserver start only. Later
 * rollouts of the DaemonSet overlap through port sharing, so the apiserver's gate opens at once
 * when the static manifest is already absent when it starts (--open-if-absent-at-start); etcd's
 * does not (its OnDelete rollout deletes the old pod first, and the ports must be free).
 */
import { posix } from 'node:path';
import type { V1Container, V1PodTemplateSpec, V1Volume } from '@kubernetes/client-node';
import { containersOf, mainFlagsOf, mapMainContainer } from '../container.js';
import { effectiveFlagValue, type Flag } from '../flags.js';
import type { ComponentName } from '../../api/types.js';
import type { MutationContext } from '../types.js';
import { dropHostPortsForSurge } from './ports.js';

export const GATE_CONTAINER = 'handover-gate';
export const GATE_VOLUME = 'selfhost-static-manifests';

/** Ports of a comma-separated URL list (`https://10.0.0.1:2379,https://127.0.0.1:2379`). */
export function computeUrlPorts(urls: string | undefined | null, fallback: number): number[] {
  if (urls === undefined || urls === null || urls === '') return [fallback];
  const ports = new Set<number>();
  for (const url of urls.split(',')) {
    const m = /:([0-9]+)\/?$/.exec(url.trim());
    ports.add(m ? Number(m[1]) : fallback);
  }
  return [...ports].sort((a, b) => a - b);
}

/** Components handed over through the gate (the others: Prepared with port sharing, or adopted). */
export const GATED_COMPONENTS: ReadonlySet<ComponentName> = new Set<ComponentName>(['etcd', 'kube-apiserver']);

/**
 * Components whose gate waits inside the main container (selfhost-gate-exec, then exec), not in an
 * init container. etcd: on a single node its handover blocks the kubelet's sync loop (the mirror
 * pod's deletion hangs on an apiserver without etcd), and an init container's exit is only acted
 * on by that loop; src/gate-exec/gate-exec.c explains it in full.
 */
export const GATE_IN_MAIN_CONTAINER: ReadonlySet<ComponentName> = new Set<ComponentName>(['etcd']);

/** Where the selfhost image keeps selfhost-gate-exec, and where the init container installs it. */
export const GATE_EXEC_IMAGE_PATH = '/usr/local/bin/selfhost-gate-exec';
export const GATE_EXEC_VOLUME = 'selfhost-gate-exec';
export const GATE_EXEC_DIR = '/var/run/selfhost-gate';
export const GATE_EXEC_PATH = `${GATE_EXEC_DIR}/selfhost-gate-exec`;

/** The gate's conditions for a component, from its flags (options of `selfhost gate`). */
export function computeGateArgs(component: ComponentName, manifest: string, flags: readonly Flag[]): string[] {
  if (component === 'etcd') {
    // The metrics listener too: etcd exits when it cannot bind any of its listeners.
    const metrics = effectiveFlagValue(flags, 'listen-metrics-urls');
    const ports = [
      ...computeUrlPorts(effectiveFlagValue(flags, 'listen-client-urls'), 2379),
      ...computeUrlPorts(effectiveFlagValue(flags, 'listen-peer-urls'), 2380),
      ...(typeof metrics === 'string' && metrics !== '' ? computeUrlPorts(metrics, 2381) : []),
    ];
    return [`--absent=${manifest}`, ...[...new Set(ports)].sort((a, b) => a - b).map((p) => `--port=${p}`)];
  }
  const securePort = Number(effectiveFlagValue(flags, 'secure-port') ?? '6443');
  return [`--absent=${manifest}`, `--port=${Number.isInteger(securePort) && securePort > 0 ? securePort : 6443}`, '--open-if-absent-at-start'];
}

// Root without capabilities: reads a root-owned directory as its owner, nothing more.
const GATE_SECURITY = {
  runAsUser: 0,
  runAsNonRoot: false,
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  capabilities: { drop: ['ALL'] },
};

/** The main container, its command prefixed by the gate (its own mounts added; the manifest directory's when given). */
function wrapInGate(main: V1Container, gateArgs: readonly string[], dir: string | undefined): V1Container {
  const mounts = (main.volumeMounts ?? []).filter((m) => m.name !== GATE_VOLUME && m.name !== GATE_EXEC_VOLUME);
  return {
    ...main,
    command: [GATE_EXEC_PATH, 'wait', ...gateArgs, '--', ...(main.command ?? [])],
    volumeMounts: [
      ...mounts,
      { name: GATE_EXEC_VOLUME, mountPath: GATE_EXEC_DIR, readOnly: true },
      ...(dir === undefined ? [] : [{ name: GATE_VOLUME, mountPath: dir, readOnly: true }]),
    ],
  };
}

/** The init container that copies selfhost-gate-exec from the selfhost image into the shared emptyDir. */
function gateInstaller(image: string): V1Container {
  return {
    name: GATE_CONTAINER,
    image,
    imagePullPolicy: 'IfNotPresent',
    command: [GATE_EXEC_IMAGE_PATH],
    args: ['install', GATE_EXEC_PATH],
    securityContext: GATE_SECURITY,
    volumeMounts: [{ name: GATE_EXEC_VOLUME, mountPath: GATE_EXEC_DIR }],
  };
}

/**
 * The unpivot's hand-back of etcd (convert/restore.ts): the static etcd's command waits in
 * selfhost-gate-exec until etcd's ports are free — the self-hosted member stopped — then execs
 * etcd on the same data dir. Unlike the workload's gate it does not wait for a manifest to go (it
 * is that manifest). Steps: install the gate from `image` in an init container; wrap the command.
 */
export function addStaticHandbackGate(template: V1PodTemplateSpec, ctx: MutationContext, image: string): V1PodTemplateSpec {
  const ports = computeGateArgs(ctx.component, ctx.manifest, mainFlagsOf(template, ctx)).filter((a) => a.startsWith('--port='));
  const spec = template.spec;
  if (spec === undefined) return template;
  const containers = mapMainContainer(template, ctx, (main) => wrapInGate(main, ports, undefined)).spec?.containers ?? [];
  return {
    ...template,
    spec: {
      ...spec,
      containers,
      initContainers: [gateInstaller(image), ...(spec.initContainers ?? []).filter((c) => c.name !== GATE_CONTAINER)],
      volumes: [...(spec.volumes ?? []).filter((v) => v.name !== GATE_EXEC_VOLUME), { name: GATE_EXEC_VOLUME, emptyDir: {} }],
    },
  };
}

/**
 * Steps:
 *  1. drop container ports (they would block scheduling next to the mirror pod, see above);
 *  2. apiserver: an init container `selfhost gate ...`; etcd: an init container that installs
 *     selfhost-gate-exec into an emptyDir, and the etcd command wrapped in `selfhost-gate-exec wait`;
 *  3. mount the manifest directory read-only where the gate runs.
 */
export function addHandoverGate(template: V1PodTemplateSpec, ctx: MutationContext): V1PodTemplateSpec {
  const image = ctx.handoverGateImage;
  if (image === undefined || !GATED_COMPONENTS.has(ctx.component)) return template;
  const gateArgs = computeGateArgs(ctx.component, ctx.manifest, mainFlagsOf(template, ctx));
  const dir = posix.dirname(ctx.manifest);
  const withoutPorts = dropHostPortsForSurge(template);
  const spec = withoutPorts.spec;
  if (spec === undefined) return withoutPorts;
  const inMain = GATE_IN_MAIN_CONTAINER.has(ctx.component);
  const gate: V1Container = inMain
    ? gateInstaller(image)
    : {
        name: GATE_CONTAINER,
        image,
        imagePullPolicy: 'IfNotPresent',
        args: ['gate', ...gateArgs],
        securityContext: GATE_SECURITY,
        volumeMounts: [{ name: GATE_VOLUME, mountPath: dir, readOnly: true }],
      };
  const volumes: V1Volume[] = [
    { name: GATE_VOLUME, hostPath: { path: dir, type: 'Directory' } },
    ...(inMain ? [{ name: GATE_EXEC_VOLUME, emptyDir: {} }] : []),
  ];
  const containers = inMain
    ? mapMainContainer(withoutPorts, ctx, (main) => wrapInGate(main, gateArgs, dir)).spec?.containers ?? []
    : containersOf(withoutPorts);
  const others = (spec.initContainers ?? []).filter((c) => c.name !== GATE_CONTAINER);
  return {
    ...withoutPorts,
    spec: {
      ...spec,
      containers,
      initContainers: [gate, ...others],
      volumes: [...(spec.volumes ?? []).filter((v) => v.name !== GATE_VOLUME && v.name !== GATE_EXEC_VOLUME), ...volumes],
    },
  };
}
