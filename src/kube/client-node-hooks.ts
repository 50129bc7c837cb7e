/**
 * A module resolve hook that keeps client-node's generated APIs and models out of the process
 * (client-node.ts says why). KubeConfig's file (dist/config.js) imports `createConfiguration`
 * and `ServerConfiguration` from the generated index, which re-exports all of the generated code;
 * the hook resolves that single import to client-node-gen.ts, which takes the two names from
 * their own files. Every other import resolves as usual.
 *
 * Registered first thing by the CLI entry (main.ts), before anything imports client-node. Tests
 * that import src/ directly run without it and load the whole package: same classes, more memory.
 */
import { registerHooks } from 'node:module';

/** The slim stand-in for config.js's `./gen/index.js`. */
export const SLIM_GEN_URL = new URL('./client-node-gen.js', import.meta.url).href;

/** Where `specifier` imported from `parentURL` should resolve instead, or undefined for as usual (pure). */
export function computeSlimResolve(specifier: string, parentURL: string | undefined): string | undefined {
  if (specifier !== './gen/index.js' || parentURL === undefined) return undefined;
  return parentURL.endsWith('/node_modules/@kubernetes/client-node/dist/config.js') ? SLIM_GEN_URL : undefined;
}

export function registerSlimClientNode(): void {
  registerHooks({
    resolve(specifier, context, nextResolve) {
      const url = computeSlimResolve(specifier, context.parentURL);
      return url === undefined ? nextResolve(specifier, context) : { url, shortCircuit: true };
    },
  });
}
