import { describe, expect, it } from 'vitest';
import { dispatch } from './dispatch.js';
import { memoryIo } from './testing.js';

describe('selfhost plan', () => {
  it('prints the ordered steps of a one-minor upgrade', () => {
    const io = memoryIo();
    expect(dispatch(['plan', '--from', 'v1.35.5', '--to', 'v1.36.4'], io)).toBe(0);
    const text = io.stdout.join('\n');
    const order = ['Snapshot', 'etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kube-proxy'];
    const positions = order.map((word) => text.indexOf(word));
    expect(positions.every((p) => p >= 0)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
  });

  it.each([
    [['--from', 'v1.35.5', '--to', 'v1.37.2'], /refused \(MinorSkip\)/],
    [['--from', 'v1.37.2', '--to', 'v1.36.4'], /refused \(MinorDowngrade\)/],
    [['--from', 'v1.37.2', '--to', 'v1.38.0'], /refused \(UnsupportedVersion\).*v1\.35.v1\.37/],
    [['--from', '1.36', '--to', 'v1.37.2'], /refused \(InvalidVersion\)/],
  ])('refuses %j with the reason', (args, want) => {
    const io = memoryIo();
    expect(dispatch(['plan', ...args], io)).toBe(1);
    expect(io.stderr.join('\n')).toMatch(want);
  });

  it('refuses etcd 3.6.8 → 3.7 and names the way through (etcd 3.6.11 first)', () => {
    const refused = memoryIo();
    expect(dispatch(['plan', '--from', 'v1.36.4', '--to', 'v1.37.2'], refused)).toBe(1);
    expect(refused.stderr.join('\n')).toMatch(/refused \(EtcdUpgradePath\).*3\.6\.11/);
    const viaPatch = memoryIo();
    expect(dispatch(['plan', '--from', 'v1.36.4', '--to', 'v1.37.2', '--etcd-version', '3.6.11'], viaPatch)).toBe(0);
    expect(viaPatch.stdout.join('\n')).toMatch(/etcd.*3\.6\.8.*3\.6\.11/);
  });

  it('plans an abort back to the version the upgrade started from', () => {
    const io = memoryIo();
    expect(dispatch(['plan', '--from', 'v1.37.2', '--to', 'v1.36.4', '--aborting'], io)).toBe(0);
    const text = io.stdout.join('\n');
    expect(text.indexOf('kube-proxy')).toBeLessThan(text.indexOf('kube-apiserver'));
  });

  it('skips the snapshot with --no-snapshot and rejects bad usage', () => {
    const io = memoryIo();
    expect(dispatch(['plan', '--from', 'v1.35.5', '--to', 'v1.36.4', '--no-snapshot'], io)).toBe(0);
    expect(io.stdout.join('\n')).not.toMatch(/Snapshot/);
    expect(dispatch(['plan', '--from', 'v1.36.4'], memoryIo())).toBe(2);
    expect(dispatch(['plan', '--frm', 'x'], memoryIo())).toBe(2);
  });
});
