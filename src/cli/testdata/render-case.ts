/**
 * Runs `selfhost render` in memory on a real-cluster case (src/convert/testdata/real-clusters.ts)
 * and returns what a user sees: exit code, stderr lines, the images of the printed workloads.
 */
import { dump, loadAll } from 'js-yaml';
import { DIR, type RealClusterCase } from '../../convert/testdata/real-clusters.js';
import { runRender } from '../render.js';
import { memoryIo } from '../testing.js';

interface Workload {
  spec: { template: { spec: { containers: { image?: string }[] } } };
}

const CP_FILE = '/cp.yaml';

/** The ControlPlane for `-f`: version v1.37.2 and the case's spec fields. */
function controlPlaneYaml(spec: RealClusterCase['spec']): string {
  return dump({ apiVersion: 'selfhost.dev/v1alpha1', kind: 'ControlPlane', metadata: { name: 'cluster' }, spec: { version: 'v1.37.2', ...spec } });
}

export interface Rendered {
  readonly exit: number;
  readonly stderr: readonly string[];
  /** Main and sidecar container images of every printed workload, sorted. */
  readonly images: readonly string[];
}

/** render --manifests DIR [-f spec] <case argv>; `-f` whenever the case has a spec. */
export function renderCase(c: Pick<RealClusterCase, 'files' | 'spec' | 'argv'>): Rendered {
  const io = memoryIo({ ...c.files, ...(c.spec === undefined ? {} : { [CP_FILE]: controlPlaneYaml(c.spec) }) });
  const exit = runRender(['--manifests', DIR, ...(c.spec === undefined ? [] : ['-f', CP_FILE]), ...c.argv], io);
  const workloads = loadAll(io.stdout.join('\n---\n')).filter((w): w is Workload => typeof w === 'object' && w !== null);
  const images = workloads.flatMap((w) => w.spec.template.spec.containers.map((x) => x.image ?? '')).sort();
  return { exit, stderr: io.stderr, images };
}
