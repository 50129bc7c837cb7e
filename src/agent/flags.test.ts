import { describe, expect, it } from 'vitest';
import { isWithinDir, parseDirFlag, parseDurationFlag, parseNodeFlag, parsePortFlag } from './flags.js';

describe('parseDurationFlag', () => {
  it.each([
    ['2s', false, 2000],
    ['200ms', false, 200],
    ['1m30s', false, 90_000],
    ['0', true, 0],
  ])('%s (zero allowed: %s) → %d ms', (text, allowZero, ms) => {
    expect(parseDurationFlag('interval', text, allowZero)).toEqual({ ok: true, value: ms });
  });

  it.each([['0', false], ['2', false], ['-1s', false], ['500us', false], ['soon', true]])('refuses %s (zero allowed: %s), naming flag and value', (text, allowZero) => {
    const r = parseDurationFlag('interval', text, allowZero);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toContain(`--interval: invalid value ${JSON.stringify(text)}`);
  });
});

describe('parseNodeFlag', () => {
  it.each(['cp-1', 'node1.example.com', 'a'])('accepts %s', (node) => {
    expect(parseNodeFlag(node)).toEqual({ ok: true, value: node });
  });
  it.each([['CP-1', /DNS-1123/], ['-x', /DNS-1123/], ['a'.repeat(64), /label value/], ['', /DNS-1123/]])('refuses %s', (node, why) => {
    const r = parseNodeFlag(node);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toMatch(why);
  });
});

describe('parsePortFlag', () => {
  it.each([['2379', 2379], ['1', 1], ['65535', 65535]])('accepts %s', (text, port) => {
    expect(parsePortFlag(text)).toEqual({ ok: true, value: port });
  });
  it.each(['0', '65536', 'http', '23.5', ''])('refuses %j', (text) => {
    expect(parsePortFlag(text)).toMatchObject({ ok: false, message: expect.stringContaining('--port: invalid value') as unknown as string });
  });
});

describe('parseDirFlag and isWithinDir', () => {
  it('normalizes absolute directories and refuses relative ones', () => {
    expect(parseDirFlag('manifest-dir', '/etc/kubernetes/manifests/')).toEqual({ ok: true, value: '/etc/kubernetes/manifests' });
    expect(parseDirFlag('manifest-dir', 'manifests')).toMatchObject({ ok: false });
  });
  it.each([
    ['/etc/kubernetes/manifests/backup', '/etc/kubernetes/manifests', true],
    ['/etc/kubernetes/manifests', '/etc/kubernetes/manifests', true],
    ['/etc/kubernetes/manifests-backup', '/etc/kubernetes/manifests', false],
    ['/etc/kubernetes/selfhost/backup', '/etc/kubernetes/manifests', false],
    ['/anything', '/', true],
  ])('%s within %s: %s', (dir, parent, want) => {
    expect(isWithinDir(dir, parent)).toBe(want);
  });
});
