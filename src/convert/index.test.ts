import type { V1Container, V1DaemonSet, V1Deployment, V1PodTemplateSpec } from '@kubernetes/client-node';
import { load } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import type { ComponentName } from '../api/types.js';
import { computeTemplateHash } from './hash.js';
import { replaceIp } from './identity.js';
import { computeDesiredWorkloads, computeSourceHash, pipelineSteps, type ConversionResult } from './index.js';
import { parseStaticPod } from './parse.js';
import {
  handwritten,
  kubeadmFixtures,
  makeSpec,
  MANIFEST_DIR,
  mustParse,
  PLAIN_RELEASES,
  TEST_RELEASES,
} from './testdata/helpers.js';

const CONTROL_PLANE = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler'] as const;

function workloadOf(result: ConversionResult, component: ComponentName): V1DaemonSet | V1Deployment {
  const w = result.workloads.find((x) => x.metadata?.name === `selfhost-${component}`);
  if (w === undefined) throw new Error(`no workload for ${component}: ${JSON.stringify(result.refusals)}`);
  return w;
}

function templateOf(result: ConversionResult, component: ComponentName): V1PodTemplateSpec {
  const t = workloadOf(result, component).spec?.template;
  if (t === undefined) throw new Error('no template');
  return t;
}

function mainOf(t: V1PodTemplateSpec | undefined, component: string): V1Container {
  const c = t?.spec?.containers.find((x) => x.name === component) ?? t?.spec?.containers[0];
  if (c === undefined) throw new Error('no container');
  return c;
}

const argv = (c: V1Container) => [...(c.command ?? []), ...(c.args ?? [])];

/** What identity templating must turn a kubeadm flag into (node cp1 / 192.0.2.10). */
function templated(token: string, component: string): string {
  if (component === 'etcd' && token === '--name=cp1') return '--name=$(NODE_NAME)';
  const t = component === 'etcd' ? token.replace('--initial-cluster=cp1=', '--initial-cluster=$(NODE_NAME)=') : token;
  return replaceIp(t, '192.0.2.10', '$(HOST_IP)');
}

const HARDENING: Record<string, string[]> = {
  etcd: ['--client-cert-auth=true', '--peer-client-cert-auth=true'],
  'kube-apiserver': ['--authorization-mode=Node,RBAC', '--enable-admission-plugins=NodeRestriction', '--allow-privileged=true'],
  'kube-controller-manager': ['--use-service-account-credentials=true', '--bind-address=127.0.0.1'],
  'kube-scheduler': ['--bind-address=127.0.0.1'],
};

