import type { V1DaemonSet } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { computeDesiredAdoptedDaemonSet, findCniDaemonSet, isCniDaemonSet } from './adopt.js';
import { computeTemplateHash } from './hash.js';
import { deepFreeze, kubeadmFixtures, makeSpec, TEST_RELEASES } from './testdata/helpers.js';

/** What the API server returns for a DaemonSet, on top of what was created. */
function asServed(ds: V1DaemonSet): V1DaemonSet {
  const served: V1DaemonSet = {
    ...structuredClone(ds),
    metadata: {
      ...ds.metadata,
      uid: '6f1c',
      resourceVersion: '4242',
      generation: 3,
      creationTimestamp: new Date('2025-01-01T00:00:00Z'),
      managedFields: [{ manager: 'kubeadm', operation: 'Update' }],
      annotations: { ...ds.metadata?.annotations, 'deprecated.daemonset.template.generation': '3' },
    },
    status: { currentNumberScheduled: 1, desiredNumberScheduled: 1, numberMisscheduled: 0, numberReady: 1 },
  };
  const template = served.spec?.template;
  if (template !== undefined) template.metadata = { ...template.metadata, creationTimestamp: null as unknown as Date };
  return served;
}

const cniDaemonSet = (name: string, namespace = 'kube-system', labels: Record<string, string> = {}, cniDir = '/etc/cni/net.d'): V1DaemonSet => ({
  apiVersion: 'apps/v1',
  kind: 'DaemonSet',
  metadata: { name, namespace, labels, annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{}' } },
  spec: {
    selector: { matchLabels: { app: name } },
    updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '10%' } },
    template: {
      metadata: { labels: { app: name } },
      spec: {
        initContainers: [{ name: 'install-cni', image: 'docker.io/calico/cni:v3.29.0' }],
        containers: [{ name: 'calico-node', image: 'docker.io/calico/node:v3.29.0' }],
        volumes: [{ name: 'cni-net-dir', hostPath: { path: cniDir } }],
      },
    },
  },
});

describe('computeDesiredAdoptedDaemonSet: kubeadm kube-proxy', () => {
  for (const fixture of kubeadmFixtures()) {
    const existing = fixture.proxyDaemonSet;
    if (existing === undefined) continue;
    it(`${fixture.version}: same object, stripped, labelled, retargeted`, () => {
      const served = deepFreeze(asServed(existing));
      const r = computeDesiredAdoptedDaemonSet(served, 'kube-proxy', makeSpec(), 'v1.37.2', TEST_RELEASES);
      if (!r.ok) throw new Error(JSON.stringify(r.refusal));
      const ds = r.daemonSet;
      expect(ds.metadata).toEqual({
        name: 'kube-proxy',
        namespace: 'kube-system',
        labels: { 'k8s-app': 'kube-proxy', 'app.kubernetes.io/managed-by': 'selfhost', 'selfhost.dev/component': 'kube-proxy' },
        annotations: { 'selfhost.dev/template-hash': r.templateHash },
      });
      expect(ds.status).toBeUndefined();
      expect(ds.spec?.selector).toEqual(existing.spec?.selector);
      expect(ds.spec?.updateStrategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxSurge: 0, maxUnavailable: 1 } });
      const template = ds.spec?.template;
      expect(template?.metadata).toEqual(existing.spec?.template.metadata);
      expect(template?.spec?.containers[0]?.image).toBe('registry.k8s.io/kube-proxy:v1.37.2');
      // Nothing else in the pod template changes: adopting does not roll the pods by itself.
      const withoutImage = (c: object | undefined) => Object.fromEntries(Object.entries(c ?? {}).filter(([k]) => k !== 'image'));
      expect(withoutImage(template?.spec?.containers[0])).toEqual(withoutImage(existing.spec?.template.spec?.containers[0]));
      expect(computeTemplateHash(template ?? {})).toBe(r.templateHash);
      // Adopting at the running version changes nothing in the template.
      const same = computeDesiredAdoptedDaemonSet(served, 'kube-proxy', makeSpec(), fixture.version, TEST_RELEASES);
      expect(same.ok && same.daemonSet.spec?.template).toEqual(JSON.parse(JSON.stringify(existing.spec?.template)));
    });

    it(`${fixture.version}: overrides apply to the kube-proxy container`, () => {
      const spec = makeSpec({
        overrides: { 'kube-proxy': { extraArgs: [{ name: 'v', value: '2' }], resources: { requests: { cpu: '50m' } }, image: 'me/kp:1' } },
      });
      const r = computeDesiredAdoptedDaemonSet(existing, 'kube-proxy', spec, 'v1.35.5', TEST_RELEASES);
      if (!r.ok) throw new Error(JSON.stringify(r.refusal));
      const c = r.daemonSet.spec?.template.spec?.containers[0];
      expect(c?.image).toBe('me/kp:1');
      expect(c?.command).toEqual(['/usr/local/bin/kube-proxy', '--config=/var/lib/kube-proxy/config.conf', '--hostname-override=$(NODE_NAME)', '--v=2']);
      expect(c?.resources).toEqual({ requests: { cpu: '50m' } });
    });
  }

  it('refusals: unsupported version, no kube-proxy container, no template', () => {
    const ds = cniDaemonSet('kube-proxy');
    const two = structuredClone(ds);
    two.spec?.template.spec?.containers.push({ name: 'other' });
    expect(computeDesiredAdoptedDaemonSet(two, 'kube-proxy', makeSpec(), 'v1.35.5', TEST_RELEASES)).toMatchObject({
      ok: false,
      refusal: { code: 'AmbiguousMainContainer', manifest: 'DaemonSet kube-system/kube-proxy' },
    });
    expect(computeDesiredAdoptedDaemonSet(ds, 'kube-proxy', makeSpec(), 'v1.99.0', TEST_RELEASES)).toMatchObject({
      ok: false,
      refusal: { code: 'UnsupportedVersion' },
    });
    expect(computeDesiredAdoptedDaemonSet(ds, 'kube-proxy', makeSpec(), 'latest')).toMatchObject({ ok: false, refusal: { code: 'UnsupportedVersion' } });
    expect(computeDesiredAdoptedDaemonSet({ metadata: { name: 'x' } }, 'kube-proxy', makeSpec(), 'v1.35.5')).toMatchObject({
      ok: false,
      refusal: { code: 'NotAPod', manifest: 'DaemonSet ?/x' },
    });
    const shell: V1DaemonSet = structuredClone(ds);
    const c0 = shell.spec?.template.spec?.containers[0];
    if (c0) c0.command = ['sh', '-c', 'kube-proxy --a=1 | tee x'];
    const withArgs = makeSpec({ overrides: { 'kube-proxy': { extraArgs: [{ name: 'v', value: '2' }] } } });
    expect(computeDesiredAdoptedDaemonSet(shell, 'kube-proxy', withArgs, 'v1.35.5', TEST_RELEASES)).toMatchObject({
      ok: false,
      refusal: { code: 'UnsupportedOverride' },
    });
  });
});

