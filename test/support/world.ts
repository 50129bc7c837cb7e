/**
 * A "world snapshot": test objects written before an operation (a pivot, an upgrade, an etcd
 * member swap) and checked after it: nothing lost, nothing replaced, nothing changed. Like
 * Cluster API's check that resourceVersions stay put, each object's uid, resourceVersion and
 * content must be exactly what was recorded.
 *
 * The world: a namespace with ConfigMaps, a Secret, a namespaced CRD of its own and objects of
 * that CRD. Namespace and CRD are compared by uid and spec only (their status may legitimately
 * be updated by controllers, which changes their resourceVersion).
 */
import { randomBytes } from 'node:crypto';
import {
  ApiException,
  ApiextensionsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
  type V1CustomResourceDefinition,
} from '@kubernetes/client-node';
import { waitFor } from './wait.js';

export interface WorldOptions {
  /** Namespace to create (default: world-<random>). */
  namespace?: string;
  configMaps?: number;
  customObjects?: number;
}

/** What was recorded of one object. */
export interface RecordedObject {
  kind: string;
  name: string;
  /** kind namespace/name, as diff lines show it. */
  ref: string;
  /** Which part of the object `content` is (diff lines start with it). */
  field: 'spec' | 'data';
  uid: string;
  /** Undefined when only uid and content are compared (namespace, CRD). */
  resourceVersion: string | undefined;
  content: unknown;
}

export interface World {
  namespace: string;
  crdName: string;
  /** apiVersion of the world's custom objects (group/version). */
  customApiVersion: string;
  objects: RecordedObject[];
  /** Reads everything back; one readable line per difference (empty: intact). */
  verify(): Promise<string[]>;
  /** Throws with the differences when anything was lost or changed. */
  expectIntact(): Promise<void>;
  /** Deletes the CRD (and so its objects) and the namespace; does not wait. */
  cleanup(): Promise<void>;
}

const VERSION = 'v1';
const PLURAL = 'things';

