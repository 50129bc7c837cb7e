import { describe, expect, it } from 'vitest';
import { formatAgentDesired, parseAgentDesired, type AgentDesired } from './agent.js';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
const C = 'c'.repeat(64);
const M = '/etc/kubernetes/manifests';

describe('desired.json', () => {
  it('round-trips, sorted by path, writtenSha256 sorted and without repeats', () => {
    const desired: AgentDesired = {
      manifests: [
        { path: `${M}/kube-scheduler.yaml`, state: 'Prepared', originalSha256: A, content: 'x', writtenSha256: [C, B, C] },
        { path: `${M}/etcd.yaml`, state: 'Retired', originalSha256: B },
      ],
    };
    const text = formatAgentDesired(desired);
    expect(parseAgentDesired(text)).toEqual({
      manifests: [
        { path: `${M}/etcd.yaml`, state: 'Retired', originalSha256: B },
        { path: `${M}/kube-scheduler.yaml`, state: 'Prepared', originalSha256: A, content: 'x', writtenSha256: [B, C] },
      ],
    });
    // Deterministic: the same desired state is the same text (the operator compares texts).
    expect(formatAgentDesired(parseAgentDesired(text))).toBe(text);
  });

  it('release round-trips and is left out when false', () => {
    const text = formatAgentDesired({ manifests: [], checkpoints: [], release: true });
    expect(parseAgentDesired(text)).toEqual({ manifests: [], checkpoints: [], release: true });
    expect(formatAgentDesired({ manifests: [], release: false })).toBe('{"manifests":[]}');
  });

  it.each<[string, unknown, RegExp]>([
    ['not JSON', '{', /desired\.json: not JSON/],
    ['no manifests', {}, /manifests: Required value: an array/],
    ['relative path', { manifests: [{ path: 'etcd.yaml', state: 'Retired', originalSha256: A }] }, /manifests\[0\]\.path: Invalid value: "etcd\.yaml": an absolute path/],
    ['unknown state', { manifests: [{ path: `${M}/etcd.yaml`, state: 'Gone', originalSha256: A }] }, /manifests\[0\]\.state: Unsupported value: "Gone": supported values: Original, Prepared, Retired, Handback, Restored/],
    ['bad originalSha256', { manifests: [{ path: `${M}/etcd.yaml`, state: 'Retired', originalSha256: 'XYZ' }] }, /originalSha256: Invalid value: "XYZ": 64 lowercase hex digits/],
    ['Prepared without content', { manifests: [{ path: `${M}/etcd.yaml`, state: 'Prepared', originalSha256: A }] }, /content: Required value: state Prepared needs the file content/],
    ['Handback without content', { manifests: [{ path: `${M}/etcd.yaml`, state: 'Handback', originalSha256: A }] }, /content: Required value: state Handback needs the file content/],
    ['Restored without content', { manifests: [{ path: `${M}/etcd.yaml`, state: 'Restored', originalSha256: A }] }, /content: Required value: state Restored needs the file content/],
    ['release not a boolean', { manifests: [], release: 'yes' }, /release: Invalid value: "yes": true or false/],
    [
      'bad writtenSha256',
      { manifests: [{ path: `${M}/etcd.yaml`, state: 'Retired', originalSha256: A, writtenSha256: ['nope'] }] },
      /manifests\[0\]\.writtenSha256: Invalid value: \["nope"\]: a list of sha256 digests/,
    ],
  ])('%s is refused, naming the field', (_name, input, message) => {
    expect(() => parseAgentDesired(typeof input === 'string' ? input : JSON.stringify(input))).toThrow(message);
  });
});
