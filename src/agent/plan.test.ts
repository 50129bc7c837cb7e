import { describe, expect, it } from 'vitest';
import type { AgentDesired, DesiredManifest, ManifestState } from '../api/agent.js';
import { computeAgentPlan, dedupeConflicts, type AgentAction } from './plan.js';
import { computeSha256, type DiskSnapshot, type FileInfo } from './snapshot.js';

const M = '/etc/kubernetes/manifests';
const B = '/etc/kubernetes/selfhost/backup';
const ORIGINAL = 'apiVersion: v1\nkind: Pod\nmetadata: {name: etcd}\n';
const PREPARED = 'apiVersion: v1\nkind: Pod\nmetadata: {name: etcd}\n# --permit-port-sharing\n';
const OTHER = 'edited by someone else\n';
const O = computeSha256(ORIGINAL);
const ETCD = `${M}/etcd.yaml`;
const ETCD_BACKUP = `${B}/etcd.yaml`;

function info(content: string): FileInfo {
  return { sha256: computeSha256(content), content };
}

function snapshot(manifests: Record<string, string>, backups: Record<string, string> = {}, temps: string[] = []): DiskSnapshot {
  const map = (files: Record<string, string>): Map<string, FileInfo> =>
    new Map(Object.entries(files).map(([name, text]) => [name, info(text)]));
  return { manifestDir: M, backupDir: B, manifests: map(manifests), backups: map(backups), temps };
}

function entry(state: ManifestState, path = ETCD, originalSha256 = O): DesiredManifest {
  return { path, state, originalSha256, ...(state === 'Prepared' ? { content: PREPARED } : {}), writtenSha256: [computeSha256(PREPARED)] };
}

function desired(...manifests: DesiredManifest[]): AgentDesired {
  return { manifests };
}

const backup: AgentAction = { kind: 'backup', from: ETCD, to: ETCD_BACKUP, sha256: O };
const restore: AgentAction = { kind: 'restore', from: ETCD_BACKUP, to: ETCD, sha256: O };
const write: AgentAction = { kind: 'write', path: ETCD, content: PREPARED };
const remove: AgentAction = { kind: 'remove', path: ETCD };

interface Case {
  name: string;
  state: ManifestState;
  active: string | undefined;
  backedUp: string | undefined;
  actions: AgentAction[];
  /** Regexps the single conflict message must match; undefined: no conflict. */
  conflict?: RegExp[];
}

