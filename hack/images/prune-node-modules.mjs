// Remove from a production node_modules what Node never loads, for selfhost's image. Both builds run
// it on the same `npm ci --omit=dev` tree (hack/images/selfhost.sh, the Dockerfile's deps stage),
// so their /app stays identical (test/image/dockerfile.test.ts compares it file by file).
//
// Usage: node hack/images/prune-node-modules.mjs NODE_MODULES_DIR     prints what it removed
//
// Removed:
//  - TypeScript (*.ts, *.mts, *.cts, declarations included): Node does not strip types under
//    node_modules, and nothing here compiles against them at run time
//  - source maps (*.map): selfhost never enables --enable-source-maps
//  - *.bare: native addons for the Bare runtime (bare-fs, bare-url, ...: tar-fs imports them only
//    under the "bare" condition); Node cannot load them
//  - Markdown (*.md, *.markdown) other than licence and notice files
//  - test, tests, __tests__, docs, doc, example(s), benchmark(s), bench and .github directories at a
//    package's root, unless its package.json's main, exports, imports, bin or browser names them
// Kept: every .js/.cjs/.mjs/.json file elsewhere, LICENSE/COPYING/NOTICE files, package.json files.
import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';

const PRUNED_DIRS = new Set(['test', 'tests', '__tests__', 'docs', 'doc', 'example', 'examples', 'benchmark', 'benchmarks', 'bench', '.github']);
const KEPT_DOCS = /^(licen[cs]e|copying|notice|authors?|patents?)([.-]|$)/i;

/** Whether Node never loads the file NAME (a base name) in a production node_modules. */
export function isPrunableFile(name) {
  if (/\.[mc]?ts$/.test(name) || name.endsWith('.map') || name.endsWith('.bare')) return true;
  return /\.(md|markdown)$/i.test(name) && !KEPT_DOCS.test(name);
}

/**
 * Whether the directory NAME at the root of a package (PKG: its parsed package.json) is never
 * loaded: a test/docs/example directory that none of its entry points names.
 */
export function isPrunableDir(name, pkg) {
  if (!PRUNED_DIRS.has(name)) return false;
  const entries = JSON.stringify([pkg.main, pkg.exports, pkg.imports, pkg.bin, pkg.browser, pkg.module]);
  return !new RegExp(`(^|[/"])${name.replace('.', '\\.')}(/|")`).test(entries);
}

function readPackage(dir) {
  try {
    return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  } catch {
    return undefined;
  }
}

/** Prune DIR recursively; returns [files, dirs, bytes] removed. */
export function prune(dir) {
  const removed = [0, 0, 0];
  const walk = (d) => {
    const pkg = readPackage(d);
    for (const ent of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, ent.name);
      if (ent.isDirectory()) {
        if (pkg !== undefined && isPrunableDir(ent.name, pkg)) {
          removed[1] += 1;
          removed[2] += size(p);
          rmSync(p, { recursive: true });
        } else walk(p);
      } else if (ent.isFile() && isPrunableFile(ent.name)) {
        removed[0] += 1;
        removed[2] += statSync(p).size;
        rmSync(p);
      }
    }
  };
  walk(dir);
  return removed;
}

function size(p) {
  const st = statSync(p);
  if (!st.isDirectory()) return st.size;
  return readdirSync(p).reduce((n, name) => n + size(join(p, name)), 0);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const dir = process.argv[2];
  if (dir === undefined || process.argv.length !== 3) {
    console.error('usage: prune-node-modules.mjs NODE_MODULES_DIR');
    process.exit(2);
  }
  if (!statSync(dir, { throwIfNoEntry: false })?.isDirectory()) {
    console.error(`prune-node-modules: ${dir} is not a directory`);
    process.exit(1);
  }
  const [files, dirs, bytes] = prune(dir);
  console.log(`prune-node-modules: removed ${files} files and ${dirs} directories, ${(bytes / 1048576).toFixed(1)} MiB, from ${dir}`);
}
