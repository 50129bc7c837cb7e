/**
 * `node dist/api/gen-crd.js <dir>` writes <dir>/selfhost.dev_controlplanes.yaml (make manifests;
 * make verify-manifests diffs crds/ and its copy deploy/crd/ against a fresh run).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { computeCrdYaml, CRD_FILE_NAME } from './crd-yaml.js';

function main(args: readonly string[]): number {
  const dir = args[0];
  if (dir === undefined || args.length !== 1) {
    process.stderr.write('usage: node dist/api/gen-crd.js <dir>\n');
    return 2;
  }
  const file = join(dir, CRD_FILE_NAME);
  try {
    mkdirSync(dir, { recursive: true });
    writeFileSync(file, computeCrdYaml());
  } catch (err) {
    throw new Error(`writing ${file}`, { cause: err });
  }
  return 0;
}

process.exitCode = main(process.argv.slice(2));
