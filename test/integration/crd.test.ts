/**
 * The CRD on a real kube-apiserver: its CEL rules, schema and defaults must give the same answers
 * as the TypeScript mirrors `selfhost validate` and the operator use.
 */
import { readFileSync } from 'node:fs';
import { CustomObjectsApi } from '@kubernetes/client-node';
import fc from 'fast-check';
import { load } from 'js-yaml';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { API_GROUP, API_VERSION, PLURAL, type ControlPlane } from '../../src/api/types.js';
import { validateControlPlane } from '../../src/api/validate.js';
import { ensureControlPlaneCrd } from '../support/crd.js';
import { kubeConfigFrom, rejectionOf } from '../support/kube.js';

const kc = kubeConfigFrom(inject('kubeconfig'));
const objects = kc.makeApiClient(CustomObjectsApi);
const base = { group: API_GROUP, version: API_VERSION, plural: PLURAL };

const sample = load(
  readFileSync(new URL('../../deploy/samples/controlplane.yaml', import.meta.url), 'utf8'),
) as ControlPlane;

let seq = 0;
function fresh(mutate: (cp: ControlPlane) => void = () => undefined): ControlPlane {
  const cp = structuredClone(sample);
  cp.metadata = { name: `cp-${Date.now().toString(36)}-${seq++}` };
  mutate(cp);
  return cp;
}

async function create(cp: unknown) {
  return rejectionOf(() => objects.createClusterCustomObject({ ...base, body: cp as object }));
}

async function get(name: string): Promise<ControlPlane> {
  return (await objects.getClusterCustomObject({ ...base, name })) as ControlPlane;
}

beforeAll(() => ensureControlPlaneCrd(kc));

describe('creating ControlPlanes', () => {
  const cases: [string, (cp: ControlPlane) => void][] = [
    ['the README sample', () => undefined],
    ['version 1.37', (cp) => (cp.spec.version = '1.37')],
    ['version v1.37', (cp) => (cp.spec.version = 'v1.37')],
    ['a pre-release', (cp) => (cp.spec.version = 'v1.37.2-rc.0')],
    ['an unknown component', (cp) => ((cp.spec.components as string[]) = ['etcd', 'coredns'])],
    ['a duplicate component', (cp) => (cp.spec.components = ['etcd', 'etcd'])],
    ['paused as a string', (cp) => ((cp.spec as unknown as Record<string, unknown>)['paused'] = 'yes')],
    ['components as a string', (cp) => ((cp.spec as unknown as Record<string, unknown>)['components'] = 'etcd')],
    ['cni name and selector', (cp) => (cp.spec.cni = { namespace: 'kube-system', name: 'x', selector: { a: 'b' } })],
    ['a bad health timeout', (cp) => (cp.spec.upgrade.healthTimeout = '5 minutes')],
    ['a bad quantity', (cp) => (cp.spec.overrides = { etcd: { resources: { requests: { cpu: 'lots' } } } })],
    ['a mode that does not exist', (cp) => ((cp.spec as unknown as Record<string, unknown>)['mode'] = 'Hybrid')],
  ];

  it.each(cases)('%s: the apiserver and selfhost validate agree', async (_what, mutate) => {
    const cp = fresh(mutate);
    const offline = validateControlPlane(structuredClone(cp));
    const online = await create(cp);
    expect(online === undefined).toBe(offline.ok);
    if (online !== undefined && !offline.ok) {
      expect(online.code).toBe(422);
      // Both name the same fields.
      for (const e of offline.errors) expect(online.message).toContain(e.path.replace(/\[\d+\]$/, ''));
    }
  });

  it('defaults what the user left out exactly as applyDefaults does', async () => {
    const cp = fresh((c) => {
      c.spec = { version: 'v1.37.2' } as ControlPlane['spec'];
    });
    expect(await create(cp)).toBeUndefined();
    const stored = await get(cp.metadata.name ?? '');
    const offline = validateControlPlane({ ...cp, spec: { version: 'v1.37.2' } });
    expect(offline.ok).toBe(true);
    if (offline.ok) expect(stored.spec).toEqual(offline.value.spec);
  });
});

describe('changing spec.version', () => {
  /** Creates at `from`, records status (the operator's view), then asks to move to `to`. */
  async function transition(from: string, status: ControlPlane['status'], to: string) {
    const cp = fresh((c) => (c.spec.version = from));
    expect(await create(cp)).toBeUndefined();
    const name = cp.metadata.name ?? '';
    if (status) {
      const current = await get(name);
      await objects.replaceClusterCustomObjectStatus({ ...base, name, body: { ...current, status } });
    }
    const stored = await get(name);
    const offline = validateControlPlane({ ...stored, spec: { ...stored.spec, version: to } }, stored);
    const online = await rejectionOf(() =>
      objects.replaceClusterCustomObject({ ...base, name, body: { ...stored, spec: { ...stored.spec, version: to } } }),
    );
    await objects.deleteClusterCustomObject({ ...base, name });
    return { offline, online };
  }

  it.each([
    ['one minor up', 'v1.36.4', undefined, 'v1.37.2', true],
    ['a minor skip', 'v1.35.5', undefined, 'v1.37.2', false],
    ['a minor skip judged from the running version', 'v1.36.4', { version: 'v1.35.5' }, 'v1.37.0', false],
    ['a minor downgrade', 'v1.37.2', { version: 'v1.37.2' }, 'v1.36.4', false],
    ['a patch downgrade', 'v1.37.2', { version: 'v1.37.2' }, 'v1.37.1', true],
    [
      'aborting an upgrade back to where it started',
      'v1.37.2',
      { version: 'v1.36.4', plan: { operation: 'Upgrade', fromVersion: 'v1.36.4', toVersion: 'v1.37.2', steps: [] } },
      'v1.36.4',
      true,
    ],
    ['a major change', 'v1.37.2', undefined, 'v2.0.0', false],
  ] as const)('%s: apiserver and mirror agree', async (_what, from, status, to, allowed) => {
    const { offline, online } = await transition(from, status as ControlPlane['status'], to);
    expect(offline.ok).toBe(allowed);
    expect(online === undefined).toBe(allowed);
    if (online) expect(online.message).toContain('spec.version');
  });

  it('agrees with the mirror on random transitions (property)', async () => {
    const version = fc
      .tuple(fc.integer({ min: 34, max: 39 }), fc.integer({ min: 0, max: 3 }))
      .map(([minor, patch]) => `v1.${minor}.${patch}`);
    await fc.assert(
      fc.asyncProperty(version, fc.option(version, { nil: undefined }), fc.option(version, { nil: undefined }), version,
        async (from, running, upgradeFrom, to) => {
          const status: ControlPlane['status'] = {
            ...(running !== undefined ? { version: running } : {}),
            ...(upgradeFrom !== undefined
              ? { plan: { operation: 'Upgrade' as const, fromVersion: upgradeFrom, toVersion: from, steps: [] } }
              : {}),
          };
          const { offline, online } = await transition(from, Object.keys(status).length ? status : undefined, to);
          expect(online === undefined).toBe(offline.ok);
        }),
      { numRuns: 40 },
    );
  });
});
