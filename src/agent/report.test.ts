import { describe, expect, it } from 'vitest';
import { parseAgentObserved } from '../api/agent.js';
import { computeAgentObserved, formatAgentObserved } from './report.js';
import { computeSha256, type DiskSnapshot, type FileInfo } from './snapshot.js';

const info = (content: string): FileInfo => ({ sha256: computeSha256(content), content });

function snap(order: 'a' | 'b'): DiskSnapshot {
  const manifests: [string, FileInfo][] = [
    ['kube-scheduler.yaml', info('s')],
    ['etcd.yaml', info('e')],
  ];
  return {
    manifestDir: '/m',
    backupDir: '/b',
    manifests: new Map(order === 'a' ? manifests : [...manifests].reverse()),
    backups: new Map([['kube-apiserver.yaml', info('orig')]]),
    temps: ['/m/.selfhost-x.1.tmp'],
  };
}

describe('computeAgentObserved', () => {
  it('lists manifests and backups by manifest path, sorted; conflicts sorted and deduplicated', () => {
    const observed = computeAgentObserved({
      node: 'cp-1',
      desiredSha256: 'abc',
      snapshot: snap('a'),
      conflicts: [
        { path: '/m/z.yaml', message: 'z' },
        { path: '/m/a.yaml', message: 'a' },
        { path: '/m/z.yaml', message: 'z' },
      ],
    });
    expect(observed).toEqual({
      node: 'cp-1',
      desiredSha256: 'abc',
      manifests: [
        { path: '/m/etcd.yaml', ...info('e') },
        { path: '/m/kube-scheduler.yaml', ...info('s') },
      ],
      backups: [{ path: '/m/kube-apiserver.yaml', ...info('orig') }],
      conflicts: [
        { path: '/m/a.yaml', message: 'a' },
        { path: '/m/z.yaml', message: 'z' },
      ],
    });
  });
});

describe('formatAgentObserved', () => {
  const input = (order: 'a' | 'b') => computeAgentObserved({ node: 'cp-1', desiredSha256: '', snapshot: snap(order), conflicts: [] });

  it('gives byte-identical text for the same state, whatever the order things were found in', () => {
    expect(formatAgentObserved(input('a'))).toBe(formatAgentObserved(input('b')));
    const shuffled = { ...input('a'), manifests: [...input('a').manifests].reverse() };
    expect(formatAgentObserved(shuffled)).toBe(formatAgentObserved(input('a')));
  });

  it('emits sorted keys and round-trips through parseAgentObserved', () => {
    const text = formatAgentObserved(input('a'));
    expect(text.startsWith('{"backups":[{"content":"orig","path":"/m/kube-apiserver.yaml","sha256":')).toBe(true);
    expect(Object.keys(JSON.parse(text) as object)).toEqual(['backups', 'conflicts', 'desiredSha256', 'manifests', 'node']);
    expect(parseAgentObserved(text)).toEqual(input('a'));
  });
});
