import type { TestProject } from 'vitest/node';
import { startApiServer } from '../support/apiserver.js';

declare module 'vitest' {
  export interface ProvidedContext {
    kubeconfig: string;
  }
}

/**
 * Tier "sim" for now: a real etcd + kube-apiserver on loopback, started once per run. Failure to
 * start fails the run with the components' log tails (never a silent skip).
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const started = Date.now();
  const handle = await startApiServer();
  console.log(`sim tier: etcd + kube-apiserver ready in ${Date.now() - started} ms (${handle.url})`);
  project.provide('kubeconfig', handle.kubeconfig);
  return () => handle.stop();
}