describe('computeDesiredWorkloads on real kubeadm output', () => {
  const fixtures = kubeadmFixtures();
  it('finds the fixtures', () => {
    expect(fixtures.map((f) => f.version).length).toBeGreaterThanOrEqual(1);
  });

  for (const fixture of fixtures) {
    describe(fixture.version, () => {
      const spec = makeSpec({ version: fixture.version, components: [...CONTROL_PLANE] });
      const result = computeDesiredWorkloads({ manifests: fixture.manifests, spec, controlPlaneNodes: 3, releases: PLAIN_RELEASES });

      it('converts the four control-plane components without refusals', () => {
        expect(result.refusals).toEqual([]);
        expect(result.workloads.map((w) => `${w.kind}/${w.metadata?.name}`)).toEqual([
          'DaemonSet/selfhost-etcd',
          'DaemonSet/selfhost-kube-apiserver',
          'Deployment/selfhost-kube-controller-manager',
          'Deployment/selfhost-kube-scheduler',
        ]);
        expect(result.node).toEqual({ name: 'cp1', ip: '192.0.2.10' });
      });

      for (const component of CONTROL_PLANE) {
        describe(component, () => {
          const source = mustParse(fixture.manifests.find((m) => m.path.endsWith(`/${component}.yaml`)) ?? { path: '', content: '' });
          const sourcePod = source.pod.spec;
          const sourceMain = mainOf({ spec: sourcePod ?? { containers: [] } }, component);
          const template = templateOf(result, component);
          const main = mainOf(template, component);

          it('keeps every source flag (identity templated) and adds only port sharing', () => {
            const want = (sourceMain.command ?? []).slice(1).map((t) => templated(t, component));
            const got = argv(main).slice(1);
            for (const token of want) expect(got).toContain(token);
            const extra = got.filter((t) => !want.includes(t));
            expect(extra).toEqual(component === 'etcd' ? [] : ['--permit-port-sharing=true']);
            expect(got).toEqual([...got].sort((a, b) => (a.split('=')[0] ?? '').localeCompare(b.split('=')[0] ?? '')));
            expect(got.join(' ')).not.toContain('192.0.2.10');
          });

          it('keeps hardening flags', () => {
            for (const flag of HARDENING[component] ?? []) expect(argv(main)).toContain(flag);
          });

          it('keeps every hostPath volume and mount, resources, securityContext, priority class, image pull policy', () => {
            expect(template.spec?.volumes).toEqual(sourcePod?.volumes);
            expect(main.volumeMounts).toEqual(sourceMain.volumeMounts);
            expect(main.resources).toEqual(sourceMain.resources);
            expect(main.securityContext).toEqual(sourceMain.securityContext);
            expect(template.spec?.securityContext).toEqual(sourcePod?.securityContext);
            expect(template.spec?.priorityClassName).toBe('system-node-critical');
            expect(template.spec?.priority).toBeUndefined();
            expect(main.imagePullPolicy).toBe(sourceMain.imagePullPolicy);
            expect(main.image).toBe(sourceMain.image);
          });

          it('keeps the probes (node-IP hosts dropped; named ports inlined where ports go)', () => {
            for (const key of ['livenessProbe', 'readinessProbe', 'startupProbe'] as const) {
              const before = sourceMain[key];
              const after = main[key];
              expect(after === undefined).toBe(before === undefined);
              if (before === undefined || after === undefined) continue;
              const { httpGet: h0, ...rest0 } = before;
              const { httpGet: h1, ...rest1 } = after;
              expect(rest1).toEqual(rest0);
              expect(h1?.path).toBe(h0?.path);
              expect(h1?.scheme).toBe(h0?.scheme);
              expect(h1?.host).toBe(h0?.host === '192.0.2.10' ? undefined : h0?.host);
              const port = sourceMain.ports?.find((p) => p.name === h0?.port)?.containerPort ?? h0?.port;
              expect(component === 'etcd' ? h1?.port : h1?.port).toBe(component === 'etcd' ? h0?.port : port);
            }
            if (component === 'etcd') expect(main.ports).toEqual(sourceMain.ports);
            else expect(main.ports).toBeUndefined();
          });

          it('pod: host network, cluster DNS, tolerates everything, control-plane nodes, identity env, no token', () => {
            expect(template.spec).toMatchObject({
              hostNetwork: true,
              dnsPolicy: 'ClusterFirstWithHostNet',
              tolerations: [{ operator: 'Exists' }],
              nodeSelector: { 'node-role.kubernetes.io/control-plane': '' },
              automountServiceAccountToken: false,
            });
            expect(main.env?.map((e) => [e.name, e.valueFrom?.fieldRef?.fieldPath])).toEqual([
              ['HOST_IP', 'status.hostIP'],
              ['NODE_NAME', 'spec.nodeName'],
            ]);
          });

          it('labels and annotations', () => {
            expect(template.metadata?.labels).toEqual({
              ...source.pod.metadata?.labels,
              'app.kubernetes.io/managed-by': 'selfhost',
              'selfhost.dev/component': component,
              // etcd is labelled with its own version (its image tag), everything else with Kubernetes'.
              'selfhost.dev/version': component === 'etcd' ? (template.spec?.containers[0]?.image ?? '').split(':').pop() : fixture.version,
            });
            const annotations = template.metadata?.annotations ?? {};
            expect(Object.keys(annotations).sort()).toEqual([
              'selfhost.dev/checkpoint',
              'selfhost.dev/source-manifest',
              'selfhost.dev/template-hash',
            ]);
            expect(annotations['selfhost.dev/checkpoint']).toBe('true');
            expect(annotations['selfhost.dev/template-hash']).toBe(computeTemplateHash(template));
            const w = workloadOf(result, component);
            expect(w.metadata).toEqual({
              name: `selfhost-${component}`,
              namespace: 'kube-system',
              labels: { 'app.kubernetes.io/managed-by': 'selfhost', 'selfhost.dev/component': component },
              annotations: {
                'selfhost.dev/source-hash': computeSourceHash(source, result.node),
                'selfhost.dev/source-manifest': `${MANIFEST_DIR}/${component}.yaml`,
              },
            });
            expect(w.spec?.selector).toEqual({ matchLabels: { 'selfhost.dev/component': component } });
            expect(w.spec?.revisionHistoryLimit).toBe(10);
          });

          it('reports what the node agent needs', () => {
            const info = result.components.find((c) => c.name === component);
            expect(info).toMatchObject({
              kind: component === 'etcd' || component === 'kube-apiserver' ? 'DaemonSet' : 'Deployment',
              workloadName: `selfhost-${component}`,
              sourceManifest: `${MANIFEST_DIR}/${component}.yaml`,
              sourceVersion: fixture.version,
              mainContainer: component,
              templateHash: template.metadata?.annotations?.['selfhost.dev/template-hash'],
            });
            const local = {
              etcd: { 'kubeadm.kubernetes.io/etcd.advertise-client-urls': 'https://192.0.2.10:2379' },
              'kube-apiserver': { 'kubeadm.kubernetes.io/kube-apiserver.advertise-address.endpoint': '192.0.2.10:6443' },
            } as Record<string, Record<string, string>>;
            expect(info?.nodeLocalAnnotations).toEqual(local[component] ?? {});
            if (component === 'etcd' || component === 'kube-apiserver') {
              // Handed over through the gate, not by a port-sharing restart.
              expect(info?.portSharingPrep).toBeUndefined();
              return;
            }
            // The prep manifest is the source plus exactly one flag.
            const prep = load(info?.portSharingPrep ?? '') as typeof source.pod;
            const before = structuredClone(source.pod);
            before.spec?.containers[0]?.command?.push('--permit-port-sharing=true');
            expect(prep).toEqual(before);
          });
        });
      }

      it('update strategies and replicas follow docs/design.md', () => {
        expect((workloadOf(result, 'etcd') as V1DaemonSet).spec?.updateStrategy).toEqual({ type: 'OnDelete' });
        expect((workloadOf(result, 'kube-apiserver') as V1DaemonSet).spec?.updateStrategy).toEqual({
          type: 'RollingUpdate',
          rollingUpdate: { maxSurge: 1, maxUnavailable: 0 },
        });
        for (const c of ['kube-controller-manager', 'kube-scheduler'] as const) {
          const d = workloadOf(result, c) as V1Deployment;
          expect(d.spec?.replicas).toBe(3);
          expect(d.spec?.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } });
          expect(d.spec?.template.spec?.affinity?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution).toHaveLength(1);
        }
      });

      it('one template serves every node: another node’s manifests give the same workloads', () => {
        const other = fixture.manifests.map((m) => ({
          path: m.path,
          content: m.content.replaceAll('192.0.2.10', '192.0.2.11').replaceAll('cp1', 'cp2'),
        }));
        const r2 = computeDesiredWorkloads({ manifests: other, spec, controlPlaneNodes: 3, releases: PLAIN_RELEASES });
        expect(r2.node).toEqual({ name: 'cp2', ip: '192.0.2.11' });
        expect(JSON.stringify(r2.workloads)).toBe(JSON.stringify(result.workloads));
        expect(r2.components.map((c) => c.sourceHash)).toEqual(result.components.map((c) => c.sourceHash));
      });

      it('output is plain JSON: no undefined values, no class instances, keys sorted', () => {
        const text = JSON.stringify(result.workloads);
        expect(JSON.parse(text)).toEqual(result.workloads);
        const walk = (v: unknown): void => {
          if (Array.isArray(v)) return v.forEach(walk);
          if (typeof v !== 'object' || v === null) return;
          expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
          const keys = Object.keys(v);
          expect(keys).toEqual([...keys].sort());
          for (const value of Object.values(v)) {
            expect(value).not.toBeUndefined();
            walk(value);
          }
        };
        walk(result.workloads);
      });
    });
  }

  // Upgrading the older fixture to the next version must give what kubeadm itself writes for
  // that version (kubeadm changes no flags between these minors).
  for (const [i, older] of fixtures.entries()) {
    const newer = fixtures[i + 1];
    if (newer === undefined) continue;
    it(`${older.version} retargeted to ${newer.version} equals ${newer.version} converted`, () => {
      const spec = makeSpec({ version: newer.version, components: [...CONTROL_PLANE] });
      const up = computeDesiredWorkloads({ manifests: older.manifests, spec, releases: PLAIN_RELEASES });
      const fresh = computeDesiredWorkloads({ manifests: newer.manifests, spec, releases: PLAIN_RELEASES });
      expect(up.refusals).toEqual([]);
      for (const c of CONTROL_PLANE) {
        const a = templateOf(up, c);
        const b = templateOf(fresh, c);
        expect(mainOf(a, c).image).toBe(mainOf(b, c).image);
        expect(argv(mainOf(a, c))).toEqual(argv(mainOf(b, c)));
        if (c === 'kube-controller-manager') continue; // kubeadm dropped the flexvolume mount in 1.36
        expect(a).toEqual(b);
      }
    });
  }
});

