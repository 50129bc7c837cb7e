/**
 * Probes that name this node's address.
 */
import type { V1Container, V1PodTemplateSpec, V1Probe } from '@kubernetes/client-node';
import { cloneTemplate, mapAllContainers } from '../container.js';
import type { PodContext } from '../types.js';

const PROBES = ['livenessProbe', 'readinessProbe', 'startupProbe'] as const;

function withoutHost(probe: V1Probe, ip: string): V1Probe {
  const out = structuredClone(probe);
  if (out.httpGet?.host === ip) delete out.httpGet.host;
  if (out.tcpSocket?.host === ip) delete out.tcpSocket.host;
  return out;
}

/**
 * kubeadm points the apiserver's probes at the advertise address. Probe hosts cannot use
 * $(HOST_IP); without a host the kubelet probes the pod IP, which for a hostNetwork pod is the
 * host IP, so dropping a host equal to this node's IP probes the same address on every node.
 * Other hosts (127.0.0.1 for etcd, the scheduler, the controller-manager) are kept.
 */
export function dropNodeLocalProbeHosts(template: V1PodTemplateSpec, ctx: PodContext): V1PodTemplateSpec {
  const ip = ctx.node.ip;
  if (ip === undefined) return cloneTemplate(template);
  return mapAllContainers(template, (c) => {
    const out: V1Container = { ...c };
    for (const key of PROBES) {
      const probe = c[key];
      if (probe !== undefined) out[key] = withoutHost(probe, ip);
    }
    return out;
  });
}
