import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { mustParseVersion, minorKey } from '../api/version.js';
import { RELEASES, releaseFor, supportedRange } from './table.js';

const fixtures = fileURLToPath(new URL('../convert/testdata/kubeadm/', import.meta.url));

describe('RELEASES', () => {
  it('is ordered oldest first with consecutive minors', () => {
    const minors = RELEASES.map((r) => Number(r.minor.split('.')[1]));
    minors.forEach((m, i) => {
      if (i > 0) expect(m).toBe((minors[i - 1] ?? 0) + 1);
    });
    expect(supportedRange()).toBe(`v${RELEASES[0]?.minor}–v${RELEASES.at(-1)?.minor}`);
  });

  // The table must agree with what real kubeadm pairs (images.txt of each fixture).
  it.each(readdirSync(fixtures))('agrees with kubeadm %s images list', (dir) => {
    const images = readFileSync(`${fixtures}/${dir}/images.txt`, 'utf8');
    const release = releaseFor(mustParseVersion(dir));
    expect(release?.minor).toBe(minorKey(mustParseVersion(dir)));
    expect(images).toContain(`/etcd:${release?.etcdImageTag}\n`);
    expect(images).toContain(`/pause:${release?.pauseImageTag}\n`);
  });

  it('knows nothing of unsupported minors', () => {
    expect(releaseFor(mustParseVersion('v1.20.0'))).toBeUndefined();
  });
});

// hack/versions.sh pairs etcd for the shell build scripts; it must say what the table says.
describe('hack/versions.sh etcd pairing', () => {
  const script = readFileSync(fileURLToPath(new URL('../../hack/versions.sh', import.meta.url)), 'utf8');
  const body = (fn: string): string => script.slice(script.indexOf(`${fn}() {`), script.indexOf('\n}', script.indexOf(`${fn}() {`)));
  const cases = (fn: string) => [...body(fn).matchAll(/v1\.(\d+)\.\*\) echo (\S+) ;;/g)].map((m) => [`1.${m[1]}`, m[2]] as const);
  const pairs = cases('etcd_version_for');
  it('lists at least the test-bed minors', () => expect(pairs.length).toBeGreaterThanOrEqual(2));
  it.each(pairs)('v%s → etcd %s matches the table', (minor, etcd) => {
    const release = RELEASES.find((r) => r.minor === minor);
    expect(release?.etcdImageTag).toBe(`${etcd}-0`);
  });
});

// The etcd patches an upgrade steps through: the images the test bed builds are the ones the table names.
describe('hack/versions.sh etcd_upgrade_via_for', () => {
  const script = readFileSync(fileURLToPath(new URL('../../hack/versions.sh', import.meta.url)), 'utf8');
  const start = script.indexOf('etcd_upgrade_via_for() {');
  const body = script.slice(start, script.indexOf('\n}', start));
  const via = new Map([...body.matchAll(/v1\.(\d+)\.\*\) echo ([^;]+?) ;;/g)].map((m) => [`1.${m[1]}`, (m[2] ?? '').split(' ').map((v) => `${v}-0`)]));
  it.each(RELEASES.map((r) => [r.minor, r.etcdUpgradeVia ?? []] as const))('v%s → %j', (minor, tags) => {
    expect(via.get(minor) ?? []).toEqual([...tags]);
  });
});
