/**
 * Properties of the whole conversion, on kubeadm's real manifests with random additions:
 * deterministic, idempotent, and lossless for flags and hostPath volumes.
 */
import type { V1Pod, V1PodTemplateSpec, V1Volume, V1VolumeMount } from '@kubernetes/client-node';
import fc from 'fast-check';
import { dump, load } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import type { ComponentName } from '../api/types.js';
import { computeDesiredWorkloads } from './index.js';
import type { ManifestSource } from './parse.js';
import { kubeadmFixtures, makeSpec, PLAIN_RELEASES } from './testdata/helpers.js';

const fixture = kubeadmFixtures().at(-1);
const COMPONENTS = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler'] as const;
const spec = makeSpec({ version: fixture?.version ?? 'v1.37.2', components: [...COMPONENTS] });

/** Flags the conversion owns or templates; random ones stay clear of them. */
const RESERVED = new Set(['permit-port-sharing', 'name', 'initial-cluster', 'hostname-override', 'advertise-address']);
const flagName = fc.stringMatching(/^[a-z][a-z0-9-]{0,15}$/).filter((n) => !RESERVED.has(n));
const flagValue = fc.option(
  fc.string({ maxLength: 20 }).filter((v) => !v.includes('192.0.2.10') && !v.includes('$(')),
  { nil: undefined },
);
const extraFlags = fc.array(fc.record({ name: flagName, value: flagValue }), { maxLength: 12 });
const hostPaths = fc.uniqueArray(fc.stringMatching(/^\/[a-z0-9]{1,8}(\/[a-z0-9]{1,8}){0,2}$/), { maxLength: 4 });
const componentArb = fc.constantFrom(...COMPONENTS);

interface Addition {
  component: ComponentName;
  flags: { name: string; value: string | undefined }[];
  paths: string[];
}
const additionArb = fc.record({ component: componentArb, flags: extraFlags, paths: hostPaths });

function token(f: { name: string; value: string | undefined }): string {
  return f.value === undefined ? `--${f.name}` : `--${f.name}=${f.value}`;
}

function volumesFor(paths: string[]): { volumes: V1Volume[]; mounts: V1VolumeMount[] } {
  return {
    volumes: paths.map((path, i) => ({ name: `extra-${i}`, hostPath: { path, type: 'DirectoryOrCreate' } })),
    mounts: paths.map((path, i) => ({ name: `extra-${i}`, mountPath: `/mnt${path}`, readOnly: i % 2 === 0 })),
  };
}

/** The fixture's manifests with random flags and hostPath volumes added to one of them. */
function manifestsWith(addition: Addition): ManifestSource[] {
  return (fixture?.manifests ?? []).map((m) => {
    if (!m.path.endsWith(`/${addition.component}.yaml`)) return m;
    const pod = load(m.content) as V1Pod;
    const main = pod.spec?.containers[0];
    if (pod.spec === undefined || main === undefined) throw new Error('fixture shape');
    const { volumes, mounts } = volumesFor(addition.paths);
    main.command = [...(main.command ?? []), ...addition.flags.map(token)];
    main.volumeMounts = [...(main.volumeMounts ?? []), ...mounts];
    pod.spec.volumes = [...(pod.spec.volumes ?? []), ...volumes];
    return { path: m.path, content: dump(pod) };
  });
}

function convert(manifests: ManifestSource[]) {
  return computeDesiredWorkloads({ manifests, spec, controlPlaneNodes: 2, releases: PLAIN_RELEASES });
}

function templateOf(workloads: ReturnType<typeof convert>['workloads'], component: string): V1PodTemplateSpec {
  const t = workloads.find((w) => w.metadata?.name === `selfhost-${component}`)?.spec?.template;
  if (t === undefined) throw new Error(`no ${component}`);
  return t;
}

describe.runIf(fixture !== undefined)(`conversion properties (kubeadm ${fixture?.version})`, () => {
  it('is deterministic and independent of the manifests’ order', () => {
    fc.assert(
      fc.property(additionArb, (addition) => {
        const manifests = manifestsWith(addition);
        const a = convert(manifests);
        const b = convert(structuredClone(manifests));
        const c = convert([...manifests].reverse());
        expect(a.refusals).toEqual([]);
        expect(JSON.stringify(b)).toBe(JSON.stringify(a));
        expect(JSON.stringify(c)).toBe(JSON.stringify(a));
      }),
      { numRuns: 40 },
    );
  });

  it('never drops a flag or a hostPath volume/mount', () => {
    fc.assert(
      fc.property(additionArb, (addition) => {
        const result = convert(manifestsWith(addition));
        const template = templateOf(result.workloads, addition.component);
        const main = template.spec?.containers[0];
        const argv = [...(main?.command ?? []), ...(main?.args ?? [])];
        for (const f of addition.flags) expect(argv).toContain(token(f));
        const { volumes, mounts } = volumesFor(addition.paths);
        for (const v of volumes) expect(template.spec?.volumes).toContainEqual(v);
        for (const m of mounts) expect(main?.volumeMounts).toContainEqual(m);
      }),
      { numRuns: 60 },
    );
  });

  it('is idempotent: converting the output again (as static pods) changes no template', () => {
    fc.assert(
      fc.property(additionArb, fc.boolean(), (addition, withNode) => {
        const manifests = manifestsWith(addition);
        const first = convert(manifests);
        const again = manifests.map((m) => {
          const component = COMPONENTS.find((c) => m.path.endsWith(`/${c}.yaml`)) ?? 'etcd';
          const t = templateOf(first.workloads, component);
          const pod = { apiVersion: 'v1', kind: 'Pod', metadata: t.metadata, spec: t.spec };
          return { path: m.path, content: dump(pod) };
        });
        const second = computeDesiredWorkloads({
          manifests: again,
          spec,
          controlPlaneNodes: 2,
          releases: PLAIN_RELEASES,
          ...(withNode ? { node: first.node } : {}),
        });
        expect(second.refusals).toEqual([]);
        for (const c of COMPONENTS) expect(templateOf(second.workloads, c)).toEqual(templateOf(first.workloads, c));
      }),
      { numRuns: 30 },
    );
  });
});
