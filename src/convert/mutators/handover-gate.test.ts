import { describe, expect, it } from 'vitest';
import { computeDesiredWorkloads } from '../index.js';
import { kubeadmFixtures, makeSpec } from '../testdata/helpers.js';
import { computeUrlPorts, GATE_CONTAINER } from './handover-gate.js';

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

describe('addEtcdHandoverGate', () => {
  for (const f of kubeadmFixtures()) {
    const etcdOf = (image?: string) => {
      const r = computeDesiredWorkloads({
        manifests: f.manifests,
        spec: makeSpec({ version: f.version }),
        ...(image === undefined ? {} : { handoverGateImage: image }),
      });
      const ds = r.workloads.find((w) => w.metadata?.name === 'selfhost-etcd');
      if (ds === undefined) throw new Error(`no etcd workload: ${JSON.stringify(r.refusals)}`);
      return ds.spec?.template.spec;
    };

    it(`${f.version}: gates etcd on its manifest and ports, with no container ports left`, () => {
      const spec = etcdOf('example/selfhost:1');
      const gate = spec?.initContainers?.find((c) => c.name === GATE_CONTAINER);
      expect(gate?.image).toBe('example/selfhost:1');
      expect(gate?.args).toEqual(['gate', '--absent=/etc/kubernetes/manifests/etcd.yaml', '--port=2379', '--port=2380']);
      expect(gate?.securityContext?.capabilities?.drop).toEqual(['ALL']);
      expect(gate?.volumeMounts).toEqual([{ name: 'selfhost-static-manifests', mountPath: '/etc/kubernetes/manifests', readOnly: true }]);
      expect(spec?.volumes?.find((v) => v.name === 'selfhost-static-manifests')?.hostPath?.path).toBe('/etc/kubernetes/manifests');
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