const cases: Case[] = [
  // Prepared
  { name: 'first change: back up, then write', state: 'Prepared', active: ORIGINAL, backedUp: undefined, actions: [backup, write] },
  { name: 'crashed after the backup: only write', state: 'Prepared', active: ORIGINAL, backedUp: ORIGINAL, actions: [write] },
  { name: 'already prepared: nothing', state: 'Prepared', active: PREPARED, backedUp: ORIGINAL, actions: [] },
  { name: 'active missing (was retired): write', state: 'Prepared', active: undefined, backedUp: ORIGINAL, actions: [write] },
  {
    name: 'active written by someone else since, backup valid: conflict, their file kept',
    state: 'Prepared',
    active: OTHER,
    backedUp: ORIGINAL,
    actions: [],
    conflict: [new RegExp(`has sha256 ${computeSha256(OTHER)}, which is neither the original \\(${O}\\) nor a version selfhost wrote`)],
  },
  {
    name: 'backup with the wrong hash: conflict',
    state: 'Prepared',
    active: ORIGINAL,
    backedUp: OTHER,
    actions: [],
    conflict: [/backup \/etc\/kubernetes\/selfhost\/backup\/etcd\.yaml/, new RegExp(`sha256 ${computeSha256(OTHER)}`), new RegExp(`expected originalSha256 ${O}`)],
  },
  {
    name: 'no backup and the active file is not the original: conflict',
    state: 'Prepared',
    active: OTHER,
    backedUp: undefined,
    actions: [],
    conflict: [/\/etc\/kubernetes\/manifests\/etcd\.yaml/, new RegExp(`has sha256 ${computeSha256(OTHER)}`), new RegExp(`expected originalSha256 ${O}`), /no backup/],
  },
  {
    name: 'already prepared by someone else, no backup: conflict (the original is lost)',
    state: 'Prepared',
    active: PREPARED,
    backedUp: undefined,
    actions: [],
    conflict: [new RegExp(`has sha256 ${computeSha256(PREPARED)}`)],
  },
  {
    name: 'no backup and no active file: conflict',
    state: 'Prepared',
    active: undefined,
    backedUp: undefined,
    actions: [],
    conflict: [/etcd\.yaml: it is absent/, new RegExp(`expected originalSha256 ${O}`)],
  },
  // Retired
  { name: 'retire: back up, then remove', state: 'Retired', active: ORIGINAL, backedUp: undefined, actions: [backup, remove] },
  { name: 'crashed after the backup: only remove', state: 'Retired', active: ORIGINAL, backedUp: ORIGINAL, actions: [remove] },
  { name: 'already retired: nothing', state: 'Retired', active: undefined, backedUp: ORIGINAL, actions: [] },
  { name: 'prepared → retired: remove', state: 'Retired', active: PREPARED, backedUp: ORIGINAL, actions: [remove] },
  { name: 'retired, then someone wrote the file again: conflict, their file kept', state: 'Retired', active: OTHER, backedUp: ORIGINAL, actions: [], conflict: [/neither the original .* nor a version selfhost wrote/] },
  { name: 'retired, backup wrong: conflict, file kept', state: 'Retired', active: ORIGINAL, backedUp: OTHER, actions: [], conflict: [/backup .* has sha256/] },
  { name: 'retired, nothing anywhere: conflict', state: 'Retired', active: undefined, backedUp: undefined, actions: [], conflict: [/it is absent/] },
  // Original
  { name: 'never changed: nothing, no backup needed', state: 'Original', active: ORIGINAL, backedUp: undefined, actions: [] },
  { name: 'restored already: nothing (backup kept)', state: 'Original', active: ORIGINAL, backedUp: ORIGINAL, actions: [] },
  { name: 'prepared → original: restore', state: 'Original', active: PREPARED, backedUp: ORIGINAL, actions: [restore] },
  { name: 'retired → original: restore', state: 'Original', active: undefined, backedUp: ORIGINAL, actions: [restore] },
  { name: 'original, someone else\'s file in place: conflict, not overwritten', state: 'Original', active: OTHER, backedUp: ORIGINAL, actions: [], conflict: [/neither the original/] },
  { name: 'original, backup wrong: conflict', state: 'Original', active: PREPARED, backedUp: OTHER, actions: [], conflict: [/backup .* has sha256/] },
  { name: 'original, no backup, file absent: conflict', state: 'Original', active: undefined, backedUp: undefined, actions: [], conflict: [/it is absent/] },
  { name: 'original, no backup, file edited: conflict', state: 'Original', active: OTHER, backedUp: undefined, actions: [], conflict: [/has sha256/] },
];

describe('computeAgentPlan: one manifest in every half-done state', () => {
  it.each(cases)('$state: $name', ({ state, active, backedUp, actions, conflict }) => {
    const snap = snapshot(active === undefined ? {} : { 'etcd.yaml': active }, backedUp === undefined ? {} : { 'etcd.yaml': backedUp });
    const plan = computeAgentPlan(desired(entry(state)), snap);
    expect(plan.steps).toEqual(actions.length === 0 ? [] : [{ path: ETCD, actions }]);
    if (conflict === undefined) {
      expect(plan.conflicts).toEqual([]);
    } else {
      expect(plan.conflicts).toHaveLength(1);
      expect(plan.conflicts[0]?.path).toBe(ETCD);
      for (const re of conflict) expect(plan.conflicts[0]?.message).toMatch(re);
    }
  });

  it('backs up before any change of the active file, in every case', () => {
    for (const c of cases) {
      const kinds = c.actions.map((a) => a.kind);
      const firstChange = kinds.findIndex((k) => k === 'write' || k === 'remove');
      if (firstChange >= 0 && kinds.includes('backup')) expect(kinds.indexOf('backup')).toBeLessThan(firstChange);
      if (c.backedUp === undefined && firstChange >= 0) expect(kinds[0]).toBe('backup');
    }
  });
});

