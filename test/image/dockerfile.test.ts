/**
 * The Dockerfile proven against `make image`: users with a container engine build the top-level
 * Dockerfile; the tests (and the node tier) run what hack/images/selfhost.sh builds. Both archives
 * are unpacked here and compared: the same /app, entrypoint, user, environment and gate binary, and
 * `selfhost --help` runs in both as user 65532. The Dockerfile's image is also compared with its
 * base (hack/images/node-base.sh): it adds /app, the nonroot user and the gate, and nothing else
 * of its build (no npm cache, no CA, no mount points).
 *
 * Inputs (`make image-dockerfile-test` builds all three from the working tree and sets them):
 * SELFHOST_IMAGE_ARCHIVE, SELFHOST_DOCKERFILE_ARCHIVE, SELFHOST_NODE_BASE_ARCHIVE. Needs root
 * (chroot, file owners).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { computeTreeDiff, isStaticElf, listTree, unpackOciArchive, type ImageConfig } from './oci.js';

const repo = new URL('../../', import.meta.url).pathname;
const cache = process.env['SELFHOST_CACHE'] ?? join(process.env['HOME'] ?? '/root', '.cache/selfhost');
const nodeVersion = readFileSync(join(repo, '.nvmrc'), 'utf8').trim().replace(/^v/, '');
const archives = {
  image: process.env['SELFHOST_IMAGE_ARCHIVE'] ?? join(cache, 'images/selfhost/localhost_selfhost_selfhost_dev.tar'),
  dockerfile: process.env['SELFHOST_DOCKERFILE_ARCHIVE'] ?? join(cache, 'images/selfhost-dockerfile/localhost_selfhost_selfhost_dev.tar'),
  base: process.env['SELFHOST_NODE_BASE_ARCHIVE'] ?? join(cache, `images/node-base/node_${nodeVersion}-slim.tar`),
};
const GATE = 'usr/local/bin/selfhost-gate-exec';
// By absolute path: spawnSync looks the program up in the child's environment, the image's PATH.
const CHROOT = ['/usr/sbin/chroot', '/usr/bin/chroot'].find((p) => existsSync(p)) ?? 'chroot';

interface Unpacked {
  rootfs: string;
  config: ImageConfig;
}
let work = '';
const images: Record<'image' | 'dockerfile' | 'base', Unpacked> = {
  image: { rootfs: '', config: {} },
  dockerfile: { rootfs: '', config: {} },
  base: { rootfs: '', config: {} },
};

beforeAll(() => {
  for (const [what, file] of Object.entries(archives)) {
    if (!existsSync(file)) throw new Error(`${what} archive ${file} is missing: run make image-dockerfile-test (it builds all three)`);
  }
  if (process.getuid?.() !== 0) throw new Error('the image comparison needs root (chroot, file owners)');
  work = mkdtempSync(join(tmpdir(), 'selfhost-image-test-'));
  for (const key of ['image', 'dockerfile', 'base'] as const) {
    const dest = join(work, key);
    images[key] = { rootfs: join(dest, 'rootfs'), config: unpackOciArchive(archives[key], dest) };
  }
}, 300_000);

afterAll(() => {
  if (work !== '') rmSync(work, { recursive: true, force: true });
});

/** Run ARGV in ROOTFS as the image would: its Env only, chroot, optionally as USER. */
function runIn(img: Unpacked, argv: string[], user?: string): { status: number | null; stdout: string; stderr: string } {
  const env = Object.fromEntries((img.config.Env ?? []).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
  const r = spawnSync(CHROOT, [...(user === undefined ? [] : [`--userspec=${user}`]), img.rootfs, ...argv], { env, encoding: 'utf8', timeout: 60_000 });
  if (r.error !== undefined) throw new Error(`chroot ${img.rootfs} ${argv.join(' ')}: ${r.error.message}`, { cause: r.error });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const both = (['image', 'dockerfile'] as const).map((key) => ({ key }));

describe('the Dockerfile builds what make image builds', () => {
  it('the same /app: dist, node_modules and package.json, file by file (content and mode)', () => {
    const diff = computeTreeDiff(listTree(images.image.rootfs, 'app'), listTree(images.dockerfile.rootfs, 'app'));
    expect(diff, 'make image vs the Dockerfile (was the same working tree built?)').toEqual([]);
    expect(existsSync(join(images.image.rootfs, 'app/dist/cli/main.js'))).toBe(true);
    expect(existsSync(join(images.image.rootfs, 'app/node_modules/@kubernetes/client-node/package.json'))).toBe(true);
  });

  it('the same entrypoint, user, working directory and no command', () => {
    for (const { config } of [images.image, images.dockerfile]) {
      expect(config.Entrypoint).toEqual(['node', '/app/dist/cli/main.js']);
      expect(config.User).toBe('65532:65532');
      expect(config.WorkingDir).toBe('/app');
      expect(config.Cmd ?? []).toEqual([]);
    }
  });

  it.each(both)('$key: NODE_ENV=production, PATH finds node at /usr/local/bin/node, user 65532 is nonroot', ({ key }) => {
    const { rootfs, config } = images[key];
    const env = config.Env ?? [];
    expect(env).toContain('NODE_ENV=production');
    const path = env.find((e) => e.startsWith('PATH='))?.slice('PATH='.length).split(':') ?? [];
    expect(path.map((dir) => join(dir, 'node')).find((p) => existsSync(join(rootfs, p)))).toBe('/usr/local/bin/node');
    expect(readFileSync(join(rootfs, 'etc/passwd'), 'utf8')).toMatch(/^nonroot:x:65532:65532:/m);
    expect(readFileSync(join(rootfs, 'etc/group'), 'utf8')).toMatch(/^nonroot:x:65532:/m);
  });

  it.each(both)('$key: node is .nvmrc\'s', ({ key }) => {
    const r = runIn(images[key], ['/usr/local/bin/node', '--version'], '65532:65532');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(`v${nodeVersion}`);
  });

  it.each(both)('$key: the gate binary is static, 0755, and answers with its usage', ({ key }) => {
    const file = join(images[key].rootfs, GATE);
    expect(statSync(file).mode & 0o7777).toBe(0o755);
    expect(isStaticElf(readFileSync(file))).toBe(true);
    const r = runIn(images[key], [`/${GATE}`], '65532:65532');
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('usage: selfhost-gate-exec install DEST');
  });

  it('selfhost --help runs as 65532 through the entrypoint in both, with the same output', () => {
    const out = both.map(({ key }) => {
      const r = runIn(images[key], [...(images[key].config.Entrypoint ?? []), '--help'], images[key].config.User);
      expect(r.status, `${key}: ${r.stderr}`).toBe(0);
      expect(r.stderr, key).toBe('');
      return r.stdout;
    });
    expect(out[0]).toMatch(/^usage: selfhost <command>/);
    expect(out[1]).toBe(out[0]);
  });

  // Static imports only in dist/ (no import()): loading every module proves the pruned
  // node_modules (hack/images/prune-node-modules.mjs) still has everything selfhost loads.
  it.each(both)('$key: every module of /app/dist loads (main.js and gen-crd.js are scripts: not run)', ({ key }) => {
    const code = [
      "import { readdirSync } from 'node:fs';",
      "const files = readdirSync('/app/dist', { recursive: true }).filter((f) => f.endsWith('.js') && f !== 'cli/main.js' && f !== 'api/gen-crd.js');",
      "for (const f of files) await import('/app/dist/' + f);",
      'console.log(files.length);',
      'process.exit(0);',
    ].join('\n');
    const r = runIn(images[key], ['/usr/local/bin/node', '--input-type=module', '-e', code], '65532:65532');
    expect(r.status, r.stderr).toBe(0);
    expect(Number(r.stdout.trim())).toBeGreaterThan(100);
  });

  it('the Dockerfile adds to its base only /app, the nonroot user and the gate', () => {
    const diff = computeTreeDiff(listTree(images.base.rootfs, '.'), listTree(images.dockerfile.rootfs, '.'));
    expect(diff.filter((d) => !d.startsWith('app: ') && !d.startsWith('app/'))).toEqual([
      'etc/group: content differs',
      'etc/passwd: content differs',
      `${GATE}: only in the second`,
    ]);
    expect(diff).toContain('app: only in the second');
  });
});
