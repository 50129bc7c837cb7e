import { describe, expect, it } from 'vitest';
import { applyDefaults } from './defaults.js';
import { formatFieldError } from './field-error.js';
import { loadSample, minimal, stored } from './testdata/fixtures.js';
import type { ControlPlane } from './types.js';
import { validateControlPlane } from './validate.js';

/** A copy of minimal() with obj[path] = value (path dotted; `undefined` deletes). */
function withField(path: string, value: unknown, base: Record<string, unknown> = minimal()): Record<string, unknown> {
  const root = structuredClone(base);
  const keys = path.split('.');
  const last = keys.pop() ?? '';
  let node: Record<string, unknown> = root;
  for (const k of keys) {
    const next = node[k];
    const child: Record<string, unknown> =
      typeof next === 'object' && next !== null && !Array.isArray(next) ? { ...next } : {};
    node[k] = child;
    node = child;
  }
  if (value === undefined) Reflect.deleteProperty(node, last);
  else node[last] = value;
  return root;
}

function errorsOf(input: unknown, old?: ControlPlane): string[] {
  const r = validateControlPlane(input, old);
  return r.ok ? [] : r.errors.map(formatFieldError);
}

const ALL_COMPONENTS = '"cni", "kube-proxy", "kube-scheduler", "kube-controller-manager", "kube-apiserver", "etcd"';
const ALLOWED_OVERRIDES = 'cni, etcd, kube-apiserver, kube-controller-manager, kube-proxy, kube-scheduler';

describe('validateControlPlane accepts', () => {
  it('the sample, and defaulting it changes nothing (it shows every default)', () => {
    const sample = loadSample();
    const r = validateControlPlane(sample);
    expect(r).toEqual({ ok: true, value: sample });
    expect(applyDefaults(sample)).toEqual(sample);
  });

  it('a minimal object, returning it defaulted', () => {
    const r = validateControlPlane(minimal());
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.spec.mode).toBe('SelfHosted');
    expect(r.value.spec.upgrade.healthTimeout).toBe('5m');
    expect(r.value.spec.components).toHaveLength(6);
  });

  it.each([
    ['another name (the operator ignores it, the API does not refuse it)', 'metadata.name', 'other-cluster'],
    ['cni by name', 'spec.cni', { name: 'calico-node' }],
    ['cni by selector', 'spec.cni', { selector: { 'k8s-app': 'calico-node' } }],
    ['integer quantities', 'spec.overrides', { etcd: { resources: { limits: { cpu: 2, memory: '2Gi' } } } }],
    ['a pinned etcd', 'spec.etcd', { version: '3.6.5' }],
    ['StaticPods mode', 'spec.mode', 'StaticPods'],
    ['a digest image', 'spec.overrides', { 'kube-proxy': { image: `registry.k8s.io/kube-proxy@sha256:${'a'.repeat(64)}` } }],
    ['a registry with port and path', 'spec.imageRepository', 'registry.example.com:5000/k8s'],
    ['healthTimeout at the bounds', 'spec.upgrade', { healthTimeout: '1h' }],
    ['healthTimeout with units', 'spec.upgrade', { healthTimeout: '1m30s' }],
    ['a subset of components', 'spec.components', ['etcd', 'kube-apiserver']],
  ])('%s', (_name, path, value) => {
    expect(errorsOf(withField(path, value))).toEqual([]);
  });

  it('a full status as the operator writes it', () => {
    const input = withField('status', {
      observedGeneration: 3,
      version: 'v1.37.2',
      phase: 'Upgrading',
      conditions: [
        { type: 'Ready', status: 'False', reason: 'VersionMismatch', message: 'upgrading', lastTransitionTime: '2025-01-02T03:04:05Z', observedGeneration: 3 },
      ],
      components: [{ name: 'etcd', mode: 'SelfHosted', version: '3.6.5', workload: 'etcd', desired: 3, updated: 1, ready: 3 }],
      plan: {
        operation: 'Upgrade',
        fromVersion: 'v1.37.2',
        toVersion: 'v1.38.0',
        current: 0,
        steps: [{ component: 'etcd', action: 'Snapshot', state: 'Running', startedAt: '2025-01-02T03:04:05Z' }],
      },
    });
    expect(errorsOf(input)).toEqual([]);
  });
});

