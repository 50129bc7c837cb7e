import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';

export type BinaryDir = 'SELFHOST_K8S_BIN' | 'SELFHOST_ETCD_BIN' | 'SELFHOST_KWOK_BIN';

/**
 * Where the test bed's binaries are. The Makefile builds them (hack/build-k8s.sh,
 * hack/build-etcd.sh, hack/build-kwok.sh) and passes the directories in; a missing binary is a
 * hard failure that says how to build it, never a skipped test.
 */
export function binary(envVar: BinaryDir, name: string): string {
  const dir = process.env[envVar];
  if (!dir) {
    throw new Error(`${envVar} is not set: run the integration tier through 'make test-integration', which builds the binaries`);
  }
  const path = join(dir, name);
  try {
    accessSync(path, constants.X_OK);
  } catch (err) {
    throw new Error(`${path} is missing or not executable: run 'make sim-bins'`, { cause: err });
  }
  return path;
}
