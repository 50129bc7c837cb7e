/**
 * Which cluster the live commands (`status`, `plan` without --from) talk to, decided as kubectl
 * decides it, so that `kubectl selfhost ...` reaches the cluster `kubectl get ...` reaches:
 * --kubeconfig PATH, else $KUBECONFIG (a list of files, merged), else ~/.kube/config, else the
 * pod's service account when run in a pod; --context NAME instead of the current context.
 *
 * (`selfhost run` prefers in-cluster first on purpose: it is the operator, src/cli/run.ts.)
 */
import { KubeConfig } from '../kube/client-node.js';

export interface KubeConfigChoice {
  readonly path?: string;
  readonly context?: string;
}

/** Loads the kubeconfig; throws an Error naming the flag and what went wrong. */
export function loadCliKubeConfig(choice: KubeConfigChoice): KubeConfig {
  const kc = new KubeConfig();
  try {
    if (choice.path !== undefined) kc.loadFromFile(choice.path);
    else kc.loadFromDefault();
  } catch (err) {
    const where = choice.path === undefined ? 'the default kubeconfig ($KUBECONFIG or ~/.kube/config)' : `--kubeconfig ${choice.path}`;
    throw new Error(`cannot load ${where}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  if (choice.context !== undefined) {
    const names = kc.getContexts().map((c) => c.name);
    if (!names.includes(choice.context)) {
      throw new Error(`--context: Invalid value: ${JSON.stringify(choice.context)}: the kubeconfig has ${names.length === 0 ? 'no contexts' : `contexts ${names.join(', ')}`}`);
    }
    kc.setCurrentContext(choice.context);
  }
  if (kc.getCurrentCluster() === null) {
    throw new Error('the kubeconfig has no current cluster: pass --kubeconfig, set KUBECONFIG, or choose one with --context');
  }
  return kc;
}