describe('validateControlPlane rejects, naming field, value and what is allowed', () => {
  it.each<[string, Record<string, unknown>, string]>([
    ['version without v and patch', withField('spec.version', '1.37'), 'spec.version: Invalid value: "1.37": must be vMAJOR.MINOR.PATCH (e.g. v1.37.2)'],
    ['version without patch', withField('spec.version', 'v1.37'), 'spec.version: Invalid value: "v1.37": must be vMAJOR.MINOR.PATCH (e.g. v1.37.2)'],
    ['a pre-release', withField('spec.version', 'v1.37.2-rc.0'), 'spec.version: Invalid value: "v1.37.2-rc.0": must be vMAJOR.MINOR.PATCH (e.g. v1.37.2)'],
    ['a missing version', withField('spec.version', undefined), 'spec.version: Required value: must be vMAJOR.MINOR.PATCH (e.g. v1.37.2)'],
    ['a number as version', withField('spec.version', 1.37), 'spec.version: Invalid value: 1.37: must be string'],
    ['a missing spec', withField('spec', undefined), 'spec: Required value: must be object'],
    ['an unknown mode', withField('spec.mode', 'Hosted'), 'spec.mode: Invalid value: "Hosted": must be one of: "SelfHosted", "StaticPods"'],
    ['paused as a string', withField('spec.paused', 'yes'), 'spec.paused: Invalid value: "yes": must be boolean'],
    ['components as a string', withField('spec.components', 'etcd'), `spec.components: Invalid value: "etcd": must be array of: ${ALL_COMPONENTS}`],
    ['an unknown component', withField('spec.components', ['etcd', 'kube-dns']), `spec.components[1]: Invalid value: "kube-dns": must be one of: ${ALL_COMPONENTS}`],
    ['no components', withField('spec.components', []), 'spec.components: Invalid value: []: must have at least 1 item(s)'],
    ['a repeated component', withField('spec.components', ['etcd', 'cni', 'etcd']), 'spec.components[2]: Invalid value: "etcd": duplicate entry; each value may appear once'],
    ['an override for an unknown component', withField('spec.overrides', { 'kube-dns': {} }), `spec.overrides: Invalid value: "kube-dns": unknown field "kube-dns"; allowed: ${ALLOWED_OVERRIDES}`],
    ['an unknown spec field', withField('spec.versoin', 'v1.37.2'), 'spec: Invalid value: "versoin": unknown field "versoin"; allowed: cni, components, etcd, imageRepository, mode, overrides, paused, upgrade, version'],
    ['a flag with dashes', withField('spec.overrides', { 'kube-apiserver': { extraArgs: [{ name: '--v', value: '2' }] } }), 'spec.overrides.kube-apiserver.extraArgs[0].name: Invalid value: "--v": must be a flag name without leading dashes or "=" (e.g. audit-log-maxage)'],
    ['a flag without value', withField('spec.overrides', { 'kube-scheduler': { extraArgs: [{ name: 'v' }] } }), 'spec.overrides.kube-scheduler.extraArgs[0].value: Required value: must be string'],
    ['a repeated flag', withField('spec.overrides', { etcd: { extraArgs: [{ name: 'quota-backend-bytes', value: '1' }, { name: 'quota-backend-bytes', value: '2' }] } }), 'spec.overrides.etcd.extraArgs[1]: Invalid value: {"name":"quota-backend-bytes"}: duplicate entry; each name may appear once'],
    ['a negative quantity', withField('spec.overrides', { 'kube-apiserver': { resources: { requests: { cpu: '-1' } } } }), 'spec.overrides.kube-apiserver.resources.requests.cpu: Invalid value: "-1": must be a non-negative quantity such as 250m, 2, 512Mi or 1.5Gi'],
    ['a negative integer quantity', withField('spec.overrides', { 'kube-proxy': { resources: { requests: { cpu: -2 } } } }), 'spec.overrides.kube-proxy.resources.requests.cpu: Invalid value: -2: must be >= 0'],
    ['a quantity with a space', withField('spec.overrides', { 'kube-apiserver': { resources: { limits: { memory: '1 Gi' } } } }), 'spec.overrides.kube-apiserver.resources.limits.memory: Invalid value: "1 Gi": must be a non-negative quantity such as 250m, 2, 512Mi or 1.5Gi'],
    ['a boolean quantity', withField('spec.overrides', { 'kube-apiserver': { resources: { limits: { memory: true } } } }), 'spec.overrides.kube-apiserver.resources.limits.memory: Invalid value: true: must be integer or string'],
    ['a bad override image', withField('spec.overrides', { cni: { image: 'Not An Image' } }), 'spec.overrides.cni.image: Invalid value: "Not An Image": must be an image reference (e.g. registry.k8s.io/kube-apiserver:v1.37.2)'],
    ['cni name and selector', withField('spec.cni', { name: 'calico-node', selector: { 'k8s-app': 'calico-node' } }), 'spec.cni: Invalid value: {"name":"calico-node","selector":{"k8s-app":"calico-node"},"namespace":"kube-system"}: name calico-node and selector are both set; they are mutually exclusive: set one, or neither to auto-detect the one DaemonSet that mounts /etc/cni/net.d'],
    ['an empty cni selector', withField('spec.cni', { selector: {} }), 'spec.cni.selector: Invalid value: {}: must have at least 1 entry'],
    ['a bad cni label value', withField('spec.cni', { selector: { app: '-x' } }), 'spec.cni.selector.app: Invalid value: "-x": must be a label value: letters, digits, "-", "_" and ".", starting and ending with a letter or digit'],
    ['a bad cni namespace', withField('spec.cni', { namespace: 'Kube_System' }), 'spec.cni.namespace: Invalid value: "Kube_System": must be a DNS-1123 label: lowercase letters, digits and "-", starting and ending with a letter or digit'],
    ['a duration in words', withField('spec.upgrade', { healthTimeout: '5 minutes' }), 'spec.upgrade.healthTimeout: Invalid value: "5 minutes": must be a Go duration such as 90s, 5m or 1h30m (units: ns, us, ms, s, m, h)'],
    ['a duration too long', withField('spec.upgrade', { healthTimeout: '2h' }), 'spec.upgrade.healthTimeout: Invalid value: "2h": 2h is out of range; allowed: 10s to 1h'],
    ['a duration too short', withField('spec.upgrade', { healthTimeout: '500ms' }), 'spec.upgrade.healthTimeout: Invalid value: "500ms": 500ms is out of range; allowed: 10s to 1h'],
    ['snapshotRetention 0', withField('spec.etcd', { snapshotRetention: 0 }), 'spec.etcd.snapshotRetention: Invalid value: 0: must be between 1 and 100'],
    ['snapshotRetention 101', withField('spec.etcd', { snapshotRetention: 101 }), 'spec.etcd.snapshotRetention: Invalid value: 101: must be between 1 and 100'],
    ['snapshotRetention 2.5', withField('spec.etcd', { snapshotRetention: 2.5 }), 'spec.etcd.snapshotRetention: Invalid value: 2.5: must be integer'],
    ['an etcd version with v', withField('spec.etcd', { version: 'v3.6.5' }), 'spec.etcd.version: Invalid value: "v3.6.5": must be MAJOR.MINOR.PATCH without a leading v (e.g. 3.6.5)'],
    ['etcd as a string', withField('spec.etcd', 'yes'), 'spec.etcd: Invalid value: "yes": must be object'],
    ['a registry with a tag', withField('spec.imageRepository', 'registry.k8s.io:v1'), 'spec.imageRepository: Invalid value: "registry.k8s.io:v1": must be a registry host with an optional path and no tag (e.g. registry.k8s.io or registry.example.com:5000/k8s)'],
    ['a too long version', withField('spec.version', `v1.37.${'1'.repeat(40)}`), `spec.version: Invalid value: "v1.37.${'1'.repeat(40)}": must be at most 32 characters`],
    ['another apiVersion', withField('apiVersion', 'selfhost.dev/v1'), 'apiVersion: Invalid value: "selfhost.dev/v1": must be one of: "selfhost.dev/v1alpha1"'],
    ['another kind', withField('kind', 'Controlplane'), 'kind: Invalid value: "Controlplane": must be one of: "ControlPlane"'],
    ['no name', withField('metadata', {}), 'metadata.name: Required value: must be a DNS-1123 subdomain: lowercase letters, digits, "-" and ".", starting and ending with a letter or digit'],
    ['an upper-case name', withField('metadata.name', 'Cluster'), 'metadata.name: Invalid value: "Cluster": must be a DNS-1123 subdomain: lowercase letters, digits, "-" and ".", starting and ending with a letter or digit'],
    ['an unknown phase', withField('status', { phase: 'Running' }), 'status.phase: Invalid value: "Running": must be one of: "Pending", "StaticPods", "Pivoting", "SelfHosted", "Upgrading", "RollingBack", "Unpivoting", "Degraded"'],
    ['a condition without reason', withField('status', { conditions: [{ type: 'Ready', status: 'True', message: '', lastTransitionTime: '2025-01-02T03:04:05Z' }] }), 'status.conditions[0].reason: Required value: must be a CamelCase reason (letters, digits, "_", "," and ":")'],
    ['a condition with a bad time', withField('status', { conditions: [{ type: 'Ready', status: 'True', reason: 'AsExpected', message: '', lastTransitionTime: 'yesterday' }] }), 'status.conditions[0].lastTransitionTime: Invalid value: "yesterday": must be an RFC 3339 date-time (e.g. 2025-01-02T03:04:05Z)'],
    ['two conditions of one type', withField('status', { conditions: [
      { type: 'Ready', status: 'True', reason: 'AsExpected', message: '', lastTransitionTime: '2025-01-02T03:04:05Z' },
      { type: 'Ready', status: 'False', reason: 'AsExpected', message: '', lastTransitionTime: '2025-01-02T03:04:05Z' },
    ] }), 'status.conditions[1]: Invalid value: {"type":"Ready"}: duplicate entry; each type may appear once'],
    ['a negative ready count', withField('status', { components: [{ name: 'etcd', mode: 'SelfHosted', desired: 1, updated: 1, ready: -1 }] }), 'status.components[0].ready: Invalid value: -1: must be >= 0'],
  ])('%s', (_name, input, want) => {
    expect(errorsOf(input)).toEqual([want]);
  });

  it.each([
    [42, '<root>: Invalid value: 42: must be object'],
    ['cluster', '<root>: Invalid value: "cluster": must be object'],
    [null, '<root>: Invalid value: null: must be object'],
  ])('a non-object %j', (input, want) => {
    expect(errorsOf(input)).toEqual([want]);
  });

  it('collects every error, sorted by path, the same way each time', () => {
    const input = withField('spec', { version: 'v1.37', paused: 'yes', mode: 'Hosted', components: ['etcd', 'etcd'] });
    const first = errorsOf(input);
    expect(first.map((e) => e.split(':')[0])).toEqual(['spec.components[1]', 'spec.mode', 'spec.paused', 'spec.version']);
    const reordered = withField('spec', { components: ['etcd', 'etcd'], mode: 'Hosted', paused: 'yes', version: 'v1.37' });
    expect(errorsOf(reordered)).toEqual(first);
  });

  it('reports a CEL mirror error next to schema errors elsewhere, as the apiserver does', () => {
    const input = withField('spec', { version: 'v1.37', cni: { name: 'x', selector: { a: 'b' } } });
    expect(errorsOf(input).map((e) => e.split(':')[0])).toEqual(['spec.cni', 'spec.version']);
  });

  it('does not change its input', () => {
    const input = minimal();
    const before = structuredClone(input);
    validateControlPlane(input);
    expect(input).toEqual(before);
  });
});

