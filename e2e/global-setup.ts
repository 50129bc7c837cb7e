import { existsSync } from 'node:fs';
import type { TestProject } from 'vitest/node';
import { KUBECONFIG, nodeVersion, runNodeScript } from './node.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Admin kubeconfig of tier node (.cluster/node/kubeconfig). */
    nodeKubeconfig: string;
    /** Kubernetes version tier node runs. */
    nodeVersion: string;
  }
}

/**
 * Tier "node" for the e2e project: a real single-node kubeadm cluster on this machine, started
 * by hack/node/up.sh (builds what is missing, host prep, containerd, images, kubeadm init, the
 * supervised kubelet, the CNI DaemonSet). A node already up and healthy at the same version is
 * reused. If the tier cannot start (missing package, kernel feature, build failure, kubeadm
 * error), the run FAILS here with the script's reason; nothing is skipped.
 *
 * Teardown: hack/node/down.sh restores the host, when this run started the node (a node a human
 * started before the run is left up), unless SELFHOST_E2E_KEEP=1.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const version = nodeVersion();
  const wasUp = existsSync(KUBECONFIG);
  let up;
  try {
    up = await runNodeScript('up', [version]);
  } catch (err) {
    // Fail the run with the reason; restore the host unless asked to keep it for a post-mortem
    // (down.sh keeps .cluster/node/logs either way).
    if (process.env.SELFHOST_E2E_KEEP !== '1') await runNodeScript('down', [], { allowFailure: true });
    const reason = err instanceof Error ? err.message : String(err);
    throw new Error(`tier node could not start (${version}; logs in .cluster/node/logs): ${reason}`, {
      cause: err,
    });
  }
  const reused = /already up and healthy/.test(up.output);
  console.log(`node tier: ${version} ${reused ? 'reused' : 'started'} in ${up.ms} ms (KUBECONFIG=${KUBECONFIG})`);
  project.provide('nodeKubeconfig', KUBECONFIG);
  project.provide('nodeVersion', version);
  return async () => {
    if (process.env.SELFHOST_E2E_KEEP === '1' || (wasUp && reused)) {
      console.log('node tier: left up (make cluster-down to stop it)');
      return;
    }
    const down = await runNodeScript('down');
    console.log(`node tier: torn down in ${down.ms} ms`);
  };
}
