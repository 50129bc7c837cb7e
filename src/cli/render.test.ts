import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadAll } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { dispatch } from './dispatch.js';
import { memoryIo } from './testing.js';

const kubeadm = fileURLToPath(new URL('../convert/testdata/kubeadm/', import.meta.url));
const handwritten = fileURLToPath(new URL('../convert/testdata/handwritten/', import.meta.url));

/** A directory of the fixture tree as an in-memory file map under `dir`. */
function filesOf(src: string, dir: string, names = readdirSync(src)): Record<string, string> {
  return Object.fromEntries(names.map((n) => [`${dir}/${n}`, readFileSync(`${src}/${n}`, 'utf8')]));
}

interface Workload {
  kind: string;
  metadata: { name: string };
  spec: { template: { spec: { containers: { command?: string[]; volumeMounts?: { mountPath: string }[] }[]; volumes?: { hostPath?: { path: string } }[] } } };
}

describe('selfhost render on real kubeadm output', () => {
  const versions = readdirSync(kubeadm).filter((d) => d.startsWith('v'));
  it('has fixtures to test', () => expect(versions.length).toBeGreaterThanOrEqual(3));

  it.each(versions)('%s: every source flag, hostPath and mount survives', (version) => {
    const src = `${kubeadm}/${version}/manifests`;
    const io = memoryIo(filesOf(src, '/etc/kubernetes/manifests'));
    expect(dispatch(['render', '--manifests', '/etc/kubernetes/manifests'], io)).toBe(0);
    expect(io.stderr).toEqual([]);
    const workloads = loadAll(io.stdout.join('\n')) as Workload[];
    expect(workloads.map((w) => `${w.kind}/${w.metadata.name}`)).toEqual([
      'DaemonSet/selfhost-etcd',
      'DaemonSet/selfhost-kube-apiserver',
      'Deployment/selfhost-kube-controller-manager',
      'Deployment/selfhost-kube-scheduler',
    ]);
    for (const file of readdirSync(src)) {
      const pod = loadAll(readFileSync(`${src}/${file}`, 'utf8'))[0] as Workload['spec']['template'];
      const component = file.replace(/\.yaml$/, '');
      const out = workloads.find((w) => w.metadata.name === `selfhost-${component}`)?.spec.template.spec;
      const outFlags = new Set((out?.containers[0]?.command ?? []).map((f) => f.split('=')[0]));
      for (const flag of pod.spec.containers[0]?.command?.slice(1) ?? []) {
        expect(outFlags, `${version} ${component} ${flag}`).toContain(flag.split('=')[0]);
      }
      const outPaths = new Set(out?.volumes?.map((v) => v.hostPath?.path));
      for (const v of pod.spec.volumes ?? []) expect(outPaths).toContain(v.hostPath?.path);
      const outMounts = new Set(out?.containers[0]?.volumeMounts?.map((m) => m.mountPath));
      for (const m of pod.spec.containers[0]?.volumeMounts ?? []) expect(outMounts).toContain(m.mountPath);
    }
  });

  it('retargets to --version and is byte-identical when run twice', () => {
    const files = filesOf(`${kubeadm}/v1.36.4/manifests`, '/m');
    const first = memoryIo(files);
    const second = memoryIo(files);
    expect(dispatch(['render', '--manifests', '/m', '--version', 'v1.37.2'], first)).toBe(0);
    expect(dispatch(['render', '--manifests', '/m/', '--version', 'v1.37.2'], second)).toBe(0);
    expect(first.stdout).toEqual(second.stdout);
    expect(first.stdout.join('\n')).toContain('registry.k8s.io/kube-apiserver:v1.37.2');
    expect(first.stdout.join('\n')).toContain('registry.k8s.io/etcd:3.7.0-0');
  });

  it('takes the spec from -f, with its overrides', () => {
    const files = {
      ...filesOf(`${kubeadm}/v1.37.2/manifests`, '/m'),
      '/cp.yaml': readFileSync(new URL('../../deploy/samples/controlplane.yaml', import.meta.url), 'utf8'),
    };
    const io = memoryIo(files);
    expect(dispatch(['render', '--manifests', '/m', '-f', '/cp.yaml', '--control-plane-nodes', '3'], io)).toBe(0);
    const text = io.stdout.join('\n');
    expect(text).toContain('--audit-log-maxage=30');
    expect(text).toMatch(/replicas: 3/);
  });
});

describe('selfhost render refusals', () => {
  it('ignores static pods of other software but converts the rest', () => {
    const files = {
      ...filesOf(`${kubeadm}/v1.37.2/manifests`, '/m'),
      '/m/kube-vip.yaml': 'apiVersion: v1\nkind: Pod\nmetadata: {name: kube-vip}\nspec:\n  containers:\n  - name: kube-vip\n    image: ghcr.io/kube-vip/kube-vip:v0.8.0\n    args: [manager]\n',
    };
    const io = memoryIo(files);
    expect(dispatch(['render', '--manifests', '/m'], io)).toBe(0);
    expect(io.stderr).toEqual(['ignored: /m/kube-vip.yaml: not one of selfhost\'s components; left as a static pod']);
  });

  it('refuses what it cannot convert safely, names why, and exits 1', () => {
    const names = readdirSync(handwritten).filter((n) => n.startsWith('refused-'));
    expect(names.length).toBeGreaterThan(0);
    const io = memoryIo({ ...filesOf(`${kubeadm}/v1.37.2/manifests`, '/m'), ...filesOf(handwritten, '/m', names) });
    expect(dispatch(['render', '--manifests', '/m'], io)).toBe(1);
    const refusals = io.stderr.filter((l) => l.startsWith('refused: '));
    expect(refusals.length).toBeGreaterThan(0);
    for (const line of refusals) expect(line).toMatch(/^refused: \/m\/\S+: .+ \[[A-Za-z]+\]$/);
  });

  it.each([
    [['render'], 2, /usage: selfhost render/],
    [['render', '--manifests', '/m', '--control-plane-nodes', 'two'], 2, /"two" is not a positive integer/],
    [['render', '--manifests', '/nowhere'], 1, /\/nowhere: cannot read/],
    [['render', '--manifests', '/empty'], 1, /no target version/],
    [['render', '--manifests', '/m', '--version', 'v1.99.0'], 1, /refused: .*v1\.35.v1\.37/],
    [['render', '--manifests', '/m', '-f', '/bad.yaml'], 1, /\/bad\.yaml: invalid/],
    [['render', '--manifests', '/m', '-f', '/broken.yaml'], 1, /\/broken\.yaml: /],
    [['render', '--manifests', '/m', '--nope'], 2, /allowed options/],
  ])('%j exits %i', (argv, code, want) => {
    const io = memoryIo({
      ...filesOf(`${kubeadm}/v1.37.2/manifests`, '/m'),
      '/empty/README.txt': 'nothing',
      '/bad.yaml': 'apiVersion: selfhost.dev/v1alpha1\nkind: ControlPlane\nmetadata: {name: cluster}\nspec: {version: "1.37"}\n',
      '/broken.yaml': 'spec: [',
    });
    expect(dispatch(argv, io)).toBe(code);
    expect(io.stderr.join('\n')).toMatch(want);
  });
});