describe('computeAgentPlan: paths, other files, temps', () => {
  it.each([
    ['outside the manifest directory', '/etc/kubernetes/etcd.yaml', /not a file directly in the manifest directory \/etc\/kubernetes\/manifests/],
    ['in a subdirectory', `${M}/sub/etcd.yaml`, /not a file directly in the manifest directory/],
    ['with ..', `${M}/../manifests/etcd.yaml`, /not a file directly in the manifest directory/],
    ['the directory itself', M, /not a file directly in the manifest directory/],
    ['a hidden file', `${M}/.etcd.yaml`, /hidden file/],
  ])('refuses a path %s', (_name, path, message) => {
    const snap = snapshot({ 'etcd.yaml': ORIGINAL });
    const plan = computeAgentPlan(desired(entry('Retired', path)), snap);
    expect(plan.steps).toEqual([]);
    expect(plan.conflicts).toEqual([{ path, message: expect.stringMatching(message) as unknown as string }]);
  });

  it('refuses a path listed twice and still acts on the others', () => {
    const apiserver = `${M}/kube-apiserver.yaml`;
    const plan = computeAgentPlan(
      desired(entry('Retired'), entry('Prepared'), entry('Retired', apiserver)),
      snapshot({ 'etcd.yaml': ORIGINAL, 'kube-apiserver.yaml': ORIGINAL }),
    );
    expect(plan.conflicts).toEqual([{ path: ETCD, message: expect.stringMatching(/listed more than once/) as unknown as string }]);
    expect(plan.steps.map((s) => s.path)).toEqual([apiserver]);
  });

  it('never touches files that are not listed', () => {
    const snap = snapshot({ 'etcd.yaml': ORIGINAL, 'kube-scheduler.yaml': OTHER, 'custom.yaml': OTHER }, { 'old.yaml': OTHER });
    const plan = computeAgentPlan(desired(entry('Retired')), snap);
    const touched = plan.steps.flatMap((s) => s.actions.map((a) => ('path' in a ? a.path : a.to)));
    expect(touched).toEqual([ETCD_BACKUP, ETCD]);
  });

  it('plans temp clean-up first, also with no desired state at all', () => {
    const temps = [`${B}/.selfhost-etcd.yaml.1a2b.tmp`, `${M}/.selfhost-etcd.yaml.3c4d.tmp`];
    const snap = snapshot({ 'etcd.yaml': ORIGINAL }, {}, temps);
    const withDesired = computeAgentPlan(desired(entry('Retired')), snap);
    expect(withDesired.steps.map((s) => s.actions[0]?.kind)).toEqual(['removeTemp', 'removeTemp', 'backup']);
    const unknown = computeAgentPlan(undefined, snap);
    expect(unknown).toEqual({
      steps: temps.map((path) => ({ path, actions: [{ kind: 'removeTemp', path }] })),
      conflicts: [],
    });
  });

  it('accepts a manifest directory given with a trailing slash', () => {
    const snap = { ...snapshot({ 'etcd.yaml': ORIGINAL }), manifestDir: `${M}/` };
    expect(computeAgentPlan(desired(entry('Retired')), snap).steps).toEqual([{ path: ETCD, actions: [backup, remove] }]);
  });

  it('handles several manifests independently, sorted by path', () => {
    const sched = `${M}/kube-scheduler.yaml`;
    const plan = computeAgentPlan(
      desired(entry('Retired', sched), entry('Prepared'), entry('Original', `${M}/kube-apiserver.yaml`, computeSha256(OTHER))),
      snapshot({ 'etcd.yaml': ORIGINAL, 'kube-scheduler.yaml': ORIGINAL, 'kube-apiserver.yaml': ORIGINAL }),
    );
    expect(plan.steps.map((s) => s.path)).toEqual([ETCD, sched]);
    expect(plan.conflicts.map((c) => c.path)).toEqual([`${M}/kube-apiserver.yaml`]);
  });
});

