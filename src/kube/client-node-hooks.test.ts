import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { computeSlimResolve, SLIM_GEN_URL } from './client-node-hooks.js';

const CONFIG_URL = import.meta.resolve('@kubernetes/client-node/dist/config.js');

describe('computeSlimResolve', () => {
  it("redirects only config.js's import of the generated index", () => {
    expect(computeSlimResolve('./gen/index.js', CONFIG_URL)).toBe(SLIM_GEN_URL);
    expect(computeSlimResolve('./gen/index.js', 'file:///app/node_modules/@kubernetes/client-node/dist/config.js')).toBe(SLIM_GEN_URL);
    // The same specifier from another client-node file, or config.js importing something else.
    expect(computeSlimResolve('./gen/index.js', 'file:///app/node_modules/@kubernetes/client-node/dist/api.js')).toBeUndefined();
    expect(computeSlimResolve('./gen/index.js', 'file:///app/node_modules/other/dist/config.js')).toBeUndefined();
    expect(computeSlimResolve('./config_types.js', CONFIG_URL)).toBeUndefined();
    expect(computeSlimResolve('./gen/index.js', undefined)).toBeUndefined();
  });

  it('points at a module next to it', () => {
    expect(SLIM_GEN_URL).toMatch(/\/src\/kube\/client-node-gen\.js$/);
  });
});

describe('client-node-gen', () => {
  it('exports every name the installed config.js imports from the generated index', async () => {
    const text = readFileSync(fileURLToPath(CONFIG_URL), 'utf8');
    const imports = [...text.matchAll(/import\s*([^;]*?)\s*from\s*['"]\.\/gen\/index\.js['"]/g)].map((m) => m[1] ?? '');
    expect(imports.length).toBeGreaterThan(0);
    const names = imports.flatMap((clause) => {
      // Only named imports can be served by a slim module; a namespace or default import would need all.
      expect(clause).toMatch(/^\{[^}]*\}$/);
      return clause
        .slice(1, -1)
        .split(',')
        .map((n) => n.trim().split(/\s+as\s+/)[0] ?? '')
        .filter((n) => n !== '');
    });
    expect(names.length).toBeGreaterThan(0);
    const slim = (await import('./client-node-gen.js')) as Record<string, unknown>;
    for (const name of names) expect(slim[name], `client-node-gen.ts lacks ${name}`).toBeDefined();
  });
});
