import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { COMPONENTS, type ComponentName, type PlanStep } from '../api/types.js';
import { compareVersions } from '../api/version.js';
import type { MinorRelease } from '../versions/table.js';
import { parseComponentVersion } from './observed.js';
import { planVersionChange, ROLLBACK_ORDER, UPGRADE_ORDER } from './plan.js';
import { checkSkew, type SkewViolation } from './skew.js';
import { TABLE, TABLE_ETCD_35, TABLE_ETCD_37 } from './testdata/fixtures.js';
import {
  VERSIONED_COMPONENTS,
  type InstanceVersion,
  type ObservedVersions,
  type VersionChangeInput,
  type VersionedComponent,
} from './types.js';

const NODES = ['cp1', 'cp2', 'cp3'];

/** `v1.<minor>.<patch>` with the minor in [lo, hi]. */
const kube = (lo: number, hi: number) =>
  fc.tuple(fc.integer({ min: lo, max: hi }), fc.integer({ min: 0, max: 3 })).map(([m, p]) => `v1.${m}.${p}`);
const ETCD_PATCHES: Readonly<Record<number, readonly [number, number]>> = { 5: [24, 36], 6: [6, 16], 7: [0, 2] };
/** `3.<minor>.<patch>` with the minor in [lo, hi] and patches around the documented floors. */
const etcd = (lo: number, hi: number) =>
  fc.integer({ min: lo, max: hi }).chain((minor) => {
    const [min, max] = ETCD_PATCHES[minor] ?? [0, 0];
    return fc.integer({ min, max }).map((p) => `3.${minor}.${p}`);
  });
const etcdVersion = etcd(5, 7);
const etcdMembers = (lo: number, hi: number) => fc.array(etcd(lo, hi), { minLength: 3, maxLength: 3 });
/** Any members, sometimes two minors apart. */
const looseEtcd = etcdMembers(5, 7);
/** Members within one minor, as etcd allows. */
const cleanEtcd = fc.integer({ min: 5, max: 6 }).chain((lo) => etcdMembers(lo, lo + 1));

interface Scenario {
  input: VersionChangeInput;
  table: readonly MinorRelease[];
}

interface Ranges {
  readonly base: number;
  /** Minor ranges of each component's instances. */
  readonly api: readonly [number, number];
  readonly cp: readonly [number, number];
  readonly proxy: readonly [number, number];
}

/**
 * Clusters around a base minor: mostly plausible (apiservers within a minor, dependents close),
 * sometimes out of policy, with targets from one below to two above, so every rule gets exercised.
 */
const loose = fc.integer({ min: 34, max: 37 }).map(
  (base): Ranges => ({ base, api: [base, base + 1], cp: [base - 1, base + 1], proxy: [base - 4, base + 1] }),
);

/**
 * Clusters within the skew policy by construction (filtering loose ones would discard most):
 * apiservers on one or two adjacent minors, dependents no newer than the oldest apiserver can be
 * and no further behind than the newest allows, whichever of the two minors the apiservers draw.
 */
const clean = fc
  .tuple(fc.integer({ min: 34, max: 37 }), fc.boolean())
  .map(([base, split]): Ranges => {
    const newest = split ? base + 1 : base;
    return { base, api: split ? [base, base + 1] : [base, base], cp: [newest - 1, base], proxy: [newest - 3, base] };
  });

function scenarioFrom(ranges: fc.Arbitrary<Ranges>, members: fc.Arbitrary<string[]>): fc.Arbitrary<Scenario> {
  return ranges.chain(({ base, api, cp, proxy }) =>
    fc
      .record({
        nodes: fc.integer({ min: 1, max: 3 }),
        api: fc.array(kube(...api), { minLength: 3, maxLength: 3 }),
        kcm: fc.array(kube(...cp), { minLength: 3, maxLength: 3 }),
        sched: fc.array(kube(...cp), { minLength: 3, maxLength: 3 }),
        proxy: kube(...proxy),
        etcd: members,
        unobserved: fc.subarray(['etcd', 'kube-controller-manager', 'kube-scheduler', 'kube-proxy'] as const, {
          maxLength: 2,
        }),
        // Mostly the plausible targets (same minor or the next), sometimes one below or a skip.
        target: fc.oneof(
          { arbitrary: kube(base, base + 1), weight: 3 },
          { arbitrary: kube(base - 1, base + 2), weight: 1 },
        ),
        components: fc.subarray([...COMPONENTS], { minLength: 1 }),
        snapshot: fc.boolean(),
        override: fc.option(etcdVersion, { nil: undefined }),
        inProgress: fc.constantFrom('none', 'abort', 'other'),
        inProgressFrom: kube(base - 1, base + 1),
        table: fc.constantFrom(TABLE, TABLE_ETCD_35, TABLE_ETCD_37),
      })
      .map((r): Scenario => {
        const on = (versions: readonly string[]): InstanceVersion[] =>
          NODES.slice(0, r.nodes).map((node, i) => ({ node, version: versions[i] ?? 'unreachable' }));
        const seen = (c: (typeof r.unobserved)[number]) => !r.unobserved.includes(c);
        const observed: ObservedVersions = {
          ...(seen('etcd') ? { etcd: on(r.etcd) } : {}),
          'kube-apiserver': on(r.api),
          ...(seen('kube-controller-manager') ? { 'kube-controller-manager': on(r.kcm) } : {}),
          ...(seen('kube-scheduler') ? { 'kube-scheduler': on(r.sched) } : {}),
          ...(seen('kube-proxy') ? { 'kube-proxy': r.proxy } : {}),
        };
        const inProgress =
          r.inProgress === 'none'
            ? undefined
            : { operation: 'Upgrade' as const, fromVersion: r.inProgress === 'abort' ? r.target : r.inProgressFrom };
        return {
          table: r.table,
          input: {
            observed,
            target: r.target,
            components: r.components,
            snapshotBeforeUpgrade: r.snapshot,
            ...(r.override ? { etcdVersionOverride: r.override } : {}),
            ...(inProgress ? { inProgress } : {}),
          },
        };
      }),
  );
}

