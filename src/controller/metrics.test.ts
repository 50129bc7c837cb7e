import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { ensureCounter, ensureGauge, ensureHistogram } from './metrics.js';

describe('ensure* metrics', () => {
  it('returns the metric already registered under the name', () => {
    const registry = new Registry();
    const config = { name: 'x_total', help: 'x', labelNames: ['a'] as const };
    expect(ensureCounter(registry, config)).toBe(ensureCounter(registry, config));
    const g = { name: 'g', help: 'g' };
    expect(ensureGauge(registry, g)).toBe(ensureGauge(registry, g));
    const h = { name: 'h', help: 'h', buckets: [1] };
    expect(ensureHistogram(registry, h)).toBe(ensureHistogram(registry, h));
  });

  it('refuses a name registered with another type', () => {
    const registry = new Registry();
    ensureGauge(registry, { name: 'clash', help: 'c' });
    expect(() => ensureCounter(registry, { name: 'clash', help: 'c' })).toThrow(/clash is already registered/);
  });

  it('keeps registries apart', () => {
    const a = new Registry();
    const b = new Registry();
    expect(ensureCounter(a, { name: 'n', help: 'n' })).not.toBe(ensureCounter(b, { name: 'n', help: 'n' }));
  });
});
