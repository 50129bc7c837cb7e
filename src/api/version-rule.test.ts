import { describe, expect, it } from 'vitest';
import { stored } from './testdata/fixtures.js';
import type { ControlPlane } from './types.js';
import { checkVersionTransition } from './version-rule.js';

const upgrade = (fromVersion: string, version: string): ControlPlane['status'] => ({
  version,
  plan: { operation: 'Upgrade', fromVersion, toVersion: 'v1.38.0', steps: [] },
});

describe('checkVersionTransition', () => {
  it.each<[string, ControlPlane, string]>([
    ['same version', stored('v1.37.2'), 'v1.37.2'],
    ['patch up', stored('v1.37.2'), 'v1.37.5'],
    ['patch down', stored('v1.37.2'), 'v1.37.0'],
    ['next minor', stored('v1.37.2'), 'v1.38.0'],
    ['next minor, any patch', stored('v1.37.2'), 'v1.38.7'],
    ['minor 99 to 100', stored('v1.99.0'), 'v1.100.0'],
    ['abort to fromVersion while upgrading', stored('v1.38.0', upgrade('v1.37.2', 'v1.38.0')), 'v1.37.2'],
    ['abort when status.version is still the old one', stored('v1.38.0', upgrade('v1.37.2', 'v1.37.2')), 'v1.37.2'],
    ['malformed new version (the pattern reports it)', stored('v1.37.2'), 'v1.36'],
    ['from status.version: next minor of what runs', stored('v1.36.0', { version: 'v1.35.9' }), 'v1.36.5'],
  ])('allows %s', (_name, old, next) => {
    expect(checkVersionTransition(old, next)).toBeUndefined();
  });

  it.each<[string, ControlPlane, string, string]>([
    ['minor skip', stored('v1.35.5'), 'v1.37.0', 'cannot move from v1.35.5 (previous spec.version) to v1.37.0: that skips a minor, upgrade one minor at a time; allowed: v1.35.x or v1.36.x'],
    ['minor downgrade', stored('v1.37.2'), 'v1.36.4', 'cannot move from v1.37.2 (previous spec.version) to v1.36.4: that is a minor downgrade; allowed: v1.37.x or v1.38.x'],
    ['major up', stored('v1.37.2'), 'v2.0.0', 'cannot move from v1.37.2 (previous spec.version) to v2.0.0: the major version must not change; allowed: v1.37.x or v1.38.x'],
    ['major down', stored('v1.0.0'), 'v0.1.0', 'cannot move from v1.0.0 (previous spec.version) to v0.1.0: the major version must not change; allowed: v1.0.x or v1.1.x'],
    ['skip judged from status.version', stored('v1.36.0', { version: 'v1.35.1' }), 'v1.37.0', 'cannot move from v1.35.1 (running, status.version) to v1.37.0: that skips a minor, upgrade one minor at a time; allowed: v1.35.x or v1.36.x'],
    ['back to fromVersion when no upgrade runs', stored('v1.38.0', { version: 'v1.38.0', plan: { operation: 'Rollback', fromVersion: 'v1.37.2', steps: [] } }), 'v1.37.2', 'cannot move from v1.38.0 (running, status.version) to v1.37.2: that is a minor downgrade; allowed: v1.38.x or v1.39.x'],
    ['past the abort target', stored('v1.38.0', upgrade('v1.37.2', 'v1.38.0')), 'v1.37.0', 'cannot move from v1.38.0 (running, status.version) to v1.37.0: that is a minor downgrade; allowed: v1.38.x or v1.39.x, or v1.37.2 to abort the running upgrade'],
  ])('refuses %s', (_name, old, next, message) => {
    expect(checkVersionTransition(old, next)).toEqual({ path: 'spec.version', value: next, message });
  });

  it('refuses when the stored base version is malformed (CEL int() fails the same way)', () => {
    const old = stored('v1.37.2', { version: 'garbage' });
    expect(checkVersionTransition(old, 'v1.38.0')?.message).toMatch(/stored version garbage is malformed/);
  });
});
