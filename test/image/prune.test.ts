import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isPrunableDir, isPrunableFile, prune, type PackageJson } from '../../hack/images/prune-node-modules.mjs';

describe('isPrunableFile', () => {
  const cases: [string, boolean][] = [
    ['index.js', false],
    ['index.cjs', false],
    ['index.mjs', false],
    ['package.json', false],
    ['index.d.ts', true],
    ['index.d.mts', true],
    ['types.cts', true],
    ['source.ts', true],
    ['index.js.map', true],
    ['bare-url.bare', true],
    ['README.md', true],
    ['CHANGELOG.markdown', true],
    ['LICENSE', false],
    ['LICENSE.md', false],
    ['license-mit.md', false],
    ['LICENCE.md', false],
    ['COPYING.md', false],
    ['NOTICE.md', false],
    ['AUTHORS.md', false],
    ['licensed-features.md', true],
    ['tsconfig.json', false],
    ['binding.node', false],
  ];
  it.each(cases)('%s → %s', (name, want) => {
    expect(isPrunableFile(name)).toBe(want);
  });
});

describe('isPrunableDir', () => {
  const cases: { name: string; dir: string; pkg: PackageJson; want: boolean }[] = [
    { name: 'a test directory', dir: 'test', pkg: { main: 'index.js' }, want: true },
    { name: 'docs', dir: 'docs', pkg: {}, want: true },
    { name: '.github', dir: '.github', pkg: {}, want: true },
    { name: 'lib is code', dir: 'lib', pkg: {}, want: false },
    { name: 'dist is code', dir: 'dist', pkg: { main: './dist/index.js' }, want: false },
    { name: 'main inside test', dir: 'test', pkg: { main: 'test/index.js' }, want: false },
    { name: 'exports into docs', dir: 'docs', pkg: { exports: { './x': './docs/x.js' } }, want: false },
    { name: 'bin into bench', dir: 'bench', pkg: { bin: { b: './bench/cli.js' } }, want: false },
    { name: 'main is the directory', dir: 'example', pkg: { main: './example' }, want: false },
    { name: 'a name that only ends like one', dir: 'test', pkg: { main: './latest/index.js' }, want: true },
  ];
  it.each(cases)('$name', ({ dir, pkg, want }) => {
    expect(isPrunableDir(dir, pkg)).toBe(want);
  });
});

describe('prune', () => {
  let dir = '';
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('removes what Node never loads, only at package roots for directories', () => {
    dir = mkdtempSync(join(tmpdir(), 'prune-test-'));
    const files: Record<string, string> = {
      'a/package.json': '{"main":"index.js"}',
      'a/index.js': 'x',
      'a/index.d.ts': 'x',
      'a/index.js.map': 'x',
      'a/README.md': 'x',
      'a/LICENSE.md': 'x',
      'a/test/a.test.js': 'x',
      'a/lib/test/helper.js': 'x', // not at a package root: kept
      'a/prebuilds/linux-x64/a.bare': 'x',
      'b/package.json': '{"main":"test/index.js"}',
      'b/test/index.js': 'x', // b's entry point: kept
    };
    for (const [p, text] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, p)), { recursive: true });
      writeFileSync(join(dir, p), text);
    }
    const [nFiles, nDirs] = prune(dir);
    const left = (readdirSync(dir, { recursive: true }) as string[]).filter((p) => p.includes('.')).sort();
    expect(left).toEqual(['a/LICENSE.md', 'a/index.js', 'a/lib/test/helper.js', 'a/package.json', 'b/package.json', 'b/test/index.js']);
    expect([nFiles, nDirs]).toEqual([4, 1]);
  });
});