describe('computeDesiredWorkloads: hand-written manifests', () => {
  const spec = makeSpec({ components: ['kube-apiserver', 'kube-scheduler', 'kube-controller-manager', 'kube-proxy', 'cni'] });

  it('converts every style, keeping sidecars, env and repeated flags', () => {
    const manifests = ['apiserver-args.yaml', 'scheduler-string.yaml', 'controller-manager-sh-exec.yaml', 'kube-proxy-static.yaml', 'cni-static.yaml'].map(handwritten);
    const result = computeDesiredWorkloads({ manifests, spec, node: { name: 'worker-7', ip: '198.51.100.7' }, releases: TEST_RELEASES });
    expect(result.refusals).toEqual([]);
    expect(result.components.map((c) => c.name)).toEqual(['cni', 'kube-apiserver', 'kube-controller-manager', 'kube-proxy', 'kube-scheduler']);

    const api = templateOf(result, 'kube-apiserver');
    const apiMain = mainOf(api, 'apiserver');
    expect(apiMain.command).toEqual(['/usr/local/bin/kube-apiserver']);
    expect(apiMain.args).toEqual([
      '--advertise-address=$(HOST_IP)',
      '--anonymous-auth=false',
      '--authorization-mode=Node,RBAC',
      '--bind-address=0.0.0.0',
      '--client-ca-file=/etc/kubernetes/pki/ca.crt',
      '--etcd-servers=https://198.51.100.7:2379,https://198.51.100.8:2379',
      '--permit-port-sharing=true',
      '--profiling=false',
      '--secure-port=6443',
      '--service-account-issuer=https://issuer.example.com',
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      '--tls-cert-file=/etc/kubernetes/pki/apiserver.crt',
      '--tls-private-key-file=/etc/kubernetes/pki/apiserver.key',
    ]);
    expect(apiMain.env?.map((e) => e.name)).toEqual(['GOMAXPROCS', 'HOST_IP', 'NODE_NAME']);
    // The source's registry is kept: spec.imageRepository is unset.
    expect(apiMain.image).toBe('registry.example.com/k8s/kube-apiserver:v1.35.5');
    expect(apiMain.livenessProbe?.httpGet?.host).toBeUndefined();
    expect(api.spec?.containers[1]).toEqual(mustParse(handwritten('apiserver-args.yaml')).pod.spec?.containers[1]);
    expect(api.metadata?.labels).toMatchObject({ app: 'apiserver', team: 'platform', 'selfhost.dev/component': 'kube-apiserver' });

    const sched = templateOf(result, 'kube-scheduler');
    expect(mainOf(sched, 'main').command).toEqual([
      'kube-scheduler',
      '--kubeconfig=/etc/kubernetes/scheduler.conf',
      '--leader-elect=true',
      '--permit-port-sharing=true',
      '--profiling=false',
    ]);
    expect(sched.spec?.priorityClassName).toBe('cluster-critical');

    const kcm = templateOf(result, 'kube-controller-manager');
    expect(mainOf(kcm, 'kcm').command).toContain('--controllers=*,bootstrapsigner,tokencleaner');
    expect(mainOf(kcm, 'kcm').securityContext).toEqual({ runAsUser: 0 });

    const proxy = workloadOf(result, 'kube-proxy') as V1DaemonSet;
    expect(proxy.spec?.updateStrategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxSurge: 0, maxUnavailable: 1 } });
    expect(argv(mainOf(proxy.spec?.template, 'kube-proxy'))).toContain('--hostname-override=$(NODE_NAME)');
    expect(proxy.spec?.template.spec?.nodeSelector).toBeUndefined();
    expect(proxy.spec?.template.metadata?.annotations?.['selfhost.dev/checkpoint']).toBeUndefined();

    const cni = workloadOf(result, 'cni') as V1DaemonSet;
    const agent = mainOf(cni.spec?.template, 'kube-flannel');
    expect(agent.command).toEqual(['/opt/bin/flanneld', '-ip-masq', '-kube-subnet-mgr', '-public-ip=$(HOST_IP)']);
    expect(agent.env?.map((e) => e.name)).toEqual(['HOST_IP']);
    expect(cni.spec?.template.spec?.initContainers).toEqual(mustParse(handwritten('cni-static.yaml')).pod.spec?.initContainers);
    expect(cni.spec?.template.metadata?.labels?.['selfhost.dev/version']).toBe('v0.26.0');
    expect(result.components.find((c) => c.name === 'cni')?.portSharingPrep).toBeUndefined();
  });

  it('a three-member etcd: only this member is templated', () => {
    const result = computeDesiredWorkloads({
      manifests: [handwritten('etcd-member.yaml')],
      spec: makeSpec({ components: ['etcd'] }),
      releases: TEST_RELEASES,
    });
    expect(result.refusals).toEqual([]);
    expect(result.node).toEqual({ name: 'cp2', ip: '203.0.113.12' });
    const main = mainOf(templateOf(result, 'etcd'), 'etcd');
    // quay.io's v3.6.6 is kubeadm's 3.6.6-0 (v1.35): retargeted to the repository and tag kubeadm uses.
    expect(main.image).toBe('quay.io/coreos/etcd:3.6.6-0');
    expect(argv(main)).toContain(
      '--initial-cluster=cp1=https://203.0.113.11:2380,$(NODE_NAME)=https://$(HOST_IP):2380,cp3=https://203.0.113.13:2380',
    );
    expect(argv(main)).toContain('--name=$(NODE_NAME)');
    expect(argv(main)).toContain('--initial-cluster-state=existing');
  });

  it('port-sharing prep keeps each manifest’s own form', () => {
    const spec2 = makeSpec({ components: ['kube-apiserver', 'kube-scheduler', 'kube-controller-manager'] });
    const manifests = ['apiserver-args.yaml', 'scheduler-string.yaml', 'controller-manager-sh-exec.yaml'].map(handwritten);
    const result = computeDesiredWorkloads({ manifests, spec: spec2, releases: TEST_RELEASES });
    const prep = (c: ComponentName) => {
      const text = result.components.find((x) => x.name === c)?.portSharingPrep ?? '';
      const pod = mustParse({ path: `${MANIFEST_DIR}/${c}.yaml`, content: text });
      expect(pod.flags).toContainEqual({ name: 'permit-port-sharing', value: 'true' });
      return pod.pod.spec?.containers[0];
    };
    expect(result.components.find((x) => x.name === 'kube-apiserver')?.portSharingPrep).toBeUndefined();
    expect(prep('kube-scheduler')?.command?.[0]).toMatch(/--profiling=false --permit-port-sharing=true$/);
    expect(prep('kube-controller-manager')?.command?.[2]).toMatch(/^exec .* --permit-port-sharing=true$/);
  });
});