describe('validateControlPlane on update (the version transition rule)', () => {
  const upgrading = {
    version: 'v1.38.0',
    plan: { operation: 'Upgrade' as const, fromVersion: 'v1.37.2', toVersion: 'v1.38.0', steps: [] },
  };
  it.each<[string, ControlPlane, string, string[]]>([
    ['next minor', stored('v1.36.4'), 'v1.37.0', []],
    ['patch downgrade within the minor', stored('v1.37.2'), 'v1.37.0', []],
    ['unchanged', stored('v1.37.2'), 'v1.37.2', []],
    ['minor skip', stored('v1.35.5'), 'v1.37.0', [
      'spec.version: Invalid value: "v1.37.0": cannot move from v1.35.5 (previous spec.version) to v1.37.0: that skips a minor, upgrade one minor at a time; allowed: v1.35.x or v1.36.x',
    ]],
    ['minor downgrade', stored('v1.37.2'), 'v1.36.4', [
      'spec.version: Invalid value: "v1.36.4": cannot move from v1.37.2 (previous spec.version) to v1.36.4: that is a minor downgrade; allowed: v1.37.x or v1.38.x',
    ]],
    ['major change', stored('v1.37.2'), 'v2.0.0', [
      'spec.version: Invalid value: "v2.0.0": cannot move from v1.37.2 (previous spec.version) to v2.0.0: the major version must not change; allowed: v1.37.x or v1.38.x',
    ]],
    ['abort of a running upgrade', stored('v1.38.0', upgrading), 'v1.37.2', []],
    ['a downgrade past the abort target', stored('v1.38.0', upgrading), 'v1.36.9', [
      'spec.version: Invalid value: "v1.36.9": cannot move from v1.38.0 (running, status.version) to v1.36.9: that is a minor downgrade; allowed: v1.38.x or v1.39.x, or v1.37.2 to abort the running upgrade',
    ]],
    ['judged against status.version when set', stored('v1.36.0', { version: 'v1.35.1' }), 'v1.37.0', [
      'spec.version: Invalid value: "v1.37.0": cannot move from v1.35.1 (running, status.version) to v1.37.0: that skips a minor, upgrade one minor at a time; allowed: v1.35.x or v1.36.x',
    ]],
    ['a malformed new version is left to the pattern', stored('v1.37.2'), 'v1.39', [
      'spec.version: Invalid value: "v1.39": must be vMAJOR.MINOR.PATCH (e.g. v1.37.2)',
    ]],
  ])('%s', (_name, old, version, want) => {
    expect(errorsOf(withField('spec.version', version), old)).toEqual(want);
  });

  it('leaves status-only writes alone even when status would forbid the stored spec', () => {
    // spec unchanged: the rule's first clause holds whatever the status says.
    const old = stored('v1.38.0', { version: 'v1.36.0' });
    expect(errorsOf({ ...structuredClone(old), status: { version: 'v1.36.1' } }, old)).toEqual([]);
  });
});
