import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { computeAjvNode, computeAjvSchema, createAjv } from './ajv.js';
import { NAMED_PATTERNS } from './patterns.js';
import { CONTROL_PLANE_SCHEMA, SPEC_SCHEMA, STATUS_SCHEMA } from './schema.js';
import type { JSONSchemaProps } from './schema-types.js';
import type {
  ComponentOverride,
  ComponentStatus,
  CniSpec,
  Condition,
  LastUpgrade,
  ControlPlane,
  ControlPlaneSpec,
  ControlPlaneStatus,
  EtcdSpec,
  ExtraArg,
  Plan,
  PlanStep,
  ResourceRequirements,
  UpgradeSpec,
} from './types.js';
import { COMPONENTS } from './types.js';

/** The keys of T, spelled out: the compiler rejects a missing or an extra key. */
function keysOf<T>(record: Record<keyof T, true>): string[] {
  return Object.keys(record).sort();
}

function child(node: JSONSchemaProps | undefined, ...path: string[]): JSONSchemaProps {
  let n = node;
  for (const p of path) n = p === '[]' ? n?.items : n?.properties?.[p];
  if (n === undefined) throw new Error(`no schema at ${path.join('.')}`);
  return n;
}

function propertiesOf(node: JSONSchemaProps): string[] {
  return Object.keys(node.properties ?? {}).sort();
}

describe('schema.ts and types.ts agree on every field name', () => {
  const override = child(SPEC_SCHEMA, 'overrides', 'etcd');
  it.each<[string, JSONSchemaProps, string[]]>([
    [
      'ControlPlane',
      CONTROL_PLANE_SCHEMA,
      keysOf<ControlPlane>({ apiVersion: true, kind: true, metadata: true, spec: true, status: true }),
    ],
    [
      'ControlPlaneSpec',
      SPEC_SCHEMA,
      keysOf<ControlPlaneSpec>({
        version: true,
        mode: true,
        imageRepository: true,
        paused: true,
        components: true,
        overrides: true,
        etcd: true,
        cni: true,
        upgrade: true,
      }),
    ],
    ['overrides', child(SPEC_SCHEMA, 'overrides'), [...COMPONENTS].sort()],
    ['ComponentOverride', override, keysOf<ComponentOverride>({ extraArgs: true, image: true, resources: true })],
    ['ExtraArg', child(override, 'extraArgs', '[]'), keysOf<ExtraArg>({ name: true, value: true })],
    ['ResourceRequirements', child(override, 'resources'), keysOf<ResourceRequirements>({ requests: true, limits: true })],
    [
      'EtcdSpec',
      child(SPEC_SCHEMA, 'etcd'),
      keysOf<EtcdSpec>({ version: true, snapshotBeforeUpgrade: true, snapshotRetention: true }),
    ],
    ['CniSpec', child(SPEC_SCHEMA, 'cni'), keysOf<CniSpec>({ namespace: true, name: true, selector: true, image: true })],
    ['UpgradeSpec', child(SPEC_SCHEMA, 'upgrade'), keysOf<UpgradeSpec>({ healthTimeout: true, autoRollback: true })],
    [
      'ControlPlaneStatus',
      STATUS_SCHEMA,
      keysOf<ControlPlaneStatus>({
        observedGeneration: true,
        version: true,
        phase: true,
        conditions: true,
        components: true,
        plan: true,
        step: true,
        lastUpgrade: true,
        checkpoints: true,
      }),
    ],
    [
      'LastUpgrade',
      child(STATUS_SCHEMA, 'lastUpgrade'),
      keysOf<LastUpgrade>({
        fromVersion: true,
        toVersion: true,
        result: true,
        targetHash: true,
        startedAt: true,
        finishedAt: true,
        failedComponent: true,
        message: true,
        snapshot: true,
      }),
    ],
    [
      'Condition',
      child(STATUS_SCHEMA, 'conditions', '[]'),
      keysOf<Condition>({
        type: true,
        status: true,
        reason: true,
        message: true,
        lastTransitionTime: true,
        observedGeneration: true,
      }),
    ],
    [
      'ComponentStatus',
      child(STATUS_SCHEMA, 'components', '[]'),
      keysOf<ComponentStatus>({
        name: true,
        mode: true,
        version: true,
        workload: true,
        desired: true,
        updated: true,
        ready: true,
        message: true,
      }),
    ],
    [
      'Plan',
      child(STATUS_SCHEMA, 'plan'),
      keysOf<Plan>({ operation: true, fromVersion: true, toVersion: true, current: true, steps: true }),
    ],
    [
      'PlanStep',
      child(STATUS_SCHEMA, 'plan', 'steps', '[]'),
      keysOf<PlanStep>({
        component: true,
        action: true,
        fromVersion: true,
        toVersion: true,
        state: true,
        startedAt: true,
        finishedAt: true,
        message: true,
      }),
    ],
  ])('%s', (_name, node, keys) => {
    expect(propertiesOf(node)).toEqual(keys);
  });

  it('requires exactly the fields the types make non-optional in spec (the rest default)', () => {
    expect(SPEC_SCHEMA.required).toEqual(['version']);
    const defaulted = Object.entries(SPEC_SCHEMA.properties ?? {})
      .filter(([, p]) => p.default !== undefined)
      .map(([k]) => k)
      .sort();
    // overrides and imageRepository (unset: the registry in use) are the optional fields of ControlPlaneSpec.
    expect(defaulted).toEqual(['cni', 'components', 'etcd', 'mode', 'paused', 'upgrade']);
  });
});

