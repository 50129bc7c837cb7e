/**
 * Observed versions, parsed once into one shape for every component so skew checks and the step
 * simulation can treat kube-proxy (one DaemonSet version) like the per-node control plane.
 */
import { compareVersions, parseVersion, type Version } from '../api/version.js';
import { parseEtcdVersion } from './etcd-version.js';
import type { ObservedVersions, VersionedComponent } from './types.js';

export interface ParsedInstance {
  /** Node name; empty for kube-proxy, which is reported as one version for all nodes. */
  readonly node: string;
  /** The version as observed, kept for messages and step fromVersion. */
  readonly text: string;
  readonly version: Version;
}

/** Instances per component, sorted by version then node (so lowest/highest are deterministic). */
export type ParsedState = { readonly [C in VersionedComponent]: readonly ParsedInstance[] };

export interface UnparsedInstance {
  readonly component: VersionedComponent;
  readonly node: string;
  readonly text: string;
}

export interface ParsedObserved {
  readonly state: ParsedState;
  /** Instances whose version did not parse; they are left out of state. */
  readonly invalid: readonly UnparsedInstance[];
}

/** Parses a component's version: etcd's own scheme for etcd, `vX.Y.Z` for the rest. */
export function parseComponentVersion(component: VersionedComponent, text: string): Version | undefined {
  return component === 'etcd' ? parseEtcdVersion(text) : parseVersion(text);
}

export function parseObserved(observed: ObservedVersions): ParsedObserved {
  const invalid: UnparsedInstance[] = [];
  const parsed = (component: VersionedComponent): ParsedInstance[] => {
    const out: ParsedInstance[] = [];
    for (const { node, text } of rawInstances(observed, component)) {
      const version = parseComponentVersion(component, text);
      if (version) out.push({ node, text, version });
      else invalid.push({ component, node, text });
    }
    return sortInstances(out);
  };
  const state: ParsedState = {
    etcd: parsed('etcd'),
    'kube-apiserver': parsed('kube-apiserver'),
    'kube-controller-manager': parsed('kube-controller-manager'),
    'kube-scheduler': parsed('kube-scheduler'),
    'kube-proxy': parsed('kube-proxy'),
  };
  return { state, invalid };
}

function rawInstances(
  observed: ObservedVersions,
  component: VersionedComponent,
): readonly { node: string; text: string }[] {
  if (component === 'kube-proxy') {
    const v = observed['kube-proxy'];
    return v === undefined ? [] : [{ node: '', text: v }];
  }
  return (observed[component] ?? []).map((i) => ({ node: i.node, text: i.version }));
}

export function sortInstances(instances: readonly ParsedInstance[]): ParsedInstance[] {
  return [...instances].sort(
    (a, b) => compareVersions(a.version, b.version) || compareStrings(a.node, b.node) || compareStrings(a.text, b.text),
  );
}

/** Code-unit order, so output does not depend on the runtime's locale. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function lowestInstance(instances: readonly ParsedInstance[]): ParsedInstance | undefined {
  return sortInstances(instances)[0];
}

export function highestInstance(instances: readonly ParsedInstance[]): ParsedInstance | undefined {
  const sorted = sortInstances(instances);
  return sorted[sorted.length - 1];
}

/** `v1.36.4 on cp1`, or just the version for kube-proxy. */
export function describeInstance(i: ParsedInstance): string {
  return i.node === '' ? i.text : `${i.text} on ${i.node}`;
}