const scenario = scenarioFrom(loose, looseEtcd);
const cleanScenario = scenarioFrom(clean, cleanEtcd);

/** Components observed per node (everything versioned but kube-proxy). */
type PerNodeComponent = Exclude<VersionedComponent, 'kube-proxy'>;
const isPerNode = (c: ComponentName): c is PerNodeComponent => c !== 'kube-proxy' && c !== 'cni';
const isVersioned = (c: ComponentName): c is VersionedComponent => c !== 'cni';

/** The state after a step: every instance of its component at the step's toVersion. */
function applyStep(observed: ObservedVersions, step: PlanStep): ObservedVersions {
  const to = step.toVersion;
  if (step.action === 'Snapshot' || to === undefined) return observed;
  if (step.component === 'kube-proxy') return { ...observed, 'kube-proxy': to };
  const c = step.component;
  if (!isPerNode(c)) throw new Error(`step for ${c}`);
  return { ...observed, [c]: (observed[c] ?? []).map((i) => ({ node: i.node, version: to })) };
}

/** While a step rolls, old and new instances run side by side (kube-proxy: covered by before/after). */
function duringStep(observed: ObservedVersions, step: PlanStep): ObservedVersions {
  const c = step.component;
  if (step.action === 'Snapshot' || !isPerNode(c)) return observed;
  const after = (applyStep(observed, step)[c] ?? []).map((i) => ({ node: `${i.node}'`, version: i.version }));
  return { ...observed, [c]: [...(observed[c] ?? []), ...after] };
}

/** Every state the cluster passes through, in order, after the initial one. */
function walk(observed: ObservedVersions, steps: readonly PlanStep[]): ObservedVersions[] {
  const states: ObservedVersions[] = [];
  let current = observed;
  for (const step of steps) {
    states.push(duringStep(current, step));
    current = applyStep(current, step);
    states.push(current);
  }
  return states;
}

const excessByKey = (vs: readonly SkewViolation[]) => {
  const m = new Map<string, number>();
  for (const v of vs) m.set(`${v.rule}/${v.component}`, Math.max(m.get(`${v.rule}/${v.component}`) ?? 0, v.excess));
  return m;
};

const plan = (s: Scenario) => planVersionChange(s.input, s.table);
// PLAN_PROPERTY_RUNS raises the count for a longer bug hunt; CI keeps the default fast.
const RUNS = { numRuns: Number(process.env['PLAN_PROPERTY_RUNS'] ?? 1500) };
const TIMEOUT = 120_000;