function computeAllNodes(node: JSONSchemaProps, path: string): [string, JSONSchemaProps][] {
  const out: [string, JSONSchemaProps][] = [[path, node]];
  for (const [k, v] of Object.entries(node.properties ?? {})) out.push(...computeAllNodes(v, `${path}.${k}`));
  if (node.additionalProperties) out.push(...computeAllNodes(node.additionalProperties, `${path}[*]`));
  if (node.items) out.push(...computeAllNodes(node.items, `${path}[]`));
  return out;
}

describe('schema conventions', () => {
  const nodes = computeAllNodes(CONTROL_PLANE_SCHEMA, '');

  it('describes every field (metadata is the apiserver’s)', () => {
    const bare = nodes.filter(([p, n]) => p !== '.metadata' && (n.description ?? '').trim() === '');
    expect(bare.map(([p]) => p)).toEqual([]);
  });

  it('gives every pattern a hint for error messages', () => {
    const known = new Set(NAMED_PATTERNS.map((p) => p.pattern));
    const unnamed = nodes.filter(([, n]) => n.pattern !== undefined && !known.has(n.pattern));
    expect(unnamed.map(([p]) => p)).toEqual([]);
  });

  it('has defaults that are themselves valid', () => {
    const ajv = createAjv();
    for (const [path, node] of nodes) {
      const { default: value, ...rest } = node;
      if (value === undefined) continue;
      const ok = ajv.validate(computeAjvNode(rest), value);
      expect(ok, `${path}: ${JSON.stringify(ajv.errors)}`).toBe(true);
    }
  });

  it('documents every spec field in docs/api.md', () => {
    const doc = readFileSync(new URL('../../docs/api.md', import.meta.url), 'utf8');
    const fields = computeAllNodes(SPEC_SCHEMA, 'spec')
      .map(([p]) => p.replace(/\.overrides\.[a-z-]+/, '.overrides.<component>'))
      // Containers whose children are listed one by one: spec itself, list items, map values.
      .filter((p) => p !== 'spec' && !p.endsWith('[]') && !p.includes('[*]'))
      .filter((p) => !p.endsWith('.overrides.<component>') && !p.endsWith('.resources'));
    expect(fields.length).toBeGreaterThan(20);
    const missing = [...new Set(fields)].filter((p) => !doc.includes(`\`${p}\``));
    expect(missing).toEqual([]);
  });

  it('compiles in ajv strict mode', () => {
    expect(() => createAjv().compile(computeAjvSchema())).not.toThrow();
  });
});
