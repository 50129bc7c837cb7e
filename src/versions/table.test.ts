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
