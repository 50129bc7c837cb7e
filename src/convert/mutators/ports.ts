/**
 * Letting the old and the new instance of a component listen on the same host port during a
 * handover (surge): the static pod (or the previous self-hosted pod) keeps running until the new
 * one is ready.
 */
import type { V1Container, V1PodTemplateSpec, V1Probe } from '@kubernetes/client-node';
import { mapAllContainers, mapMainFlags } from '../container.js';
import { setFlag } from '../flags.js';
import type { PodContext } from '../types.js';

export const PORT_SHARING_FLAG = 'permit-port-sharing';

/**
 * `--permit-port-sharing=true` (SO_REUSEPORT on the secure port). Runs after the overrides: the
 * surge update strategy depends on it, so an override cannot turn it off.
 */
export function addPortSharing(template: V1PodTemplateSpec, ctx: PodContext): V1PodTemplateSpec {
  return mapMainFlags(template, ctx, (flags) => setFlag(flags, PORT_SHARING_FLAG, 'true'));
}

function resolvePort(probe: V1Probe | undefined, container: V1Container): V1Probe | undefined {
  if (probe === undefined) return undefined;
  const byName = (port: number | string): number | string => {
    if (typeof port === 'number') return port;
    const found = container.ports?.find((p) => p.name === port);
    return found === undefined ? port : found.containerPort;
  };
  return {
    ...probe,
    ...(probe.httpGet === undefined ? {} : { httpGet: { ...probe.httpGet, port: byName(probe.httpGet.port) } }),
    ...(probe.tcpSocket === undefined ? {} : { tcpSocket: { ...probe.tcpSocket, port: byName(probe.tcpSocket.port) } }),
  };
}

/**
 * Removes container `ports` (named probe ports become numbers first). In a hostNetwork pod the
 * API turns every containerPort into a hostPort, and the scheduler places no second pod with the
 * same hostPort on a node: the surge pod would stay Pending next to the static pod's mirror pod
 * (which declares the same port) and next to its own predecessor. The ports are informational
 * for hostNetwork pods, so nothing else changes. etcd keeps its ports on purpose (see pipelines).
 */
export function dropHostPortsForSurge(template: V1PodTemplateSpec): V1PodTemplateSpec {
  return mapAllContainers(template, (c) => {
    if (c.ports === undefined) return c;
    const out: V1Container = { ...c };
    delete out.ports;
    for (const key of ['livenessProbe', 'readinessProbe', 'startupProbe'] as const) {
      const probe = resolvePort(c[key], c);
      if (probe !== undefined) out[key] = probe;
    }
    return out;
  });
}
