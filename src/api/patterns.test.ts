import { describe, expect, it } from 'vitest';
import {
  computePatternHint,
  DNS1123_SUBDOMAIN,
  ETCD_VERSION,
  FLAG_NAME,
  GO_DURATION,
  IMAGE,
  IMAGE_REPOSITORY,
  KUBERNETES_VERSION,
  LABEL_VALUE,
  NAMED_PATTERNS,
  type NamedPattern,
  QUANTITY,
} from './patterns.js';

describe('patterns', () => {
  it.each<[string, NamedPattern, string[], string[]]>([
    ['version', KUBERNETES_VERSION, ['v1.37.2', 'v1.100.0'], ['1.37.2', 'v1.37', 'v1.37.2-rc.0', 'v01.37.2']],
    ['etcd version', ETCD_VERSION, ['3.6.5'], ['v3.6.5', '3.6', '3.6.5-0']],
    ['duration', GO_DURATION, ['5m', '1h30m', '1.5h', '250ms'], ['5', '5 m', '-5m', '1d', '']],
    ['quantity', QUANTITY, ['250m', '2', '1.5Gi', '512Mi', '1e3', '+1'], ['-1', '1 Gi', 'lots', '1.5GiB', '']],
    ['flag name', FLAG_NAME, ['v', 'audit-log-maxage', 'feature-gates'], ['--v', '-v', 'a=b', '', 'a b']],
    ['image repository', IMAGE_REPOSITORY, ['registry.k8s.io', 'registry.example.com:5000/k8s', 'localhost/a/b'], ['registry.k8s.io/', 'registry.k8s.io:v1', 'a b']],
    ['image', IMAGE, ['registry.k8s.io/kube-apiserver:v1.37.2', 'busybox', 'busybox:1.36', `reg:5000/a/b@sha256:${'0'.repeat(64)}`], ['Not An Image', 'a:', 'reg/A']],
    ['dns subdomain', DNS1123_SUBDOMAIN, ['cluster', 'a.b-c'], ['Cluster', '-a', 'a.', '']],
    ['label value', LABEL_VALUE, ['', 'calico-node', 'a_b.c'], ['-x', 'x-', 'a b']],
  ])('%s', (_name, p, good, bad) => {
    const re = new RegExp(p.pattern);
    for (const g of good) expect(g, g).toMatch(re);
    for (const b of bad) expect(b, b).not.toMatch(re);
  });

  it('are anchored and RE2-compatible (no look-around or back-references)', () => {
    for (const { pattern } of NAMED_PATTERNS) {
      expect(pattern.startsWith('^') && pattern.endsWith('$'), pattern).toBe(true);
      expect(pattern, pattern).not.toMatch(/\(\?[=!<]|\\[1-9]/);
    }
  });

  it('computePatternHint names known patterns and falls back to the pattern', () => {
    expect(computePatternHint(KUBERNETES_VERSION.pattern)).toBe('must be vMAJOR.MINOR.PATCH (e.g. v1.37.2)');
    expect(computePatternHint('^x$')).toBe('must match ^x$');
  });
});
