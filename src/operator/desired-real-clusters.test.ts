/**
 * The pivot's conversion (computeDesiredState) on issue 13's real-cluster cases agrees with
 * `selfhost render` given what the operator knows: the Node's name (cp1) and the version the
 * apiserver runs. Same refusals, same ignored pods, same images.
 */
import { describe, expect, it } from 'vitest';
import type { ControlPlaneSpec } from '../api/types.js';
import { renderCase } from '../cli/testdata/render-case.js';
import { formatIgnored, formatRefusal } from '../convert/refusal.js';
import { DIR, REAL_CLUSTER_CASES, type RealClusterCase } from '../convert/testdata/real-clusters.js';
import type { JsonObject } from '../kube/client.js';
import { IMAGE, NODE, SimWorld } from './testdata/world.js';

function worldOf(c: RealClusterCase): SimWorld {
  const spec: Partial<ControlPlaneSpec> = {
    ...(c.spec?.components === undefined ? {} : { components: [...c.spec.components] }),
    ...(c.spec?.imageRepository === undefined ? {} : { imageRepository: c.spec.imageRepository }),
  };
  const world = new SimWorld(spec);
  world.manifests = new Map(Object.entries(c.files));
  return world;
}

function imagesOf(objects: readonly JsonObject[]): string[] {
  const containers = (o: JsonObject) =>
    ((o['spec'] as { template?: { spec?: { containers?: { image?: string }[] } } } | undefined)?.template?.spec?.containers ?? []);
  return objects.flatMap((o) => containers(o).map((x) => x.image ?? '')).filter((i) => i !== IMAGE).sort();
}

describe('the operator converts real clusters as render does (issue 13)', () => {
  it.each(REAL_CLUSTER_CASES.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const desired = worldOf(c).desired();
    const version = desired.version ?? 'v1.37.2';
    const rendered = renderCase({ files: c.files, spec: c.spec ?? {}, argv: ['--version', version, '--node-name', NODE] });
    // The operator also adopts the world's kube-proxy and CNI DaemonSets, which render has not got:
    // compare what comes from the manifests. (A static kube-proxy is converted by render, while the
    // operator adopts the DaemonSet; its refusals are the same.)
    const fromManifests = desired.refusals.filter((r) => r.manifest.startsWith('/'));
    expect(rendered.stderr.filter((l) => l.startsWith('refused: '))).toEqual(fromManifests.map((r) => `refused: ${formatRefusal(r)}`));
    expect(rendered.stderr.filter((l) => l.startsWith('ignored: '))).toEqual((desired.ignored ?? []).map((r) => `ignored: ${formatIgnored(r)}`));
    const controlPlane = rendered.images.filter((i) => !i.includes('/kube-proxy:'));
    expect(controlPlane).toEqual(imagesOf(desired.components.filter((d) => d.static !== undefined).map((d) => d.object)));
  });

  it('1. an adopted kube-proxy DaemonSet 22 minors behind the apiserver is refused like a static one', () => {
    const world = new SimWorld({ components: ['kube-proxy'] });
    world.apply({ type: 'ApplyAgent' });
    const proxy = world.workloads.get('DaemonSet/kube-proxy');
    if (proxy === undefined) throw new Error('world has no kube-proxy DaemonSet');
    world.workloads.set('DaemonSet/kube-proxy', JSON.parse(JSON.stringify(proxy).replace('kube-proxy:v1.37.2', 'kube-proxy:v1.15.4')) as JsonObject);
    expect(world.desired().refusals.map(formatRefusal)).toEqual([
      `DaemonSet kube-system/kube-proxy: spec.template.spec.containers[0].image: kube-proxy runs v1.15.4, 22 minors older than kube-apiserver v1.37.2; allowed: not newer than kube-apiserver and at most 3 minors older (Kubernetes version skew policy); bring kube-proxy into that range first (kubeadm's DaemonSet: kubeadm init phase addon kube-proxy) (value "registry.k8s.io/kube-proxy:v1.15.4") [UnsupportedVersion]`,
    ]);
    expect(world.plan().action.type).toBe('Blocked');
  });

  it('3. another component’s static pod is reported and does not block the pivot', () => {
    const c = REAL_CLUSTER_CASES.find((x) => x.name.startsWith('3.'));
    if (c === undefined) throw new Error('no case 3');
    const world = worldOf(c);
    world.apply({ type: 'ApplyAgent' });
    expect(world.desired().refusals).toEqual([]);
    expect(world.desired().ignored?.map((r) => r.manifest)).toEqual([`${DIR}/my-scheduler.yaml`]);
    expect(world.plan().action.type).not.toBe('Blocked');
  });

  it('pivots at the version the apiserver runs, read as render reads it', () => {
    const world = new SimWorld({ version: 'v1.37.3' });
    expect(world.desired().version).toBe('v1.37.2');
  });
});
