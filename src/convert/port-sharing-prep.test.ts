import { load } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import type { V1Pod } from '@kubernetes/client-node';
import { computePortSharingPrep, hasPortSharing } from './port-sharing-prep.js';
import { mustParse } from './testdata/helpers.js';

const manifest = (container: object) => ({
  path: '/etc/kubernetes/manifests/kube-scheduler.yaml',
  content: JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'kube-scheduler', labels: { component: 'kube-scheduler', tier: 'control-plane' } },
    spec: { hostNetwork: true, containers: [{ name: 'kube-scheduler', image: 'registry.k8s.io/kube-scheduler:v1.35.5', ...container }] },
  }),
});

function prepOf(container: object) {
  const pod = mustParse(manifest(container));
  const prep = load(computePortSharingPrep(pod)) as V1Pod;
  return prep.spec?.containers[0];
}

describe('computePortSharingPrep', () => {
  it.each([
    ['kubeadm: appended to command', { command: ['kube-scheduler', '--a=1'] }, { command: ['kube-scheduler', '--a=1', '--permit-port-sharing=true'] }],
    ['flags in args: appended to args', { command: ['kube-scheduler'], args: ['--a', '1'] }, { command: ['kube-scheduler'], args: ['--a', '1', '--permit-port-sharing=true'] }],
    ['no command: appended to args', { args: ['--a=1'] }, { args: ['--a=1', '--permit-port-sharing=true'] }],
    ['nothing at all', {}, { args: ['--permit-port-sharing=true'] }],
    ['one string', { command: ['kube-scheduler --a=1'] }, { command: ['kube-scheduler --a=1 --permit-port-sharing=true'] }],
    ['sh -c in command', { command: ['sh', '-c', 'exec kube-scheduler'] }, { command: ['sh', '-c', 'exec kube-scheduler --permit-port-sharing=true'] }],
    ['sh -c, script in args', { command: ['sh', '-c'], args: ['kube-scheduler'] }, { command: ['sh', '-c'], args: ['kube-scheduler --permit-port-sharing=true'] }],
    ['an earlier false is overridden by the last flag', { command: ['kube-scheduler', '--permit-port-sharing=false'] }, { command: ['kube-scheduler', '--permit-port-sharing=false', '--permit-port-sharing=true'] }],
  ])('%s', (_name, container, want) => {
    expect(prepOf(container)).toMatchObject(want);
    const prep = mustParse({ path: '/m/kube-scheduler.yaml', content: computePortSharingPrep(mustParse(manifest(container))) });
    expect(hasPortSharing(prep)).toBe(true);
  });

  it('returns the source text unchanged when the port is already shared', () => {
    const source = manifest({ command: ['kube-scheduler', '--permit-port-sharing'] });
    const pod = mustParse(source);
    expect(hasPortSharing(pod)).toBe(true);
    expect(computePortSharingPrep(pod)).toBe(source.content);
  });

  it('keeps every other field of the manifest, including kubeadm’s status: {}', () => {
    const content = 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: kube-scheduler\n  labels: {component: kube-scheduler, tier: control-plane}\nspec:\n  containers:\n  - name: kube-scheduler\n    command: [kube-scheduler]\nstatus: {}\n';
    const prep = load(computePortSharingPrep(mustParse({ path: '/m/kube-scheduler.yaml', content }))) as Record<string, unknown>;
    expect(prep['status']).toEqual({});
  });

  it('a pod whose main container vanished is a bug, reported with the path', () => {
    const pod = mustParse(manifest({ command: ['kube-scheduler'] }));
    expect(() => computePortSharingPrep({ ...pod, mainIndex: 5 })).toThrow(/kube-scheduler\.yaml: spec\.containers\[5\] is missing/);
  });
});
