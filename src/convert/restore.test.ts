import { load } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import type { ComponentName } from '../api/types.js';
import { GATE_EXEC_PATH } from './mutators/handover-gate.js';
import { computeRestoredManifest, type RestoreInput } from './restore.js';
import { kubeadmFixtures, makeSpec, NODE, PLAIN_RELEASES } from './testdata/helpers.js';

const CONTROL_PLANE: readonly ComponentName[] = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler'];
const GATE_IMAGE = 'selfhost.local/selfhost:test';

function restore(over: Partial<RestoreInput> & Pick<RestoreInput, 'manifests' | 'component' | 'version'>) {
  const r = computeRestoredManifest({ spec: makeSpec({ version: over.version }), node: NODE, gateImage: GATE_IMAGE, releases: PLAIN_RELEASES, ...over });
  if (!r.ok) throw new Error(`refused: ${JSON.stringify(r.refusal)}`);
  return r.manifest;
}

function mainArgv(yaml: string): string[] {
  const pod = load(yaml) as { spec: { containers: { command?: string[]; args?: string[] }[] } };
  const main = pod.spec.containers[0];
  return [...(main?.command ?? []), ...(main?.args ?? [])];
}

const fixtures = kubeadmFixtures();
const byVersion = new Map(fixtures.map((f) => [f.version, f]));

describe('computeRestoredManifest: the file kubeadm itself writes', () => {
  // Restored at the version it runs, kubeadm's own manifest comes back as it was (same object).
  it.each(fixtures.flatMap((f) => CONTROL_PLANE.map((c) => [f.version, c] as const)))('%s %s at its own version is the original', (version, component) => {
    const f = byVersion.get(version);
    if (f === undefined) throw new Error('no fixture');
    const m = restore({ manifests: f.manifests, component, version });
    const original = f.manifests.find((x) => x.path === m.path);
    expect(load(m.restored)).toEqual(load(original?.content ?? ''));
  });

  // After an upgrade by selfhost (one minor): what kubeadm writes for the new version.
  it.each(CONTROL_PLANE)('v1.36.4 %s restored at v1.37.2 is kubeadm v1.37.2\'s manifest', (component) => {
    const from = byVersion.get('v1.36.4');
    const to = byVersion.get('v1.37.2');
    if (from === undefined || to === undefined) throw new Error('fixtures v1.36.4 and v1.37.2 are needed');
    const m = restore({ manifests: from.manifests, component, version: 'v1.37.2' });
    const expected = to.manifests.find((x) => x.path === m.path);
    expect(load(m.restored)).toEqual(load(expected?.content ?? ''));
  });

  it("keeps the user's overrides, with the node's own address for $(HOST_IP)", () => {
    const f = byVersion.get('v1.37.2');
    if (f === undefined) throw new Error('no fixture');
    const spec = makeSpec({
      version: 'v1.37.2',
      overrides: { 'kube-scheduler': { extraArgs: [{ name: 'v', value: '3' }, { name: 'bind-address', value: '$(HOST_IP)' }] } },
    });
    const m = restore({ manifests: f.manifests, component: 'kube-scheduler', version: 'v1.37.2', spec });
    const argv = mainArgv(m.restored);
    expect(argv).toContain('--v=3');
    expect(argv).toContain(`--bind-address=${NODE.ip ?? ''}`);
    expect(argv.filter((a) => a.startsWith('--bind-address='))).toHaveLength(1);
    expect(m.restored).not.toContain('$(');
  });

  it('adds nothing of selfhost to the restored file', () => {
    const f = byVersion.get('v1.37.2');
    if (f === undefined) throw new Error('no fixture');
    for (const component of CONTROL_PLANE) {
      const m = restore({ manifests: f.manifests, component, version: 'v1.37.2' });
      expect(m.restored).not.toMatch(/selfhost\.dev|selfhost-gate|permit-port-sharing/);
    }
  });

  it('refuses a component without an original manifest, naming it', () => {
    const r = computeRestoredManifest({ manifests: [], component: 'etcd', version: 'v1.37.2', spec: makeSpec(), node: NODE, gateImage: GATE_IMAGE });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.refusal.reason).toContain('no original manifest of etcd');
  });
});

describe('computeRestoredManifest: the hand-back variant', () => {
  const f = byVersion.get('v1.37.2');
  if (f === undefined) throw new Error('no fixture');

  it.each(['kube-apiserver', 'kube-controller-manager', 'kube-scheduler'] as const)('%s: the restored file plus --permit-port-sharing=true', (component) => {
    const m = restore({ manifests: f.manifests, component, version: 'v1.37.2' });
    const restored = mainArgv(m.restored);
    const handback = mainArgv(m.handback);
    expect(handback).toEqual([...restored, '--permit-port-sharing=true']);
  });

  it("etcd: the same etcd command, behind a gate that waits only for etcd's ports (not for its own manifest)", () => {
    const m = restore({ manifests: f.manifests, component: 'etcd', version: 'v1.37.2' });
    const restored = mainArgv(m.restored);
    const handback = mainArgv(m.handback);
    const sep = handback.indexOf('--');
    expect(handback.slice(0, 2)).toEqual([GATE_EXEC_PATH, 'wait']);
    expect(handback.slice(2, sep)).toEqual(['--port=2379', '--port=2380', '--port=2381']);
    expect(handback.slice(sep + 1)).toEqual(restored);
    const pod = load(m.handback) as { spec: { initContainers?: { image?: string }[]; volumes?: { name: string; emptyDir?: object }[] } };
    expect(pod.spec.initContainers?.[0]?.image).toBe(GATE_IMAGE);
    expect(pod.spec.volumes?.some((v) => v.emptyDir !== undefined)).toBe(true);
  });
});
