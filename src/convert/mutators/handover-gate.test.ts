import { describe, expect, it } from 'vitest';
import { computeDesiredWorkloads } from '../index.js';
import { kubeadmFixtures, makeSpec } from '../testdata/helpers.js';
import { computeGateArgs, computeUrlPorts, GATE_CONTAINER } from './handover-gate.js';

describe('computeUrlPorts', () => {
  it.each<[string | undefined, number, number[]]>([
    [undefined, 2379, [2379]],
    ['', 2380, [2380]],
    ['https://127.0.0.1:2379,https://10.0.0.1:2379', 2379, [2379]],
    ['https://10.0.0.1:2380', 2379, [2380]],
    ['http://a:12379/,https://b:2379', 1, [2379, 12379]],
    ['unix://socket', 2379, [2379]],
  ])('%s → %j', (urls, fallback, expected) => {
    expect(computeUrlPorts(urls, fallback)).toEqual(expected);
  });
});

describe('computeGateArgs', () => {
  const M = '/etc/kubernetes/manifests';
  it.each<[string, Parameters<typeof computeGateArgs>, string[]]>([
    ['etcd defaults', ['etcd', `${M}/etcd.yaml`, []], [`--absent=${M}/etcd.yaml`, '--port=2379', '--port=2380']],
    [
      'etcd listen URLs',
      ['etcd', `${M}/etcd.yaml`, [{ name: 'listen-client-urls', value: 'https://127.0.0.1:12379' }, { name: 'listen-peer-urls', value: 'https://10.0.0.1:12380' }]],
      [`--absent=${M}/etcd.yaml`, '--port=12379', '--port=12380'],
    ],
    [
      'etcd metrics listener',
      ['etcd', `${M}/etcd.yaml`, [{ name: 'listen-metrics-urls', value: 'http://127.0.0.1:2381' }]],
      [`--absent=${M}/etcd.yaml`, '--port=2379', '--port=2380', '--port=2381'],
    ],
    ['apiserver default port', ['kube-apiserver', `${M}/kube-apiserver.yaml`, []], [`--absent=${M}/kube-apiserver.yaml`, '--port=6443', '--open-if-absent-at-start']],
    [
      'apiserver --secure-port',
      ['kube-apiserver', `${M}/kube-apiserver.yaml`, [{ name: 'secure-port', value: '8443' }]],
      [`--absent=${M}/kube-apiserver.yaml`, '--port=8443', '--open-if-absent-at-start'],
    ],
    [
      'apiserver with an unusable --secure-port falls back to 6443',
      ['kube-apiserver', `${M}/kube-apiserver.yaml`, [{ name: 'secure-port', value: 'x' }]],
      [`--absent=${M}/kube-apiserver.yaml`, '--port=6443', '--open-if-absent-at-start'],
    ],
  ])('%s', (_name, args, expected) => {
    expect(computeGateArgs(...args)).toEqual(expected);
  });
});

describe('addHandoverGate', () => {
  for (const f of kubeadmFixtures()) {
    const workloadOf = (name: string, image?: string) => {
      const r = computeDesiredWorkloads({
        manifests: f.manifests,
        spec: makeSpec({ version: f.version }),
        ...(image === undefined ? {} : { handoverGateImage: image }),
      });
      const ds = r.workloads.find((w) => w.metadata?.name === name);
      if (ds === undefined) throw new Error(`no ${name} workload: ${JSON.stringify(r.refusals)}`);
      return ds.spec?.template.spec;
    };
    const etcdOf = (image?: string) => workloadOf('selfhost-etcd', image);

    it(`${f.version}: gates the apiserver on its manifest and secure port, opening at once on later rollouts`, () => {
      const spec = workloadOf('selfhost-kube-apiserver', 'example/selfhost:1');
      const gate = spec?.initContainers?.find((c) => c.name === GATE_CONTAINER);
      expect(gate?.args).toEqual(['gate', '--absent=/etc/kubernetes/manifests/kube-apiserver.yaml', '--port=6443', '--open-if-absent-at-start']);
      expect(spec?.containers[0]?.command).toContain('--permit-port-sharing=true');
      for (const c of spec?.containers ?? []) expect(c.ports).toBeUndefined();
    });

    it(`${f.version}: leaves the scheduler and controller-manager without a gate`, () => {
      for (const name of ['selfhost-kube-scheduler', 'selfhost-kube-controller-manager']) {
        expect(workloadOf(name, 'example/selfhost:1')?.initContainers ?? []).toEqual([]);
      }
    });

    it(`${f.version}: gates etcd inside its own container, with no container ports left`, () => {
      const spec = etcdOf('example/selfhost:1');
      const install = spec?.initContainers?.find((c) => c.name === GATE_CONTAINER);
      expect(install?.image).toBe('example/selfhost:1');
      expect(install?.command).toEqual(['/usr/local/bin/selfhost-gate-exec']);
      expect(install?.args).toEqual(['install', '/var/run/selfhost-gate/selfhost-gate-exec']);
      expect(install?.securityContext?.capabilities?.drop).toEqual(['ALL']);
      expect(install?.volumeMounts).toEqual([{ name: 'selfhost-gate-exec', mountPath: '/var/run/selfhost-gate' }]);
      const etcd = spec?.containers[0];
      const command = etcd?.command ?? [];
      const dash = command.indexOf('--');
      expect(command.slice(0, dash)).toEqual([
        '/var/run/selfhost-gate/selfhost-gate-exec',
        'wait',
        '--absent=/etc/kubernetes/manifests/etcd.yaml',
        '--port=2379',
        '--port=2380',
        '--port=2381',
      ]);
      // After `--`: etcd's own command line, every flag kept.
      expect(command[dash + 1]).toBe('etcd');
      expect(command.slice(dash + 2).every((a) => a.startsWith('--'))).toBe(true);
      expect(command.filter((a) => a.startsWith('--data-dir='))).toEqual(['--data-dir=/var/lib/etcd']);
      expect(etcd?.volumeMounts).toEqual(
        expect.arrayContaining([
          { name: 'selfhost-gate-exec', mountPath: '/var/run/selfhost-gate', readOnly: true },
          { name: 'selfhost-static-manifests', mountPath: '/etc/kubernetes/manifests', readOnly: true },
        ]),
      );
      expect(spec?.volumes?.find((v) => v.name === 'selfhost-static-manifests')?.hostPath?.path).toBe('/etc/kubernetes/manifests');
      expect(spec?.volumes?.find((v) => v.name === 'selfhost-gate-exec')?.emptyDir).toEqual({});
      for (const c of spec?.containers ?? []) expect(c.ports).toBeUndefined();
      // Probes that named a port now carry its number.
      const probe = spec?.containers[0]?.livenessProbe?.httpGet?.port;
      expect(typeof probe).toBe('number');
    });

    it(`${f.version}: without a gate image, etcd keeps its shape (render)`, () => {
      const spec = etcdOf();
      expect(spec?.initContainers ?? []).toEqual([]);
      expect(spec?.containers[0]?.ports).toBeDefined();
    });
  }
});