describe('computeDesiredAdoptedDaemonSet: cni', () => {
  it('keeps the template and strategy; image only when spec.cni.image is set', () => {
    const ds = asServed(cniDaemonSet('calico-node'));
    const kept = computeDesiredAdoptedDaemonSet(ds, 'cni', makeSpec(), 'v1.35.5', TEST_RELEASES);
    if (!kept.ok) throw new Error('refused');
    expect(kept.daemonSet.spec?.template).toEqual(cniDaemonSet('calico-node').spec?.template);
    expect(kept.daemonSet.spec?.updateStrategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '10%' } });
    expect(kept.daemonSet.metadata?.annotations).toEqual({ 'selfhost.dev/template-hash': kept.templateHash });
    const spec = makeSpec({ cni: { namespace: 'kube-system', image: 'docker.io/calico/node:v3.30.0' } });
    const moved = computeDesiredAdoptedDaemonSet(ds, 'cni', spec, 'v1.35.5', TEST_RELEASES);
    if (!moved.ok) throw new Error('refused');
    expect(moved.daemonSet.spec?.template.spec?.containers[0]?.image).toBe('docker.io/calico/node:v3.30.0');
    expect(moved.daemonSet.spec?.template.spec?.initContainers?.[0]?.image).toBe('docker.io/calico/cni:v3.29.0');
    expect(moved.templateHash).not.toBe(kept.templateHash);
  });

  it('refuses extraArgs for a CNI', () => {
    const spec = makeSpec({ overrides: { cni: { extraArgs: [{ name: 'a', value: 'b' }] } } });
    expect(computeDesiredAdoptedDaemonSet(cniDaemonSet('c'), 'cni', spec, 'v1.35.5')).toMatchObject({
      ok: false,
      refusal: { code: 'UnsupportedOverride' },
    });
  });
});

describe('isCniDaemonSet / findCniDaemonSet', () => {
  const calico = cniDaemonSet('calico-node', 'kube-system', { 'k8s-app': 'calico-node' });
  const flannel = cniDaemonSet('kube-flannel-ds', 'kube-system', { app: 'flannel' }, '/etc/cni/net.d/');
  const proxy: V1DaemonSet = { metadata: { name: 'kube-proxy', namespace: 'kube-system' }, spec: { selector: {}, template: { spec: { containers: [] } } } };
  const elsewhere = cniDaemonSet('cilium', 'cilium-system');

  it('isCniDaemonSet', () => {
    expect([calico, flannel, proxy, elsewhere].map(isCniDaemonSet)).toEqual([true, true, false, true]);
    expect(isCniDaemonSet({})).toBe(false);
  });

  it.each([
    ['by name', { namespace: 'kube-system', name: 'calico-node' }, [calico, flannel], 'calico-node'],
    ['by selector', { namespace: 'kube-system', selector: { app: 'flannel' } }, [calico, flannel], 'kube-flannel-ds'],
    ['auto-detected', { namespace: 'kube-system' }, [calico, proxy, elsewhere], 'calico-node'],
    ['auto-detected in another namespace', { namespace: 'cilium-system' }, [calico, elsewhere], 'cilium'],
  ])('%s', (_name, cni, list, want) => {
    const r = findCniDaemonSet(list, cni);
    expect(r.ok && r.daemonSet.metadata?.name).toBe(want);
  });

  it.each([
    ['name not found', { namespace: 'kube-system', name: 'weave' }, [calico], 'CniNotFound', /is named weave/],
    ['selector matches none', { namespace: 'kube-system', selector: { app: 'x' } }, [calico], 'CniNotFound', /selector/],
    ['none auto-detected', { namespace: 'kube-system' }, [proxy], 'CniNotFound', /mounts \/etc\/cni\/net\.d/],
    ['two auto-detected', { namespace: 'kube-system' }, [calico, flannel], 'CniAmbiguous', /calico-node, kube-flannel-ds.*spec\.cni\.name/],
  ])('refuses: %s', (_name, cni, list, code, reason) => {
    const r = findCniDaemonSet(list, cni);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.refusal.code).toBe(code);
      expect(r.refusal.reason).toMatch(reason);
      expect(r.refusal.component).toBe('cni');
    }
  });
});
