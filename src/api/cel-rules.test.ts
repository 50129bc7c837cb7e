import { describe, expect, it } from 'vitest';
import {
  CEL_RULES,
  CNI_NAME_XOR_SELECTOR_RULE,
  computeCelString,
  HEALTH_TIMEOUT_RANGE_RULE,
  VERSION_TRANSITION_RULE,
} from './cel-rules.js';

describe('computeCelString', () => {
  it.each([
    ['plain', "'plain'"],
    ['a\\.b', "'a\\\\.b'"],
    ["it's", "'it\\'s'"],
  ])('%s → %s', (text, want) => {
    expect(computeCelString(text)).toBe(want);
  });
});

describe('CEL rules', () => {
  it('each has a message (apiserver limits: ≤ 2048 chars, one line) and a messageExpression', () => {
    for (const r of CEL_RULES) {
      expect(r.message.length).toBeGreaterThan(10);
      expect(r.message.length).toBeLessThanOrEqual(2048);
      expect(r.messageExpression).toBeDefined();
      expect([r.rule, r.message, r.messageExpression].join('')).not.toMatch(/[\r\n]/);
    }
  });

  it('version rule: passes first when spec.version is unchanged, so status writes never trip it', () => {
    expect(VERSION_TRANSITION_RULE.rule.startsWith('self.spec.version == oldSelf.spec.version || ')).toBe(true);
    expect(VERSION_TRANSITION_RULE.fieldPath).toBe('.spec.version');
  });

  it('version rule: parses with string functions, not the semver library', () => {
    expect(VERSION_TRANSITION_RULE.rule).toContain(".split('.')");
    expect(VERSION_TRANSITION_RULE.rule).toContain('.substring(1)');
    expect(VERSION_TRANSITION_RULE.rule).not.toMatch(/semver|isSemver/);
  });

  it('the matches() guards use the schema’s own patterns, escaped for CEL', () => {
    expect(VERSION_TRANSITION_RULE.rule).toContain(
      "!self.spec.version.matches('^v(0|[1-9][0-9]*)\\\\.(0|[1-9][0-9]*)\\\\.(0|[1-9][0-9]*)$')",
    );
    expect(HEALTH_TIMEOUT_RANGE_RULE.rule).toContain("!self.matches('^([0-9]+(\\\\.[0-9]+)?(ns|us|ms|s|m|h))+$')");
  });

  it('avoids what the apiserver cost estimator cannot bound (orValue, string(int), cel.bind)', () => {
    // Each made the CRD fail creation as ">100x over budget" (checked with apiextensions-apiserver v0.37.2).
    for (const r of CEL_RULES) {
      for (const expr of [r.rule, r.messageExpression ?? '']) {
        expect(expr).not.toMatch(/orValue\(|\bstring\(|cel\.bind/);
      }
    }
  });

  it('cni rule is a plain presence test', () => {
    expect(CNI_NAME_XOR_SELECTOR_RULE.rule).toBe('!has(self.name) || !has(self.selector)');
  });
});
