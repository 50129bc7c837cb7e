/**
 * The node agent's DaemonSet: one pod per control-plane node, able to change exactly three host
 * directories (the static manifests, selfhost's own directory with backups and the checkpoint
 * supervisor, and the checkpoints' standby markers under /run) and nothing else.
 *
 * Privileges and why (docs/design.md, "The node agent"):
 *  - runAsUser 0 without any capability: kubeadm's manifests are root-owned 0600 files in a root
 *    directory; the owner needs no capability to read, write or rename them.
 *  - hostNetwork: the agent must keep talking to the API while the CNI and kube-proxy are handed
 *    over (and, later, before the pod network exists after a reboot).
 *  - three hostPath mounts, nothing else; no service links, read-only root filesystem.
 *  - tolerates everything and is system-node-critical: it is what retires and restores the
 *    control plane, so it must run exactly where the control plane runs, even on a NotReady node.
 */
import { posix } from 'node:path';
import { DEFAULT_BACKUP_DIR } from '../api/agent.js';
import {
  ANNOTATION_TEMPLATE_HASH,
  CONTROL_PLANE_NODE_LABEL,
  LABEL_COMPONENT,
  LABEL_MANAGED_BY,
  MANAGED_BY_VALUE,
  STATIC_MANIFEST_DIR,
  SYSTEM_NAMESPACE,
} from '../api/constants.js';
import { canonicalJson, sha256Hex } from '../convert/hash.js';
import { DEFAULT_CHECKPOINT_RUN_DIR } from '../agent/checkpoints.js';
import type { JsonObject } from '../kube/client.js';

export const AGENT_NAME = 'selfhost-agent';
export const AGENT_SERVICE_ACCOUNT = 'selfhost-agent';
/** Value of selfhost.dev/component on the agent's pods (not a ComponentName: it is not pivoted). */
export const AGENT_COMPONENT_LABEL = 'agent';

export function computeDesiredAgentDaemonSet(image: string): JsonObject {
  const labels = { [LABEL_COMPONENT]: AGENT_COMPONENT_LABEL };
  const template = {
    metadata: { labels: { ...labels, [LABEL_MANAGED_BY]: MANAGED_BY_VALUE } },
    spec: {
      serviceAccountName: AGENT_SERVICE_ACCOUNT,
      hostNetwork: true,
      dnsPolicy: 'ClusterFirstWithHostNet',
      enableServiceLinks: false,
      priorityClassName: 'system-node-critical',
      nodeSelector: { [CONTROL_PLANE_NODE_LABEL]: '' },
      tolerations: [{ operator: 'Exists' }],
      terminationGracePeriodSeconds: 10,
      securityContext: { seccompProfile: { type: 'RuntimeDefault' } },
      containers: [
        {
          name: 'agent',
          image,
          imagePullPolicy: 'IfNotPresent',
          args: ['agent', `--manifest-dir=${STATIC_MANIFEST_DIR}`, `--backup-dir=${DEFAULT_BACKUP_DIR}`],
          env: [{ name: 'NODE_NAME', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'spec.nodeName' } } }],
          resources: { requests: { cpu: '10m', memory: '64Mi' }, limits: { memory: '256Mi' } },
          securityContext: {
            runAsUser: 0,
            runAsNonRoot: false,
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            capabilities: { drop: ['ALL'] },
          },
          volumeMounts: [
            { name: 'manifests', mountPath: STATIC_MANIFEST_DIR },
            { name: 'selfhost', mountPath: posix.dirname(DEFAULT_BACKUP_DIR) },
            { name: 'checkpoint-run', mountPath: DEFAULT_CHECKPOINT_RUN_DIR },
          ],
        },
      ],
      volumes: [
        { name: 'manifests', hostPath: { path: STATIC_MANIFEST_DIR, type: 'Directory' } },
        { name: 'selfhost', hostPath: { path: posix.dirname(DEFAULT_BACKUP_DIR), type: 'DirectoryOrCreate' } },
        // The checkpoints' standby markers: a tmpfs on a real node, so a boot clears them.
        { name: 'checkpoint-run', hostPath: { path: DEFAULT_CHECKPOINT_RUN_DIR, type: 'DirectoryOrCreate' } },
      ],
    },
  };
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: {
      name: AGENT_NAME,
      namespace: SYSTEM_NAMESPACE,
      labels: { [LABEL_MANAGED_BY]: MANAGED_BY_VALUE, [LABEL_COMPONENT]: AGENT_COMPONENT_LABEL },
      annotations: { [ANNOTATION_TEMPLATE_HASH]: sha256Hex(canonicalJson(template)) },
    },
    spec: {
      selector: { matchLabels: labels },
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } },
      revisionHistoryLimit: 10,
      template,
    },
  };
}