describe('planVersionChange properties', () => {
  it('an accepted plan from a cluster within policy never leaves the policy, not even mid-step', () => {
    fc.assert(
      fc.property(cleanScenario, (s) => {
        expect(checkSkew(s.input.observed)).toEqual([]);
        const result = plan(s);
        if (!result.ok) return;
        for (const state of walk(s.input.observed, result.steps)) expect(checkSkew(state)).toEqual([]);
      }),
      RUNS,
    );
  }, TIMEOUT);

  it('an accepted plan from any cluster never worsens a violation and ends within policy', () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const result = plan(s);
        if (!result.ok || result.steps.length === 0) return;
        const before = excessByKey(checkSkew(s.input.observed));
        const states = walk(s.input.observed, result.steps);
        for (const state of states) {
          for (const [key, excess] of excessByKey(checkSkew(state))) {
            expect(excess).toBeLessThanOrEqual(before.get(key) ?? 0);
          }
        }
        expect(checkSkew(states[states.length - 1] ?? s.input.observed)).toEqual([]);
      }),
      RUNS,
    );
  }, TIMEOUT);

  it('is deterministic, whatever order the instances are reported in', () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const reversed: Record<string, unknown> = { ...s.input.observed };
        for (const c of VERSIONED_COMPONENTS) {
          const list = s.input.observed[c];
          if (Array.isArray(list)) reversed[c] = [...list].reverse();
        }
        const again = { ...s, input: { ...structuredClone(s.input), observed: reversed as ObservedVersions } };
        expect(plan(again)).toEqual(plan(s));
      }),
      RUNS,
    );
  }, TIMEOUT);

  it('no step goes from a version to itself, and every step moves the way its action says', () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const result = plan(s);
        if (!result.ok) return;
        for (const step of result.steps) {
          if (step.action === 'Snapshot') continue;
          const component = step.component;
          if (!isVersioned(component)) throw new Error('a step for the CNI');
          const from = parseComponentVersion(component, step.fromVersion ?? '');
          const to = parseComponentVersion(component, step.toVersion ?? '');
          if (!from || !to) throw new Error(`unparseable step ${JSON.stringify(step)}`);
          const sign = Math.sign(compareVersions(from, to));
          expect(sign).toBe(step.action === 'Upgrade' ? -1 : 1);
        }
      }),
      RUNS,
    );
  }, TIMEOUT);

  it('steps only managed components, in the order of the operation, etcd never down, snapshot first', () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const result = plan(s);
        if (!result.ok) return;
        const moves = result.steps.filter((st) => st.action !== 'Snapshot');
        const order: readonly ComponentName[] = result.operation === 'Rollback' ? ROLLBACK_ORDER : UPGRADE_ORDER;
        const positions = moves.map((st) => order.indexOf(st.component));
        expect(positions.every((p) => p >= 0)).toBe(true);
        expect(positions).toEqual([...positions].sort((a, b) => a - b));
        expect(new Set(moves.map((st) => st.component)).size).toBe(moves.length);
        expect(moves.every((st) => s.input.components.includes(st.component) && st.component !== 'cni')).toBe(true);
        expect(moves.some((st) => st.component === 'etcd' && st.action === 'Downgrade')).toBe(false);
        const snapshots = result.steps.flatMap((st, i) => (st.action === 'Snapshot' ? [i] : []));
        const asked = s.input.snapshotBeforeUpgrade === true;
        expect(snapshots.length === 0 || (snapshots.length === 1 && snapshots[0] === 0 && asked)).toBe(true);
        expect(result.operation === 'None').toBe(result.steps.length === 0);
      }),
      RUNS,
    );
  }, TIMEOUT);

  it('converges: once an accepted plan has run, planning again finds nothing to do', () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const result = plan(s);
        if (!result.ok) return;
        const after = walk(s.input.observed, result.steps).at(-1) ?? s.input.observed;
        // Planned afresh: whatever was in progress has finished.
        const again = planVersionChange(
          {
            observed: after,
            target: s.input.target,
            components: s.input.components,
            ...(s.input.etcdVersionOverride ? { etcdVersionOverride: s.input.etcdVersionOverride } : {}),
          },
          s.table,
        );
        if (result.operation !== 'Rollback') {
          expect(again).toMatchObject({ ok: true, operation: 'None', steps: [] });
          return;
        }
        // A rollback leaves etcd alone, so the etcd upgrade it deferred (or its refusal) may
        // remain; nothing else may.
        if (again.ok) expect(again.steps.every((st) => st.component === 'etcd')).toBe(true);
        else expect(again.reason).toMatch(/^Etcd/);
      }),
      RUNS,
    );
  }, TIMEOUT);

  it('the generator reaches upgrades, rollbacks, no-ops and refusals (the properties are not vacuous)', () => {
    const results = fc.sample(scenario, { numRuns: 3000, seed: 42 }).map(plan);
    const count = (pred: (r: ReturnType<typeof plan>) => boolean) => results.filter(pred).length;
    expect(count((r) => r.ok && r.operation === 'Upgrade')).toBeGreaterThan(100);
    expect(count((r) => r.ok && r.operation === 'Rollback')).toBeGreaterThan(30);
    expect(count((r) => r.ok && r.operation === 'None')).toBeGreaterThan(10);
    const reasons = new Set(results.flatMap((r) => (r.ok ? [] : [r.reason])));
    const expected = [
      'MinorSkip',
      'MinorDowngrade',
      'SkewViolation',
      'UnsupportedVersion',
      'EtcdDowngrade',
      'EtcdUpgradePath',
      'EtcdMinorSkip',
    ] as const;
    for (const reason of expected) {
      expect(reasons).toContain(reason);
    }
    const clean = fc.sample(cleanScenario, { numRuns: 3000, seed: 42 }).map(plan);
    expect(clean.filter((r) => r.ok && r.steps.length >= 3).length).toBeGreaterThan(50);
  });
});
