/**
 * How the live commands reach the cluster: injected (LiveDeps) so the commands are tested with a
 * scripted client, and wired to the real API here (kubeconfig as kubectl reads it, the raw-JSON
 * client and list-watch the operator uses).
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import { kubeListWatch } from '../controller/kube-list-watch.js';
import type { ListWatchSource } from '../controller/list-watch.js';
import { kubeClient, type KubeClient } from '../kube/client.js';
import type { KubeConfigChoice } from './kubeconfig.js';
import { loadCliKubeConfig } from './kubeconfig.js';
import { CONTROL_PLANES_PATH } from './live-world.js';

export interface LiveConnection {
  readonly client: KubeClient;
  /** List-watch of the one ControlPlane (field selector on its name). */
  watchControlPlane(name: string): ListWatchSource<KubernetesObject>;
}

export interface LiveDeps {
  /** Throws an Error (the kubeconfig cannot be loaded, no such context) that the command reports as bad usage. */
  connect(choice: KubeConfigChoice): LiveConnection;
  now(): Date;
}

export function processLiveDeps(): LiveDeps {
  return {
    connect(choice) {
      const kc = loadCliKubeConfig(choice);
      return {
        client: kubeClient(kc),
        watchControlPlane: (name) => kubeListWatch({ kc, path: CONTROL_PLANES_PATH, fieldSelector: `metadata.name=${name}` }),
      };
    },
    now: () => new Date(),
  };
}

/** The kubeconfig flags every live command takes. */
export const KUBECONFIG_OPTIONS = {
  kubeconfig: { type: 'string' },
  context: { type: 'string' },
} as const;

export function computeKubeConfigChoice(values: Record<string, string | boolean | undefined>): KubeConfigChoice {
  const path = values['kubeconfig'];
  const context = values['context'];
  return {
    ...(typeof path === 'string' ? { path } : {}),
    ...(typeof context === 'string' ? { context } : {}),
  };
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
