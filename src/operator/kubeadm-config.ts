/**
 * kubeadm's record of the cluster (kube-system/kubeadm-config, key ClusterConfiguration), brought
 * in line with what runs after an unpivot (pure). kubeadm reads it in `kubeadm upgrade plan|apply`
 * and `kubeadm join --control-plane`: after selfhost upgraded the cluster, its kubernetesVersion
 * still names the version kubeadm installed, and kubeadm would plan from the wrong version.
 *
 * What is set: kubernetesVersion (the version the control plane runs); etcd.local.imageTag only
 * when etcd runs a tag other than the one kubeadm pairs with that version (spec.etcd.version);
 * imageRepository when spec.imageRepository moved the images. Everything else is kubeadm's and is
 * left as it is.
 */
import { dump, load } from 'js-yaml';
import type { JsonObject } from '../kube/client.js';
import { rec, str } from './snapshot.js';

export const KUBEADM_CONFIG_PATH = '/api/v1/namespaces/kube-system/configmaps/kubeadm-config';
export const CLUSTER_CONFIGURATION_KEY = 'ClusterConfiguration';

export interface KubeadmConfigTarget {
  /** The Kubernetes version the control plane runs. */
  readonly kubernetesVersion: string;
  /** etcd's image tag when it is not kubeadm's pairing for that version. */
  readonly etcdImageTag?: string;
  readonly imageRepository?: string;
}

export type KubeadmConfigUpdate =
  | { readonly kind: 'InLine' }
  | { readonly kind: 'Update'; readonly text: string; readonly changes: readonly string[] }
  | { readonly kind: 'Unreadable'; readonly reason: string };

/** The ClusterConfiguration text to write, or why none is needed or possible. */
export function computeKubeadmConfigUpdate(configMap: JsonObject | undefined, target: KubeadmConfigTarget): KubeadmConfigUpdate {
  if (configMap === undefined) return { kind: 'Unreadable', reason: 'kube-system/kubeadm-config does not exist (not a kubeadm cluster?)' };
  const text = str(rec(configMap['data'])[CLUSTER_CONFIGURATION_KEY]);
  if (text === undefined) return { kind: 'Unreadable', reason: `kube-system/kubeadm-config has no ${CLUSTER_CONFIGURATION_KEY}` };
  let parsed: unknown;
  try {
    parsed = load(text);
  } catch (err) {
    return { kind: 'Unreadable', reason: `kube-system/kubeadm-config ${CLUSTER_CONFIGURATION_KEY} is not YAML: ${err instanceof Error ? err.message : String(err)}` };
  }
  const cfg = structuredClone(rec(parsed));
  const changes: string[] = [];
  if (cfg['kubernetesVersion'] !== target.kubernetesVersion) {
    changes.push(`kubernetesVersion ${String(cfg['kubernetesVersion'] ?? '(unset)')} → ${target.kubernetesVersion}`);
    cfg['kubernetesVersion'] = target.kubernetesVersion;
  }
  if (target.imageRepository !== undefined && cfg['imageRepository'] !== target.imageRepository) {
    changes.push(`imageRepository ${String(cfg['imageRepository'] ?? '(default)')} → ${target.imageRepository}`);
    cfg['imageRepository'] = target.imageRepository;
  }
  if (target.etcdImageTag !== undefined) {
    const etcd = rec(cfg['etcd']);
    const local = rec(etcd['local']);
    if (local['imageTag'] !== target.etcdImageTag) {
      changes.push(`etcd.local.imageTag ${String(local['imageTag'] ?? '(kubeadm default)')} → ${target.etcdImageTag}`);
      cfg['etcd'] = { ...etcd, local: { ...local, imageTag: target.etcdImageTag } };
    }
  }
  if (changes.length === 0) return { kind: 'InLine' };
  return { kind: 'Update', text: dump(cfg, { lineWidth: -1, noRefs: true }), changes };
}
