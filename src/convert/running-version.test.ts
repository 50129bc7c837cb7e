import { describe, expect, it } from 'vitest';
import { readRunningVersion } from './running-version.js';
import { add, DIR, edit, fx, without } from './testdata/real-clusters.js';

const sources = (files: Record<string, string>) => Object.entries(files).map(([path, content]) => ({ path, content }));

describe('readRunningVersion', () => {
  it.each<[string, Record<string, string>, ReturnType<typeof readRunningVersion>]>([
    ['the apiserver’s tag', fx(), { ok: true, version: 'v1.37.2', manifest: `${DIR}/kube-apiserver.yaml` }],
    ['a build suffix counts', edit(fx(), 'kube-apiserver.yaml', ':v1.37.2', ':v1.37.2-corp.1'), { ok: true, version: 'v1.37.2', manifest: `${DIR}/kube-apiserver.yaml` }],
    [
      'a tag that is not a version',
      edit(fx(), 'kube-apiserver.yaml', ':v1.37.2', ':1.37'),
      { ok: false, reason: `${DIR}/kube-apiserver.yaml runs kube-apiserver image "registry.k8s.io/kube-apiserver:1.37", whose tag is not a Kubernetes version (allowed: vMAJOR.MINOR.PATCH, e.g. v1.37.2)` },
    ],
    [
      'two apiservers',
      add(fx(), 'kube-apiserver.yaml.bak', fx()[`${DIR}/kube-apiserver.yaml`] ?? ''),
      { ok: false, reason: `${DIR}/kube-apiserver.yaml, ${DIR}/kube-apiserver.yaml.bak all run kube-apiserver; the kubelet runs every file, so remove the extra one` },
    ],
    ['none', without(fx(), 'kube-apiserver.yaml'), { ok: false, reason: 'no manifest runs kube-apiserver' }],
  ])('%s', (_name, files, want) => {
    expect(readRunningVersion(sources(files))).toEqual(want);
  });

  it('a refused apiserver manifest: its refusal is the reason', () => {
    const r = readRunningVersion(sources(add(fx(), 'kube-apiserver.yaml', 'kind: [')));
    expect(r).toMatchObject({ ok: false, reason: expect.stringMatching(/^the kube-apiserver manifest is refused: .*kube-apiserver\.yaml: not valid YAML.*\[InvalidYaml\]$/s) });
  });
});
