import type { TestProject } from 'vitest/node';
import { startSimCluster } from '../sim/cluster.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Admin kubeconfig of the sim tier. */
    kubeconfig: string;
    /** Each sim component's log file (name → path), for support/logs.ts on failure. */
    simLogs: Record<string, string>;
    /** Names of the fake nodes (cp-N tainted like kubeadm's control plane, worker-N). */
    simNodes: { controlPlane: string[]; workers: string[] };
  }
}

/**
 * Tier "sim", started once per run: etcd, kube-apiserver, kube-controller-manager,
 * kube-scheduler and kwok with 3 control-plane + 2 worker fake nodes (test/sim/cluster.ts).
 * Failure to start fails the run with the components' log tails (never a silent skip).
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const started = Date.now();
  const sim = await startSimCluster();
  const t = sim.timings;
  console.log(
    `sim tier: ready in ${Date.now() - started} ms (${sim.url}; apiserver ${t['apiserver ready']} ms, ` +
      `nodes Ready ${t['all nodes Ready']} ms, ${sim.nodes.controlPlane.length + sim.nodes.workers.length} nodes)`,
  );
  project.provide('kubeconfig', sim.kubeconfig);
  project.provide('simLogs', Object.fromEntries(sim.components.map((c) => [c.name, c.logPath])));
  project.provide('simNodes', sim.nodes);
  return () => sim.stop();
}
