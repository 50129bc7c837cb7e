// Types of prune-node-modules.mjs (plain JavaScript: the Dockerfile's deps stage runs it before
// any TypeScript is compiled), for test/image/prune.test.ts.
export interface PackageJson {
  main?: unknown;
  exports?: unknown;
  imports?: unknown;
  bin?: unknown;
  browser?: unknown;
  module?: unknown;
}
export function isPrunableFile(name: string): boolean;
export function isPrunableDir(name: string, pkg: PackageJson): boolean;
export function prune(dir: string): [files: number, dirs: number, bytes: number];