describe('dedupeConflicts', () => {
  it('sorts by path then message and drops repeats', () => {
    expect(
      dedupeConflicts([
        { path: 'b', message: 'x' },
        { path: 'a', message: 'z' },
        { path: 'a', message: 'y' },
        { path: 'b', message: 'x' },
      ]),
    ).toEqual([
      { path: 'a', message: 'y' },
      { path: 'a', message: 'z' },
      { path: 'b', message: 'x' },
    ]);
  });
});

describe('computeAgentPlan: the unpivot (Handback, Restored, release)', () => {
  const HANDBACK = 'apiVersion: v1\nkind: Pod\nmetadata: {name: etcd}\n# behind the gate\n';
  const RESTORED = 'apiVersion: v1\nkind: Pod\nmetadata: {name: etcd}\n# kubeadm form, upgraded\n';
  const unpivot = (state: 'Handback' | 'Restored'): DesiredManifest => ({
    path: ETCD,
    state,
    originalSha256: O,
    content: state === 'Handback' ? HANDBACK : RESTORED,
    writtenSha256: [computeSha256(PREPARED), computeSha256(HANDBACK), computeSha256(RESTORED)],
  });

  it.each([
    ['retired → Handback: write (the backup stays)', 'Handback', undefined, [{ kind: 'write', path: ETCD, content: HANDBACK }]],
    ['Handback → Restored: overwrite the variant selfhost wrote', 'Restored', HANDBACK, [{ kind: 'write', path: ETCD, content: RESTORED }]],
    ['Restored already: nothing', 'Restored', RESTORED, []],
    ['crashed before the Handback write: write', 'Handback', undefined, [{ kind: 'write', path: ETCD, content: HANDBACK }]],
  ] as const)('%s', (_name, state, active, actions) => {
    const plan = computeAgentPlan(desired(unpivot(state)), snapshot(active === undefined ? {} : { 'etcd.yaml': active }, { 'etcd.yaml': ORIGINAL }));
    expect(plan.conflicts).toEqual([]);
    expect(plan.steps).toEqual(actions.length === 0 ? [] : [{ path: ETCD, actions }]);
  });

  it('a file someone else wrote during the unpivot (kubeadm) is kept and reported', () => {
    const plan = computeAgentPlan(desired(unpivot('Restored')), snapshot({ 'etcd.yaml': OTHER }, { 'etcd.yaml': ORIGINAL }));
    expect(plan.steps).toEqual([]);
    expect(plan.conflicts[0]?.message).toMatch(/neither the original .* nor a version selfhost wrote/);
  });

  it('release removes every backup not listed, and nothing in the manifest directory', () => {
    const plan = computeAgentPlan(
      { manifests: [], release: true },
      snapshot({ 'etcd.yaml': RESTORED, 'kube-scheduler.yaml': OTHER }, { 'etcd.yaml': ORIGINAL, 'kube-scheduler.yaml': ORIGINAL }),
    );
    expect(plan.steps).toEqual([
      { path: ETCD_BACKUP, actions: [{ kind: 'removeBackup', path: ETCD_BACKUP }] },
      { path: `${B}/kube-scheduler.yaml`, actions: [{ kind: 'removeBackup', path: `${B}/kube-scheduler.yaml` }] },
    ]);
  });

  it('release keeps the backup of a manifest still listed', () => {
    const plan = computeAgentPlan({ manifests: [unpivot('Restored')], release: true }, snapshot({ 'etcd.yaml': RESTORED }, { 'etcd.yaml': ORIGINAL }));
    expect(plan.steps).toEqual([]);
  });

  it('without release no backup is ever removed', () => {
    const plan = computeAgentPlan({ manifests: [] }, snapshot({}, { 'etcd.yaml': ORIGINAL }));
    expect(plan.steps).toEqual([]);
  });
});