/** Creates the world in the cluster of `kc` and records it. */
export async function createWorld(kc: KubeConfig, options: WorldOptions = {}): Promise<World> {
  const id = randomBytes(4).toString('hex');
  const namespace = options.namespace ?? `world-${id}`;
  const group = `w${id}.world.selfhost.test`;
  const crdName = `${PLURAL}.${group}`;
  const core = kc.makeApiClient(CoreV1Api);
  const ext = kc.makeApiClient(ApiextensionsV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);

  const ns = await core.createNamespace({ body: { metadata: { name: namespace, labels: { 'selfhost.test/world': id } } } });
  const crd: V1CustomResourceDefinition = {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: crdName },
    spec: {
      group,
      scope: 'Namespaced',
      names: { plural: PLURAL, singular: 'thing', kind: 'Thing', listKind: 'ThingList' },
      versions: [{
        name: VERSION,
        served: true,
        storage: true,
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: {
              spec: {
                type: 'object',
                properties: {
                  value: { type: 'string' },
                  count: { type: 'integer' },
                  items: { type: 'array', items: { type: 'string' } },
                },
              },
            },
          },
        },
      }],
    },
  };
  await ext.createCustomResourceDefinition({ body: crd });
  await waitFor(`CRD ${crdName} Established`, async () => {
    const got = await ext.readCustomResourceDefinition({ name: crdName });
    return got.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True') ? true : undefined;
  });
  const base = { group, version: VERSION, namespace, plural: PLURAL };
  // Discovery of a new resource lags Established by a moment.
  await waitFor(`${crdName} served`, async () => {
    await custom.listNamespacedCustomObject(base);
    return true;
  });

  const objects: RecordedObject[] = [];
  objects.push({ kind: 'Namespace', name: namespace, ref: `Namespace ${namespace}`, field: 'spec', uid: ns.metadata?.uid ?? '', resourceVersion: undefined, content: ns.spec ?? {} });
  const storedCrd = await ext.readCustomResourceDefinition({ name: crdName });
  objects.push({
    kind: 'CustomResourceDefinition',
    name: crdName,
    ref: `CustomResourceDefinition ${crdName}`,
    field: 'spec',
    uid: storedCrd.metadata?.uid ?? '',
    resourceVersion: undefined,
    content: toPlain(storedCrd.spec),
  });

  for (let i = 0; i < (options.configMaps ?? 5); i++) {
    const data = Object.fromEntries(Array.from({ length: 3 }, (_, k) => [`key-${k}`, randomBytes(12).toString('base64url')]));
    const cm = await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: `cm-${i}` }, data } });
    objects.push({ kind: 'ConfigMap', name: `cm-${i}`, ref: `ConfigMap ${namespace}/cm-${i}`, field: 'data', uid: cm.metadata?.uid ?? '', resourceVersion: cm.metadata?.resourceVersion, content: cm.data ?? {} });
  }
  const secret = await core.createNamespacedSecret({
    namespace,
    body: { metadata: { name: 'secret-0' }, type: 'Opaque', data: { token: randomBytes(24).toString('base64'), 'ca.crt': randomBytes(64).toString('base64') } },
  });
  objects.push({ kind: 'Secret', name: 'secret-0', ref: `Secret ${namespace}/secret-0`, field: 'data', uid: secret.metadata?.uid ?? '', resourceVersion: secret.metadata?.resourceVersion, content: secret.data ?? {} });

  for (let i = 0; i < (options.customObjects ?? 3); i++) {
    const body = {
      apiVersion: `${group}/${VERSION}`,
      kind: 'Thing',
      metadata: { name: `thing-${i}` },
      spec: { value: randomBytes(8).toString('hex'), count: i, items: ['a', 'b', String(i)] },
    };
    const created = asObject(await custom.createNamespacedCustomObject({ ...base, body }));
    const meta = asObject(created['metadata']);
    objects.push({
      kind: 'Thing',
      name: `thing-${i}`,
      ref: `Thing ${namespace}/thing-${i}`,
      field: 'spec',
      uid: String(meta['uid'] ?? ''),
      resourceVersion: String(meta['resourceVersion'] ?? ''),
      content: created['spec'],
    });
  }

  /** The current state of a recorded object, or undefined when it is gone. */
  const read = async (o: RecordedObject): Promise<{ uid: string; resourceVersion: string; content: unknown } | undefined> => {
    const name = o.name;
    try {
      switch (o.kind) {
        case 'Namespace': {
          const n = await core.readNamespace({ name: namespace });
          if (n.metadata?.deletionTimestamp) return { uid: n.metadata.uid ?? '', resourceVersion: '', content: 'terminating' };
          return { uid: n.metadata?.uid ?? '', resourceVersion: n.metadata?.resourceVersion ?? '', content: n.spec ?? {} };
        }
        case 'CustomResourceDefinition': {
          const c = await ext.readCustomResourceDefinition({ name: crdName });
          return { uid: c.metadata?.uid ?? '', resourceVersion: c.metadata?.resourceVersion ?? '', content: toPlain(c.spec) };
        }
        case 'ConfigMap': {
          const c = await core.readNamespacedConfigMap({ namespace, name });
          return { uid: c.metadata?.uid ?? '', resourceVersion: c.metadata?.resourceVersion ?? '', content: c.data ?? {} };
        }
        case 'Secret': {
          const s = await core.readNamespacedSecret({ namespace, name });
          return { uid: s.metadata?.uid ?? '', resourceVersion: s.metadata?.resourceVersion ?? '', content: s.data ?? {} };
        }
        default: {
          const obj = asObject(await custom.getNamespacedCustomObject({ ...base, name }));
          const meta = asObject(obj['metadata']);
          return { uid: String(meta['uid'] ?? ''), resourceVersion: String(meta['resourceVersion'] ?? ''), content: obj['spec'] };
        }
      }
    } catch (err) {
      if (err instanceof ApiException && err.code === 404) return undefined;
      throw err;
    }
  };

  const verify = async (): Promise<string[]> => {
    const problems: string[] = [];
    for (const o of objects) {
      const now = await read(o);
      if (now === undefined) {
        problems.push(`${o.ref}: missing (404)`);
        continue;
      }
      if (now.uid !== o.uid) problems.push(`${o.ref}: replaced (uid ${o.uid} → ${now.uid})`);
      if (o.resourceVersion !== undefined && now.resourceVersion !== o.resourceVersion) {
        problems.push(`${o.ref}: resourceVersion ${o.resourceVersion} → ${now.resourceVersion}`);
      }
      const diffs: string[] = [];
      diffValues(o.field, o.content, now.content, diffs);
      for (const d of diffs) problems.push(`${o.ref}: ${d}`);
    }
    return problems;
  };

  return {
    namespace,
    crdName,
    customApiVersion: `${group}/${VERSION}`,
    objects,
    verify,
    async expectIntact() {
      const problems = await verify();
      if (problems.length > 0) {
        throw new Error(`world ${namespace}: ${problems.length} difference(s) from the snapshot:\n  - ${problems.join('\n  - ')}`);
      }
    },
    async cleanup() {
      for (const del of [
        () => ext.deleteCustomResourceDefinition({ name: crdName }),
        () => core.deleteNamespace({ name: namespace }),
      ]) {
        try {
          await del();
        } catch (err) {
          if (!(err instanceof ApiException && err.code === 404)) throw err;
        }
      }
    },
  };
}

/**
 * Appends one line per difference between `before` and `after` (JSON values), e.g.
 * `data.key-1: "abc" → "abd"`, `data.key-2: removed ("x")`, `spec.items[3]: added ("y")`.
 */
export function diffValues(path: string, before: unknown, after: unknown, out: string[]): void {
  if (isRecord(before) && isRecord(after)) {
    for (const k of new Set([...Object.keys(before), ...Object.keys(after)])) {
      const p = `${path}.${k}`;
      if (!(k in after)) out.push(`${p}: removed (${show(before[k])})`);
      else if (!(k in before)) out.push(`${p}: added (${show(after[k])})`);
      else diffValues(p, before[k], after[k], out);
    }
    return;
  }
  if (Array.isArray(before) && Array.isArray(after)) {
    for (let i = 0; i < Math.max(before.length, after.length); i++) {
      const p = `${path}[${i}]`;
      if (i >= after.length) out.push(`${p}: removed (${show(before[i])})`);
      else if (i >= before.length) out.push(`${p}: added (${show(after[i])})`);
      else diffValues(p, before[i], after[i], out);
    }
    return;
  }
  if (JSON.stringify(before) !== JSON.stringify(after)) out.push(`${path}: ${show(before)} → ${show(after)}`);
}

function show(v: unknown): string {
  const s = JSON.stringify(v) ?? 'undefined';
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function asObject(v: unknown): Record<string, unknown> {
  return isRecord(v) ? v : {};
}

/** A typed model as plain JSON (drops undefined fields, so two reads compare equal). */
function toPlain(v: unknown): unknown {
  return JSON.parse(JSON.stringify(v ?? null)) as unknown;
}