describe('computeDesiredWorkloads: refusals and selection', () => {
  const fixture = kubeadmFixtures()[0];
  const manifests = fixture?.manifests ?? [];

  it('records every bad manifest and still converts the good ones', () => {
    const bad = ['refused-pipeline.yaml', 'refused-deployment.yaml', 'refused-unknown.yaml', 'refused-etcd-pod-network.yaml'].map(handwritten);
    const result = computeDesiredWorkloads({
      manifests: [...bad, ...manifests.filter((m) => m.path.includes('scheduler'))],
      spec: makeSpec({ components: ['kube-scheduler', 'kube-apiserver', 'etcd'] }),
      releases: PLAIN_RELEASES,
    });
    expect(result.workloads.map((w) => w.metadata?.name)).toEqual(['selfhost-kube-scheduler']);
    expect(result.refusals.map((r) => [r.manifest.replace(`${MANIFEST_DIR}/`, ''), r.code])).toEqual([
      ['refused-deployment.yaml', 'NotAPod'],
      ['refused-etcd-pod-network.yaml', 'NotHostNetwork'],
      ['refused-pipeline.yaml', 'UnsafeCommand'],
      ['refused-unknown.yaml', 'NoComponent'],
    ]);
  });

  it('a listed control-plane component without a manifest is refused; kube-proxy/cni are not', () => {
    const result = computeDesiredWorkloads({
      manifests: manifests.filter((m) => !m.path.includes('etcd')),
      spec: makeSpec(),
      releases: PLAIN_RELEASES,
    });
    expect(result.refusals.map((r) => [r.code, r.component])).toEqual([['MissingManifest', 'etcd']]);
    expect(result.workloads).toHaveLength(3);
    expect(computeDesiredWorkloads({ manifests: [], spec: makeSpec({ components: ['etcd'] }) }).refusals[0]?.manifest).toBe('(no manifests)');
  });

  it('converts only spec.components, and ignores refusals of unlisted components', () => {
    const result = computeDesiredWorkloads({
      manifests: [...manifests, handwritten('refused-etcd-pod-network.yaml')],
      spec: makeSpec({ components: ['kube-scheduler'] }),
      releases: PLAIN_RELEASES,
    });
    expect(result.refusals).toEqual([]);
    expect(result.workloads.map((w) => w.metadata?.name)).toEqual(['selfhost-kube-scheduler']);
  });

  it('two manifests for one component (a backup file in the manifest directory)', () => {
    const api = manifests.find((m) => m.path.endsWith('kube-apiserver.yaml'));
    if (api === undefined) throw new Error('fixture');
    const result = computeDesiredWorkloads({
      manifests: [api, { path: `${api.path}.bak`, content: api.content }],
      spec: makeSpec({ components: ['kube-apiserver'] }),
      releases: PLAIN_RELEASES,
    });
    expect(result.workloads).toEqual([]);
    expect(result.refusals.map((r) => r.code)).toEqual(['DuplicateComponent', 'DuplicateComponent']);
    expect(result.refusals[0]?.reason).toContain('kube-apiserver.yaml.bak');
  });

  it('a node identity that disagrees with the manifests blocks etcd and the apiserver only', () => {
    const result = computeDesiredWorkloads({
      manifests,
      spec: makeSpec({ components: [...CONTROL_PLANE] }),
      node: { name: 'cp1', ip: '192.0.2.99' },
      releases: PLAIN_RELEASES,
    });
    expect(new Set(result.refusals.map((r) => `${r.component}:${r.code}`))).toEqual(
      new Set(['etcd:IdentityConflict', 'kube-apiserver:IdentityConflict']),
    );
    expect(result.workloads.map((w) => w.metadata?.name)).toEqual(['selfhost-kube-controller-manager', 'selfhost-kube-scheduler']);
  });

  it('version problems become refusals per component', () => {
    const bad = computeDesiredWorkloads({ manifests, spec: makeSpec({ version: 'latest', components: ['kube-scheduler'] }) });
    expect(bad.refusals.map((r) => r.code)).toEqual(['UnsupportedVersion']);
    const far = computeDesiredWorkloads({ manifests, spec: makeSpec({ version: 'v1.99.0', components: ['kube-scheduler', 'etcd'] }), releases: TEST_RELEASES });
    expect(far.refusals.map((r) => [r.component, r.code])).toEqual([
      ['etcd', 'UnsupportedVersion'],
      ['kube-scheduler', 'UnsupportedVersion'],
    ]);
    expect(far.refusals[0]?.reason).toContain('v1.35–v1.37');
    const step = computeDesiredWorkloads({ manifests, spec: makeSpec({ components: ['kube-scheduler'] }), version: 'v1.36.4', releases: TEST_RELEASES });
    expect(mainOf(step.workloads[0]?.spec?.template, 'kube-scheduler').image).toBe('registry.k8s.io/kube-scheduler:v1.36.4');
  });

  it('etcd without an apiserver manifest: its Kubernetes minor from the table, or a refusal', () => {
    const etcd = manifests.filter((m) => m.path.endsWith('etcd.yaml'));
    const known = computeDesiredWorkloads({ manifests: etcd, spec: makeSpec({ components: ['etcd'] }), releases: TEST_RELEASES });
    expect(known.components[0]?.sourceVersion).toBe('v1.35.0');
    const unknown = computeDesiredWorkloads({
      manifests: etcd,
      spec: makeSpec({ components: ['etcd'] }),
      releases: [{ minor: '1.35', etcdImageTag: '9.9.9-0', pauseImageTag: 'x', flagChanges: {} }],
    });
    expect(unknown.refusals.map((r) => r.code)).toEqual(['UnknownSourceVersion']);
  });

  it('an override is taken as written, even with this node’s IP, and survives re-conversion', () => {
    const api = manifests.filter((m) => m.path.endsWith('kube-apiserver.yaml'));
    const spec = makeSpec({
      components: ['kube-apiserver'],
      overrides: {
        'kube-apiserver': {
          extraArgs: [
            { name: 'external-hostname', value: '192.0.2.10' },
            { name: 'bind-address', value: '192.0.2.10' },
          ],
        },
      },
    });
    const first = computeDesiredWorkloads({ manifests: api, spec, releases: PLAIN_RELEASES });
    expect(first.refusals).toEqual([]);
    const template = templateOf(first, 'kube-apiserver');
    expect(argv(mainOf(template, 'kube-apiserver'))).toEqual(
      expect.arrayContaining(['--external-hostname=192.0.2.10', '--bind-address=192.0.2.10', '--advertise-address=$(HOST_IP)']),
    );
    const again = [{ path: api[0]?.path ?? '', content: JSON.stringify({ apiVersion: 'v1', kind: 'Pod', ...template }) }];
    const second = computeDesiredWorkloads({ manifests: again, spec, node: first.node, releases: PLAIN_RELEASES });
    expect(second.refusals).toEqual([]);
    expect(templateOf(second, 'kube-apiserver')).toEqual(template);
  });

  it('flag changes and overrides reach the output', () => {
    const spec = makeSpec({
      version: 'v1.37.2',
      components: ['kube-apiserver'],
      overrides: { 'kube-apiserver': { extraArgs: [{ name: 'profiling', value: 'false' }], resources: { limits: { memory: '2Gi' } } } },
    });
    // One minor up (the most a conversion moves): v1.36.4 → v1.37.2 gets 1.37's flag change.
    const v136 = kubeadmFixtures().find((f) => f.version === 'v1.36.4')?.manifests ?? [];
    const api = v136.filter((m) => m.path.endsWith('kube-apiserver.yaml'));
    const result = computeDesiredWorkloads({ manifests: api, spec, releases: TEST_RELEASES });
    const main = mainOf(templateOf(result, 'kube-apiserver'), 'kube-apiserver');
    expect(argv(main)).toContain('--new-default=on');
    expect(argv(main)).toContain('--profiling=false');
    expect(main.resources).toEqual({ requests: { cpu: '250m' }, limits: { memory: '2Gi' } });
    expect(main.image).toBe('registry.k8s.io/kube-apiserver:v1.37.2');
  });

  it('documents the pipelines', () => {
    expect(pipelineSteps('etcd')).toEqual([
      'stripStaticPodFields',
      'dropNodeLocalAnnotations',
      'retargetImage',
      'applyFlagChanges',
      'templateNodeIdentity',
      'applyExtraArgs',
      'addNodeIdentityEnv',
      'refuseNodeLocalValues',
      'applyResources',
      'dropNodeLocalProbeHosts',
      'placeOnControlPlane',
      'useHostNetworkDns',
      'ensurePriorityClass',
      'disableServiceAccountToken',
      'reportLogsOnError',
      'sortFlags',
      'addHandoverGate',
      'labelForSelfHost',
    ]);
    expect(pipelineSteps('kube-scheduler')).toContain('spreadAcrossNodes');
    expect(pipelineSteps('kube-apiserver')).toContain('addPortSharing');
    expect(pipelineSteps('kube-apiserver')).toContain('addHandoverGate');
    expect(pipelineSteps('kube-proxy')).not.toContain('applyFlagChanges');
  });

  it('parse refusals carry the manifest path', () => {
    const r = parseStaticPod({ path: '/x/y.yaml', content: 'kind: Pod' });
    expect(r.ok || r.refusal.manifest).toBe('/x/y.yaml');
  });
});
