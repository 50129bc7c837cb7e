import { describe, expect, it } from 'vitest';
import { findMainContainer, identifyComponent } from './identify.js';
import { parseStaticPod } from './parse.js';
import type { RefusalCode } from './refusal.js';
import { handwritten, kubeadmFixtures, mainCommand, mustParse } from './testdata/helpers.js';

describe('parseStaticPod: kubeadm fixtures', () => {
  const fixtures = kubeadmFixtures();
  it('has fixtures to test', () => {
    expect(fixtures.length).toBeGreaterThan(0);
  });
  for (const fixture of fixtures) {
    for (const manifest of fixture.manifests) {
      it(`${fixture.version} ${manifest.path}: identified by labels, flags in command`, () => {
        const pod = mustParse(manifest);
        expect(pod.identifiedBy).toBe('labels');
        expect(manifest.path).toContain(pod.component);
        expect(pod.mainIndex).toBe(0);
        expect(pod.commandLayout).toMatchObject({ kind: 'flags', location: 'command', prefix: [pod.component] });
        // kubeadm already writes one --name=value per flag: nothing to normalise.
        expect(mainCommand(pod.template)).toEqual(pod.pod.spec?.containers[0]?.command);
        expect(pod.flags.length).toBeGreaterThan(3);
      });
    }
  }
});

describe('parseStaticPod: hand-written styles', () => {
  it('apiserver with args, two-token flags and a sidecar', () => {
    const pod = mustParse(handwritten('apiserver-args.yaml'));
    expect(pod).toMatchObject({ component: 'kube-apiserver', identifiedBy: 'binary', mainContainer: 'apiserver', mainIndex: 0 });
    expect(pod.commandLayout).toMatchObject({ location: 'args', prefix: ['/usr/local/bin/kube-apiserver'] });
    const c = pod.template.spec?.containers[0];
    expect(c?.command).toEqual(['/usr/local/bin/kube-apiserver']);
    expect(c?.args).toContain('--advertise-address=198.51.100.7');
    expect(c?.args).toContain('--etcd-servers=https://198.51.100.7:2379,https://198.51.100.8:2379');
    // the sidecar is untouched
    expect(pod.template.spec?.containers[1]).toEqual(pod.pod.spec?.containers[1]);
  });

  it('scheduler written as one string', () => {
    const pod = mustParse(handwritten('scheduler-string.yaml'));
    expect(pod).toMatchObject({ component: 'kube-scheduler', identifiedBy: 'binary', mainContainer: 'main' });
    expect(pod.template.spec?.containers[0]?.command).toEqual([
      'kube-scheduler',
      '--kubeconfig=/etc/kubernetes/scheduler.conf',
      '--leader-elect=true',
      '--profiling=false',
    ]);
  });

  it('controller-manager behind sh -c exec is unwrapped', () => {
    const pod = mustParse(handwritten('controller-manager-sh-exec.yaml'));
    expect(pod.component).toBe('kube-controller-manager');
    expect(pod.template.spec?.containers[0]?.command).toEqual([
      '/usr/local/bin/kube-controller-manager',
      '--kubeconfig=/etc/kubernetes/controller-manager.conf',
      '--controllers=*,bootstrapsigner,tokencleaner',
      '--use-service-account-credentials=true',
      '--profiling=false',
    ]);
  });

  it('etcd in JSON with a Go-style -name flag', () => {
    const pod = mustParse(handwritten('etcd-member.yaml'));
    expect(pod.component).toBe('etcd');
    expect(pod.flags[0]).toEqual({ name: 'name', value: 'cp2' });
    expect(mainCommand(pod.template)).toContain('--name=cp2');
  });

  it('kube-proxy and a CNI agent as static pods', () => {
    expect(mustParse(handwritten('kube-proxy-static.yaml')).component).toBe('kube-proxy');
    const cni = mustParse(handwritten('cni-static.yaml'));
    expect(cni).toMatchObject({ component: 'cni', identifiedBy: 'binary', mainContainer: 'kube-flannel', commandLayout: { kind: 'raw' } });
    expect(cni.flags).toEqual([]);
    expect(cni.template.spec).toEqual(cni.pod.spec);
  });
});

