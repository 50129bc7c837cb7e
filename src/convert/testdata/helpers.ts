/**
 * Test helpers for the conversion core (kept under testdata/ so coverage and the build skip them).
 */
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { V1DaemonSet, V1PodTemplateSpec } from '@kubernetes/client-node';
import { loadAll } from 'js-yaml';
import { expect } from 'vitest';
import type { ComponentName, ControlPlaneSpec } from '../../api/types.js';
import { mustParseVersion } from '../../api/version.js';
import type { MinorRelease } from '../../versions/table.js';
import type { ManifestSource } from '../parse.js';
import { parseStaticPod } from '../parse.js';
import type { MutationContext, Mutator, NodeIdentity, PodContext, StaticPod } from '../types.js';
import { validateControlPlane } from '../../api/validate.js';

export const TESTDATA = dirname(fileURLToPath(import.meta.url));
export const MANIFEST_DIR = '/etc/kubernetes/manifests';

/** A release table for tests (the real one is the lead's; its data may still be TODO). */
export const TEST_RELEASES: readonly MinorRelease[] = [
  { minor: '1.35', etcdImageTag: '3.6.6-0', pauseImageTag: '3.10.1', flagChanges: {} },
  {
    minor: '1.36',
    etcdImageTag: '3.6.8-0',
    pauseImageTag: '3.10.1',
    flagChanges: {
      'kube-apiserver': [{ kind: 'rename', from: 'old-flag', to: 'new-flag', reason: 'renamed in 1.36' }],
      'kube-scheduler': [{ kind: 'remove', flag: 'gone-in-136', reason: 'removed in 1.36' }],
    },
  },
  {
    minor: '1.37',
    etcdImageTag: '3.7.0-0',
    pauseImageTag: '3.10.1',
    flagChanges: {
      'kube-apiserver': [{ kind: 'set', flag: 'new-default', value: 'on', reason: 'kubeadm sets it from 1.37' }],
      etcd: [{ kind: 'rename', from: 'experimental-x', to: 'x', reason: 'etcd 3.7 graduated it' }],
    },
  },
];

/** The same table without flag changes: kubeadm's own output does not change flags between these minors. */
export const PLAIN_RELEASES: readonly MinorRelease[] = TEST_RELEASES.map((r) => ({ ...r, flagChanges: {} }));

/** A defaulted ControlPlaneSpec: what src/api's defaulting makes of a bare version (not a copy of it). */
export function makeSpec(overrides: Partial<ControlPlaneSpec> = {}): ControlPlaneSpec {
  const defaulted = validateControlPlane({
    apiVersion: 'selfhost.dev/v1alpha1',
    kind: 'ControlPlane',
    metadata: { name: 'cluster' },
    spec: { version: 'v1.35.5' },
  });
  if (!defaulted.ok) throw new Error(`default spec is invalid: ${JSON.stringify(defaulted.errors)}`);
  return { ...defaulted.value.spec, ...overrides };
}

export interface KubeadmFixture {
  readonly version: string;
  /** Static manifests as they would be on the node (path under /etc/kubernetes/manifests). */
  readonly manifests: ManifestSource[];
  readonly proxyDaemonSet: V1DaemonSet | undefined;
}

/** Every kubeadm fixture directory (one per version), so new versions are tested automatically. */
export function kubeadmFixtures(): KubeadmFixture[] {
  const root = join(TESTDATA, 'kubeadm');
  // No fixtures would make every fixture-driven test pass vacuously.
  if (!existsSync(root)) throw new Error(`no kubeadm fixtures in ${root}: run 'make fixtures'`);
  return readdirSync(root)
    .filter((d) => /^v[0-9]+\.[0-9]+\.[0-9]+$/.test(d))
    .sort()
    .map((version) => {
      const dir = join(root, version);
      const files = readdirSync(dir).sort();
      const manifests = readdirSync(join(dir, 'manifests'))
        .sort()
        .map((f) => ({ path: `${MANIFEST_DIR}/${f}`, content: readFileSync(join(dir, 'manifests', f), 'utf8') }));
      const addon = files.find((f) => f === 'kube-proxy-addon.yaml' || f === 'kube-proxy-daemonset.yaml');
      const docs = addon === undefined ? [] : loadAll(readFileSync(join(dir, addon), 'utf8'));
      const proxyDaemonSet = docs.find(
        (d): d is V1DaemonSet => typeof d === 'object' && d !== null && (d as { kind?: unknown }).kind === 'DaemonSet',
      );
      return { version, manifests, proxyDaemonSet };
    });
}

export function handwritten(name: string): ManifestSource {
  return { path: `${MANIFEST_DIR}/${name}`, content: readFileSync(join(TESTDATA, 'handwritten', name), 'utf8') };
}

export function mustParse(source: ManifestSource): StaticPod {
  const r = parseStaticPod(source);
  if (!r.ok) throw new Error(`expected ${source.path} to parse: ${JSON.stringify(r.refusal)}`);
  return r.pod;
}

/** A mutation context for a parsed pod. */
export function contextFor(pod: StaticPod, over: Partial<MutationContext> = {}): MutationContext {
  return {
    component: pod.component,
    manifest: pod.path,
    mainContainer: pod.mainContainer,
    commandLayout: pod.commandLayout,
    node: {},
    spec: makeSpec(),
    target: mustParseVersion('v1.35.5'),
    source: mustParseVersion('v1.35.5'),
    releases: TEST_RELEASES,
    ...over,
  };
}

/** A small template with one flag-style main container, for mutator tables. */
export function simpleTemplate(component: ComponentName, flags: string[], extra: Partial<V1PodTemplateSpec> = {}): {
  template: V1PodTemplateSpec;
  ctx: MutationContext;
} {
  const template: V1PodTemplateSpec = {
    metadata: { labels: { component, tier: 'control-plane' } },
    spec: {
      hostNetwork: true,
      containers: [{ name: component, image: `registry.k8s.io/${component}:v1.35.5`, command: [component, ...flags] }],
    },
    ...extra,
  };
  const ctx: MutationContext = {
    component,
    manifest: `${MANIFEST_DIR}/${component}.yaml`,
    mainContainer: component,
    commandLayout: { kind: 'flags', location: 'command', prefix: [component], singleDashLongFlags: component === 'etcd' },
    node: {},
    spec: makeSpec(),
    target: mustParseVersion('v1.35.5'),
    source: mustParseVersion('v1.35.5'),
    releases: TEST_RELEASES,
  };
  return { template, ctx };
}

export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/** Runs a mutator on a frozen copy (a write throws) and checks the input is unchanged. */
export function runPure<C extends PodContext>(mutator: Mutator<C>, template: V1PodTemplateSpec, ctx: C): V1PodTemplateSpec {
  const before = structuredClone(template);
  const frozen = deepFreeze(structuredClone(template));
  const out = mutator(frozen, ctx);
  expect(frozen).toEqual(before);
  expect(out).not.toBe(frozen);
  return out;
}

export function mainCommand(template: V1PodTemplateSpec, name?: string): string[] {
  const c = template.spec?.containers.find((x) => name === undefined || x.name === name);
  return [...(c?.command ?? []), ...(c?.args ?? [])];
}

export const NODE: NodeIdentity = { name: 'cp1', ip: '192.0.2.10' };
