/**
 * Pod template → the DaemonSet or Deployment selfhost applies (docs/design.md, "Workload shapes").
 */
import type {
  V1DaemonSet,
  V1DaemonSetUpdateStrategy,
  V1Deployment,
  V1DeploymentStrategy,
  V1ObjectMeta,
  V1PodTemplateSpec,
} from '@kubernetes/client-node';
import {
  ANNOTATION_SOURCE_HASH,
  ANNOTATION_SOURCE_MANIFEST,
  ANNOTATION_TEMPLATE_HASH,
  LABEL_COMPONENT,
  LABEL_MANAGED_BY,
  MANAGED_BY_VALUE,
  SYSTEM_NAMESPACE,
} from '../api/constants.js';
import type { ComponentName } from '../api/types.js';
import { computeTemplateHash, toPlainJson } from './hash.js';

export type WorkloadShape =
  | { readonly kind: 'DaemonSet'; readonly updateStrategy: V1DaemonSetUpdateStrategy }
  | { readonly kind: 'Deployment'; readonly strategy: V1DeploymentStrategy };

const SURGE_ONE: V1DaemonSetUpdateStrategy = { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } };
const ONE_AT_A_TIME: V1DaemonSetUpdateStrategy = {
  type: 'RollingUpdate',
  rollingUpdate: { maxSurge: 0, maxUnavailable: 1 },
};

/**
 * The design's table. etcd: OnDelete (never two processes on one data dir; the operator deletes
 * one member's pod at a time). apiserver: surge with port sharing. controller-manager and
 * scheduler: Deployments, surge with port sharing. kube-proxy: one node at a time, no surge (two
 * instances would fight over iptables). A CNI converted from a static pod gets the same as
 * kube-proxy (it also owns host network state); an adopted CNI keeps its own strategy.
 */
export const WORKLOAD_SHAPES: Readonly<Record<ComponentName, WorkloadShape>> = {
  etcd: { kind: 'DaemonSet', updateStrategy: { type: 'OnDelete' } },
  'kube-apiserver': { kind: 'DaemonSet', updateStrategy: SURGE_ONE },
  'kube-controller-manager': {
    kind: 'Deployment',
    strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
  },
  'kube-scheduler': {
    kind: 'Deployment',
    strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
  },
  'kube-proxy': { kind: 'DaemonSet', updateStrategy: ONE_AT_A_TIME },
  cni: { kind: 'DaemonSet', updateStrategy: ONE_AT_A_TIME },
};

/** Old ReplicaSets / ControllerRevisions kept for `kubectl rollout undo` and inspection. */
export const REVISION_HISTORY_LIMIT = 10;

export function workloadName(component: ComponentName): string {
  return `selfhost-${component}`;
}

export interface BuildInput {
  readonly component: ComponentName;
  /** The pipeline's output; its template-hash annotation is (re)computed here. */
  readonly template: V1PodTemplateSpec;
  readonly sourceManifest: string;
  readonly sourceHash: string;
  /** Deployment replicas: the number of control-plane nodes. */
  readonly replicas: number;
}

export interface BuiltWorkload {
  readonly workload: V1DaemonSet | V1Deployment;
  readonly templateHash: string;
}

/** Stamps the template hash (computed over the template without it). */
export function stampTemplateHash(template: V1PodTemplateSpec): { template: V1PodTemplateSpec; templateHash: string } {
  const templateHash = computeTemplateHash(template);
  const metadata: V1ObjectMeta = {
    ...template.metadata,
    annotations: { ...template.metadata?.annotations, [ANNOTATION_TEMPLATE_HASH]: templateHash },
  };
  return { template: { ...structuredClone(template), metadata }, templateHash };
}

export function buildWorkload(input: BuildInput): BuiltWorkload {
  const { component } = input;
  const { template, templateHash } = stampTemplateHash(toPlainJson(input.template));
  const metadata: V1ObjectMeta = {
    name: workloadName(component),
    namespace: SYSTEM_NAMESPACE,
    labels: { [LABEL_MANAGED_BY]: MANAGED_BY_VALUE, [LABEL_COMPONENT]: component },
    annotations: { [ANNOTATION_SOURCE_HASH]: input.sourceHash, [ANNOTATION_SOURCE_MANIFEST]: input.sourceManifest },
  };
  const selector = { matchLabels: { [LABEL_COMPONENT]: component } };
  const shape = WORKLOAD_SHAPES[component];
  const workload: V1DaemonSet | V1Deployment =
    shape.kind === 'DaemonSet'
      ? {
          apiVersion: 'apps/v1',
          kind: 'DaemonSet',
          metadata,
          spec: { selector, template, updateStrategy: shape.updateStrategy, revisionHistoryLimit: REVISION_HISTORY_LIMIT },
        }
      : {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          metadata,
          spec: {
            replicas: input.replicas,
            selector,
            template,
            strategy: shape.strategy,
            revisionHistoryLimit: REVISION_HISTORY_LIMIT,
          },
        };
  return { workload: toPlainJson(workload), templateHash };
}