describe('parseStaticPod: refusals', () => {
  it.each<[string, RefusalCode, string | undefined, RegExp]>([
    ['refused-pipeline.yaml', 'UnsafeCommand', 'spec.containers[0].command[2]', /redirection.*pipe/],
    ['refused-quotes.yaml', 'UnsafeCommand', 'spec.containers[0].command[0]', /quote/],
    ['refused-deployment.yaml', 'NotAPod', 'kind', /only Pods are static pods/],
    ['refused-two-apiservers.yaml', 'DuplicateComponent', 'spec.containers', /a, b all run kube-apiserver/],
    ['refused-etcd-pod-network.yaml', 'NotHostNetwork', 'spec.hostNetwork', /host network/],
    ['refused-unknown.yaml', 'NoComponent', 'metadata.labels', /cannot tell which component/],
    ['refused-positional.yaml', 'UnsupportedArgument', 'spec.containers[0].command', /"--"/],
    ['refused-multi-doc.yaml', 'NotAPod', undefined, /2 YAML documents/],
    ['refused-wrapper.yaml', 'UnsafeCommand', 'spec.containers[0].command[0]', /runs start-apiserver\.sh/],
  ])('%s → %s', (file, code, field, reason) => {
    const r = parseStaticPod(handwritten(file));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.refusal.code).toBe(code);
    expect(r.refusal.manifest).toBe(`/etc/kubernetes/manifests/${file}`);
    expect(r.refusal.field).toBe(field);
    expect(r.refusal.reason).toMatch(reason);
  });

  const pod = (spec: string, labels = '{}') => `apiVersion: v1\nkind: Pod\nmetadata: {name: x, labels: ${labels}}\nspec: ${spec}\n`;
  it.each<[string, string, RefusalCode, RegExp]>([
    ['not YAML', 'a: [1, 2', 'InvalidYaml', /not valid YAML/],
    ['empty', '', 'NotAPod', /0 YAML documents/],
    ['a list', '- 1\n- 2\n', 'NotAPod', /not an object/],
    ['apiVersion', 'apiVersion: v2\nkind: Pod\n', 'NotAPod', /apiVersion v1/],
    ['no spec', 'apiVersion: v1\nkind: Pod\n', 'NotAPod', /no spec/],
    ['bad metadata', 'apiVersion: v1\nkind: Pod\nmetadata: 3\nspec: {}\n', 'NotAPod', /metadata must be an object/],
    ['no containers', pod('{containers: []}'), 'NotAPod', /no containers/],
    ['nameless container', pod('{containers: [{image: x}]}'), 'NotAPod', /needs a name/],
    ['string command', pod('{containers: [{name: kube-scheduler, command: "kube-scheduler --a=1"}]}'), 'NotAPod', /list of strings/],
    ['numeric arg', pod('{containers: [{name: kube-scheduler, command: [kube-scheduler], args: [--port, 1]}]}'), 'NotAPod', /list of strings/],
    ['restart policy', pod('{restartPolicy: Never, containers: [{name: kube-scheduler}]}'), 'UnsupportedRestartPolicy', /always restart/],
    ['sub-command', pod('{containers: [{name: kube-scheduler, command: [kube-scheduler, run, --a=1]}]}'), 'UnsupportedArgument', /"run" after the binary/],
    ['bad flag', pod('{containers: [{name: kube-scheduler, command: [kube-scheduler, -abc]}]}'), 'UnsupportedArgument', /shorthand/],
    ['no container runs it', pod('{containers: [{name: a}, {name: b}]}', '{component: kube-scheduler, tier: control-plane}'), 'AmbiguousMainContainer', /none of the containers/],
  ])('%s → %s', (_name, content, code, reason) => {
    const r = parseStaticPod({ path: '/m/kube-scheduler.yaml', content });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.refusal.code).toBe(code);
      expect(r.refusal.reason).toMatch(reason);
    }
  });
});

describe('identifyComponent / findMainContainer', () => {
  const withContainers = (containers: object[], labels: Record<string, string> = {}) => ({
    metadata: { labels },
    spec: { containers: containers as { name: string }[] },
  });
  it.each<[string, ReturnType<typeof withContainers>, string, object | undefined]>([
    ['kubeadm labels', withContainers([{ name: 'x' }], { component: 'etcd', tier: 'control-plane' }), '/m/a.yaml', { component: 'etcd', by: 'labels' }],
    ['component label without tier is not enough', withContainers([{ name: 'x' }], { component: 'etcd' }), '/m/a.yaml', undefined],
    ['selfhost label', withContainers([{ name: 'x' }], { 'selfhost.dev/component': 'kube-proxy' }), '/m/a.yaml', { component: 'kube-proxy', by: 'labels' }],
    ['binary', withContainers([{ name: 'x', command: ['/bin/kube-scheduler'] }]), '/m/a.yaml', { component: 'kube-scheduler', by: 'binary' }],
    ['container name', withContainers([{ name: 'side' }, { name: 'etcd' }]), '/m/a.yaml', { component: 'etcd', by: 'container-name' }],
    ['image', withContainers([{ name: 'x', image: 'r.io/kube-proxy:v1.35.5' }]), '/m/a.yaml', { component: 'kube-proxy', by: 'image' }],
    ['file name', withContainers([{ name: 'x' }]), '/m/kube-apiserver.manifest', { component: 'kube-apiserver', by: 'file-name' }],
    ['nothing', withContainers([{ name: 'x' }]), '/m/web.yaml', undefined],
  ])('%s', (_name, pod, path, want) => {
    expect(identifyComponent(pod, path)).toEqual(want);
  });

  it('main container: by binary, name, image, or the only one', () => {
    expect(findMainContainer([{ name: 'a' }, { name: 'b', command: ['etcd'] }], 'etcd')).toEqual({ ok: true, index: 1 });
    expect(findMainContainer([{ name: 'a' }, { name: 'etcd' }], 'etcd')).toEqual({ ok: true, index: 1 });
    expect(findMainContainer([{ name: 'a', image: 'x/etcd:1' }, { name: 'b' }], 'etcd')).toEqual({ ok: true, index: 0 });
    expect(findMainContainer([{ name: 'a' }], 'etcd')).toEqual({ ok: true, index: 0 });
    expect(findMainContainer([{ name: 'a' }, { name: 'b' }], 'etcd')).toMatchObject({ ok: false, duplicate: false });
  });
});
