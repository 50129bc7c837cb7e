/**
 * The first half of a port handover: the static manifest itself, with --permit-port-sharing=true
 * added and nothing else changed.
 *
 * SO_REUSEPORT only works when *every* listener on the port sets it, so before a self-hosted
 * apiserver/scheduler/controller-manager can start next to the static one, the node agent rewrites
 * the static manifest to this and waits for the kubelet to restart it.
 */
import type { V1Container } from '@kubernetes/client-node';
import { dump } from 'js-yaml';
import { analyseCommandLine } from './command.js';
import { effectiveFlagValue, isTrueFlagValue } from './flags.js';
import { PORT_SHARING_FLAG } from './mutators/ports.js';
import type { StaticPod } from './types.js';

const FLAG = `--${PORT_SHARING_FLAG}=true`;

/** True when the source already shares its port (the last --permit-port-sharing is true). */
export function hasPortSharing(pod: StaticPod): boolean {
  const value = effectiveFlagValue(pod.flags, PORT_SHARING_FLAG);
  return value !== null && isTrueFlagValue(value);
}

/** Appends the flag where the manifest keeps its flags, in the manifest's own form. */
function withPortSharing(container: V1Container, field: string): V1Container {
  const command = [...(container.command ?? [])];
  const args = [...(container.args ?? [])];
  const analysed = analyseCommandLine(container, field);
  // Only called for pods that parsed, so the command line is analysable; the fallback (append to
  // args) is what the kubelet would also accept for the exec form.
  const form = analysed.ok ? analysed.line.form : 'exec';
  if (form === 'shell') {
    // The script is argv[2]: in command, or in args when command is just [sh, -c].
    if (command.length > 2) command[2] = `${command[2] ?? ''} ${FLAG}`;
    else args[2 - command.length] = `${args[2 - command.length] ?? ''} ${FLAG}`;
  } else if (form === 'string' && args.length === 0) {
    command[0] = `${command[0] ?? ''} ${FLAG}`;
  } else if (args.length > 0 || command.length === 0) {
    args.push(FLAG);
  } else {
    command.push(FLAG);
  }
  return {
    ...container,
    ...(command.length > 0 ? { command } : {}),
    ...(args.length > 0 ? { args } : {}),
  };
}

/**
 * The manifest to write before the handover, as YAML. When the source already shares its port,
 * the original text is returned unchanged (the agent has nothing to rewrite). Otherwise the
 * manifest is re-serialised (comments and formatting are lost; the content is the same plus the
 * one flag, appended last so it wins over any earlier --permit-port-sharing=false).
 */
export function computePortSharingPrep(pod: StaticPod): string {
  if (hasPortSharing(pod)) return pod.content;
  const copy = structuredClone(pod.pod);
  const containers = copy.spec?.containers;
  const main = containers?.[pod.mainIndex];
  if (containers === undefined || main === undefined) {
    throw new Error(`${pod.path}: spec.containers[${pod.mainIndex}] is missing`);
  }
  containers[pod.mainIndex] = withPortSharing(main, `spec.containers[${pod.mainIndex}]`);
  return dump(copy, { lineWidth: -1, noRefs: true });
}
