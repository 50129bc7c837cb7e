import { readFileSync } from 'node:fs';
import { load } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { CEL_RULES } from './cel-rules.js';
import { computeCrd } from './crd.js';
import { computeCrdYaml, computeSortedKeys, CRD_FILE_NAME, GENERATED_HEADER } from './crd-yaml.js';
import type { JSONSchemaProps, ValidationRule } from './schema-types.js';

interface Visit {
  path: string;
  node: JSONSchemaProps;
}

/** Every schema node with its path, anyOf branches excluded (they are value validations). */
function computeNodes(node: JSONSchemaProps, path = ''): Visit[] {
  const out: Visit[] = [{ path, node }];
  for (const [k, v] of Object.entries(node.properties ?? {})) out.push(...computeNodes(v, `${path}.${k}`));
  if (node.additionalProperties) out.push(...computeNodes(node.additionalProperties, `${path}[*]`));
  if (node.items) out.push(...computeNodes(node.items, `${path}[]`));
  return out;
}

function rootSchema(): JSONSchemaProps {
  const [version] = computeCrd().spec.versions;
  if (!version) throw new Error('CRD has no version');
  return version.schema.openAPIV3Schema;
}

describe('computeCrd', () => {
  const crd = computeCrd();
  const [version] = crd.spec.versions;

  it('is a cluster-scoped selfhost.dev/v1alpha1 ControlPlane with short name cp and a status subresource', () => {
    expect(crd.metadata.name).toBe('controlplanes.selfhost.dev');
    expect(crd.spec.scope).toBe('Cluster');
    expect(crd.spec.names).toEqual({
      kind: 'ControlPlane',
      listKind: 'ControlPlaneList',
      plural: 'controlplanes',
      singular: 'controlplane',
      shortNames: ['cp'],
    });
    expect(crd.spec.versions).toHaveLength(1);
    expect(version).toMatchObject({ name: 'v1alpha1', served: true, storage: true, subresources: { status: {} } });
  });

  it('prints Desired, Version, Phase, Ready, Step and Age', () => {
    expect(version?.additionalPrinterColumns.map((c) => [c.name, c.type, c.jsonPath])).toEqual([
      ['Desired', 'string', '.spec.version'],
      ['Version', 'string', '.status.version'],
      ['Phase', 'string', '.status.phase'],
      ['Ready', 'string', '.status.conditions[?(@.type=="Ready")].status'],
      ['Step', 'string', '.status.step'],
      ['Age', 'date', '.metadata.creationTimestamp'],
    ]);
  });

  it('returns a fresh object each call', () => {
    const a = computeCrd();
    a.spec.names.shortNames.push('x');
    expect(computeCrd().spec.names.shortNames).toEqual(['cp']);
  });
});

describe('the CRD schema is structural', () => {
  const nodes = computeNodes(rootSchema());

  it.each(nodes.map((v) => [v.path || '<root>', v.node] as const))('%s has a type or int-or-string', (_p, node) => {
    const typed = node.type !== undefined;
    const intOrString = node['x-kubernetes-int-or-string'] === true;
    expect(typed !== intOrString).toBe(true);
    if (intOrString) expect(node.anyOf).toEqual([{ type: 'integer' }, { type: 'string' }]);
  });

  it('never sets additionalProperties next to properties, nor uniqueItems', () => {
    const bad = nodes.filter(({ node }) => node.properties !== undefined && node.additionalProperties !== undefined);
    expect(bad.map((v) => v.path)).toEqual([]);
    expect(nodes.filter(({ node }) => 'uniqueItems' in node).map((v) => v.path)).toEqual([]);
  });

  it('gives list-map keys that are required', () => {
    const maps = nodes.filter(({ node }) => node['x-kubernetes-list-type'] === 'map');
    expect(maps.map((v) => v.path).sort()).toEqual([
      '.spec.overrides.cni.extraArgs',
      '.spec.overrides.etcd.extraArgs',
      '.spec.overrides.kube-apiserver.extraArgs',
      '.spec.overrides.kube-controller-manager.extraArgs',
      '.spec.overrides.kube-proxy.extraArgs',
      '.spec.overrides.kube-scheduler.extraArgs',
      '.status.components',
      '.status.conditions',
    ]);
    for (const { node } of maps) {
      for (const key of node['x-kubernetes-list-map-keys'] ?? []) expect(node.items?.required).toContain(key);
    }
  });

  it('carries exactly the CEL rules of cel-rules.ts (each has a TypeScript mirror), at their nodes', () => {
    const found: [string, ValidationRule][] = nodes.flatMap(({ path, node }) =>
      (node['x-kubernetes-validations'] ?? []).map((r) => [path || '<root>', r] as [string, ValidationRule]),
    );
    expect(found.map(([p]) => p)).toEqual(['<root>', '.spec.cni', '.spec.upgrade.healthTimeout']);
    expect(found.map(([, r]) => r)).toEqual(expect.arrayContaining([...CEL_RULES]));
    expect(found).toHaveLength(CEL_RULES.length);
    for (const [, r] of found) {
      expect(r.message).not.toBe('');
      expect(r.messageExpression).toBeDefined();
    }
  });

  it('bounds every string a rule could read (maxLength, enum or date-time)', () => {
    const unbounded = nodes.filter(
      ({ node }) =>
        node.type === 'string' && node.maxLength === undefined && node.enum === undefined && node.format !== 'date-time',
    );
    // apiVersion and kind are the apiserver's to check; no rule reads them.
    expect(unbounded.map((v) => v.path)).toEqual(['.apiVersion', '.kind']);
  });
});

describe('computeCrdYaml', () => {
  it('is byte-stable and starts with the generated-file header', () => {
    const a = computeCrdYaml();
    expect(computeCrdYaml()).toBe(a);
    expect(a.startsWith(GENERATED_HEADER)).toBe(true);
    expect(a).not.toMatch(/&ref_|\*ref_/);
  });

  it('loads back into the CRD object', () => {
    expect(load(computeCrdYaml())).toEqual(computeCrd());
  });

  it('sorts keys at every level', () => {
    expect(JSON.stringify(computeSortedKeys({ b: 1, a: { d: [{ z: 1, y: 2 }], c: 3 } }))).toBe(
      '{"a":{"c":3,"d":[{"y":2,"z":1}]},"b":1}',
    );
  });

  it.each(['crds', 'deploy/crd'])('matches the committed %s/ file (run `make manifests` after changing the schema)', (dir) => {
    const committed = readFileSync(new URL(`../../${dir}/${CRD_FILE_NAME}`, import.meta.url), 'utf8');
    expect(committed).toBe(computeCrdYaml());
  });
});
