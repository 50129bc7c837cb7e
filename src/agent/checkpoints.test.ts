import { describe, expect, it } from 'vitest';
import pino from 'pino';
import type { DesiredCheckpoint } from '../api/agent.js';
import {
  checkpointComponentOf,
  computeCheckpointPlan,
  computeObservedCheckpoints,
  executeCheckpointPlan,
  scanCheckpoints,
  type CheckpointDisk,
} from './checkpoints.js';
import { MemoryDisk } from './memory-disk.js';
import { computeSha256 } from './snapshot.js';

const POD = 'kind: Pod\n';
const BIN = computeSha256('bin');
const cp = (component: string, standby: boolean, content = POD): DesiredCheckpoint => ({ component, content, standby });
/** A scanned disk; `bin: null` means no supervisor installed. */
const disk = ({ bin, ...d }: Partial<Omit<CheckpointDisk, 'binSha256'>> & { bin?: string | null }): CheckpointDisk => ({
  files: new Map(),
  standby: new Set<string>(),
  active: new Set<string>(),
  ...d,
  ...(bin === null ? {} : { binSha256: bin ?? BIN }),
});
const file = (content = POD) => ({ sha256: computeSha256(content), content });

describe('computeCheckpointPlan', () => {
  it.each([
    ['unknown desired: nothing is touched', undefined, disk({ files: new Map([['etcd', file()]]) }), true, []],
    ['first checkpoint: binary, marker, then the manifest', [cp('etcd', true)], disk({ bin: null }), true, ['installBinary', 'touchStandby etcd', 'writeCheckpoint etcd']],
    ['an outdated binary is replaced', [cp('etcd', true)], disk({ bin: 'old', files: new Map([['etcd', file()]]) }), true, ['installBinary', 'touchStandby etcd']],
    ['in sync: only the marker is refreshed', [cp('etcd', true)], disk({ files: new Map([['etcd', file()]]), standby: new Set(['etcd']) }), true, ['touchStandby etcd']],
    ['the API did not answer: the marker is left to age', [cp('etcd', true)], disk({ files: new Map([['etcd', file()]]), standby: new Set(['etcd']) }), false, []],
    ['the real pod is gone: the marker goes', [cp('etcd', false)], disk({ files: new Map([['etcd', file()]]), standby: new Set(['etcd']) }), true, ['removeStandby etcd']],
    ['a new proven template: the manifest is rewritten', [cp('etcd', true, 'kind: Pod\n# v2\n')], disk({ files: new Map([['etcd', file()]]), standby: new Set(['etcd']) }), true, ['touchStandby etcd', 'writeCheckpoint etcd']],
    ['a component no longer self-hosted: its checkpoint and marker go', [cp('etcd', true)], disk({ files: new Map([['etcd', file()], ['kube-scheduler', file()]]), standby: new Set(['etcd', 'kube-scheduler']) }), true, ['touchStandby etcd', 'removeCheckpoint kube-scheduler', 'removeStandby kube-scheduler']],
    ['no checkpoint wanted: everything goes, the binary last', [], disk({ files: new Map([['etcd', file()]]), standby: new Set(['etcd']) }), true, ['removeCheckpoint etcd', 'removeStandby etcd', 'removeBinary']],
    ['a stray marker without a checkpoint goes', [], disk({ bin: null, standby: new Set(['kube-apiserver']) }), true, ['removeStandby kube-apiserver']],
  ] as const)('%s', (_name, desired, d, apiAnswered, want) => {
    const actions = computeCheckpointPlan({ desired, disk: d, sourceSha256: BIN, apiAnswered });
    expect(actions.map((a) => ('component' in a ? `${a.kind} ${a.component}` : a.kind))).toEqual(want);
  });
});

describe('checkpointComponentOf', () => {
  it.each([
    ['selfhost-checkpoint-etcd.yaml', 'etcd'],
    ['selfhost-checkpoint-kube-apiserver.yaml', 'kube-apiserver'],
    ['selfhost-checkpoint-.yaml', undefined],
    ['etcd.yaml', undefined],
    ['selfhost-checkpoint-etcd.yml', undefined],
  ])('%s → %s', (name, want) => expect(checkpointComponentOf(name)).toBe(want));
});

describe('executeCheckpointPlan on a disk', () => {
  const paths = { manifestDir: '/m', binPath: '/s/bin/gx', runDir: '/run/c' };
  const logger = pino({ level: 'silent' });

  it('writes the binary 0755, the marker before the manifest, and reports what is there', async () => {
    const d = new MemoryDisk({ '/m/etcd.yaml': 'other' });
    const actions = computeCheckpointPlan({ desired: [cp('etcd', true)], disk: await scanCheckpoints(d, paths), sourceSha256: BIN, apiAnswered: true });
    const r = await executeCheckpointPlan(actions, d, paths, () => Promise.resolve(Buffer.from('bin')), () => new Date(0), logger);
    expect(r).toEqual({ done: 2, failures: [] });
    expect(d.log).toEqual(['write /s/bin/gx', 'write /run/c/etcd.standby', 'write /m/selfhost-checkpoint-etcd.yaml']);
    expect(d.modes.get('/s/bin/gx')).toBe(0o755);
    expect(d.modes.get('/m/selfhost-checkpoint-etcd.yaml')).toBe(0o600);
    d.files.set('/run/c/etcd.active', Buffer.from('active\n'));
    expect(computeObservedCheckpoints(await scanCheckpoints(d, paths))).toEqual([{ component: 'etcd', sha256: computeSha256(POD), active: true, standby: true }]);
  });

  it('does not write a checkpoint when the supervisor could not be installed', async () => {
    const d = new MemoryDisk();
    d.failWith = (op, path) => (op === 'writeAtomic' && path === paths.binPath ? new Error('no space left on device') : undefined);
    const actions = computeCheckpointPlan({ desired: [cp('etcd', true)], disk: await scanCheckpoints(d, paths), sourceSha256: BIN, apiAnswered: true });
    const r = await executeCheckpointPlan(actions, d, paths, () => Promise.resolve(Buffer.from('bin')), () => new Date(0), logger);
    expect(r.failures).toEqual([{ path: '/s/bin/gx', message: 'installBinary failed: no space left on device' }]);
    expect(d.text('/m/selfhost-checkpoint-etcd.yaml')).toBeUndefined();
  });

  it('does not write a checkpoint whose marker could not be written (it would start beside the real pod)', async () => {
    const d = new MemoryDisk();
    d.failWith = (op, path) => (op === 'writeAtomic' && path.endsWith('.standby') ? new Error('read-only') : undefined);
    const actions = computeCheckpointPlan({ desired: [cp('etcd', true)], disk: await scanCheckpoints(d, paths), sourceSha256: BIN, apiAnswered: true });
    const r = await executeCheckpointPlan(actions, d, paths, () => Promise.resolve(Buffer.from('bin')), () => new Date(0), logger);
    expect(r.failures).toEqual([{ path: '/run/c/etcd.standby', message: 'touchStandby failed: read-only' }]);
    expect(d.text('/m/selfhost-checkpoint-etcd.yaml')).toBeUndefined();
  });
});
