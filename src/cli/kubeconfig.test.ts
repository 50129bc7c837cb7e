import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadCliKubeConfig } from './kubeconfig.js';

const dir = mkdtempSync(join(tmpdir(), 'selfhost-kubeconfig-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const TWO_CONTEXTS = write(
  'two.yaml',
  `apiVersion: v1
kind: Config
clusters:
- name: a
  cluster: { server: "https://a.example:6443" }
- name: b
  cluster: { server: "https://b.example:6443" }
users:
- name: u
  user: { token: t }
contexts:
- name: ctx-a
  context: { cluster: a, user: u }
- name: ctx-b
  context: { cluster: b, user: u }
current-context: ctx-a
`,
);

describe('loadCliKubeConfig', () => {
  it('reads --kubeconfig and its current context', () => {
    expect(loadCliKubeConfig({ path: TWO_CONTEXTS }).getCurrentCluster()?.server).toBe('https://a.example:6443');
  });

  it('--context chooses another context of the file', () => {
    expect(loadCliKubeConfig({ path: TWO_CONTEXTS, context: 'ctx-b' }).getCurrentCluster()?.server).toBe('https://b.example:6443');
  });

  it.each<[string, { path?: string; context?: string }, RegExp]>([
    ['an unknown context, naming the ones there are', { path: TWO_CONTEXTS, context: 'nope' }, /^--context: Invalid value: "nope": the kubeconfig has contexts ctx-a, ctx-b$/],
    ['a missing file', { path: join(dir, 'missing.yaml') }, /^cannot load --kubeconfig .*missing\.yaml: .*ENOENT/],
    [
      'a kubeconfig without a current context',
      { path: write('none.yaml', 'apiVersion: v1\nkind: Config\nclusters: []\nusers: []\ncontexts: []\n') },
      /^the kubeconfig has no current cluster: pass --kubeconfig, set KUBECONFIG, or choose one with --context$/,
    ],
  ])('refuses %s', (_name, choice, want) => {
    expect(() => loadCliKubeConfig(choice)).toThrow(want);
  });
});
