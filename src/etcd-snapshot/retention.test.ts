import { describe, expect, it } from 'vitest';
import { RECORD } from './testing.js';
import { findOwnSnapshots, selectForDeletion, type OwnSnapshot } from './retention.js';

const snap = (name: string, time: string): OwnSnapshot => ({ name, time });
const a = snap('a', '2026-01-01T00:00:00Z');
const b = snap('b', '2026-01-02T00:00:00Z');
const c = snap('c', '2026-01-03T00:00:00Z');
const now = snap('now', '2026-01-04T00:00:00Z');

describe('selectForDeletion', () => {
  it.each<[string, OwnSnapshot[], number, string[]]>([
    ['nothing to delete under the limit', [a, now], 3, []],
    ['exactly at the limit', [a, b, now], 3, []],
    ['the oldest beyond the limit', [a, b, c, now], 3, ['a']],
    ['retention 1 keeps only the new one', [c, a, b, now], 1, ['c', 'b', 'a']],
    ['the new snapshot is kept even if older ones look newer (clock went back)', [snap('future', '2030-01-01T00:00:00Z'), now], 1, ['future']],
    ['ties on time are broken by name, newest name kept', [snap('x1', a.time), snap('x2', a.time), now], 2, ['x1']],
  ])('%s', (_what, snapshots, retention, want) => {
    expect(selectForDeletion(snapshots, retention, 'now')).toEqual(want);
  });

  it('refuses a retention below 1 (it would delete the new snapshot)', () => {
    expect(() => selectForDeletion([a], 0, 'now')).toThrow('retention 0: must be an integer of at least 1');
  });
});

describe('findOwnSnapshots', () => {
  const record = (name: string, time = a.time) => JSON.stringify({ ...RECORD, name, path: `/d/${name}.db`, time });
  it.each<[string, Record<string, string>, string[], OwnSnapshot[]]>([
    ['a .db with its record', { 'a.json': record('a') }, ['a.db', 'a.json'], [{ name: 'a', time: a.time }]],
    ['a .db without a record', {}, ['a.db'], []],
    ['a record without its .db', { 'a.json': record('a') }, ['a.json'], []],
    ['a record of another program', { 'a.json': JSON.stringify({ ...RECORD, name: 'a', format: 'other' }) }, ['a.db', 'a.json'], []],
    ['a record naming another snapshot', { 'a.json': record('b') }, ['a.db', 'a.json', 'b.db'], []],
    ['a record that is not JSON', { 'a.json': 'nope' }, ['a.db', 'a.json'], []],
    ['a record with a bad time', { 'a.json': record('a', 'yesterday') }, ['a.db', 'a.json'], []],
    ['other files', {}, ['notes.txt', 'x.db.part', 'backup.tar'], []],
  ])('%s', (_what, texts, files, want) => {
    const got = findOwnSnapshots(files, (f) => texts[f]);
    expect(got).toEqual(want);
  });
});
