import { describe, expect, it } from 'vitest';
import { computeTreeDiff, computeWhiteouts, isStaticElf, type TreeEntry, type Whiteout } from './oci.js';

describe('computeWhiteouts', () => {
  const cases: { name: string; entries: string[]; want: Whiteout[] }[] = [
    { name: 'no whiteouts', entries: ['./', './app/', './app/x.js'], want: [] },
    { name: 'a deleted file', entries: ['./etc/.wh.passwd-'], want: [{ kind: 'path', path: 'etc/passwd-' }] },
    { name: 'a deleted file without ./', entries: ['usr/lib/.wh.libfoo.so'], want: [{ kind: 'path', path: 'usr/lib/libfoo.so' }] },
    { name: 'an opaque directory', entries: ['./var/cache/apt/.wh..wh..opq'], want: [{ kind: 'opaque', dir: 'var/cache/apt' }] },
    { name: 'an opaque root', entries: ['.wh..wh..opq'], want: [{ kind: 'opaque', dir: '' }] },
    { name: 'a deleted top-level directory', entries: ['./.wh.tmp'], want: [{ kind: 'path', path: 'tmp' }] },
    { name: 'a name that only contains .wh.', entries: ['./app/a.wh.b'], want: [] },
  ];
  it.each(cases)('$name', ({ entries, want }) => {
    expect(computeWhiteouts(entries)).toEqual(want);
  });
});

/** A minimal ELF64 little-endian header with program headers of the given types. */
function elf(types: number[], { cls = 2, data = 1, truncate = 0 } = {}): Buffer {
  const b = Buffer.alloc(64 + 56 * types.length);
  b.writeUInt32BE(0x7f454c46, 0);
  b[4] = cls;
  b[5] = data;
  b.writeBigUInt64LE(64n, 0x20);
  b.writeUInt16LE(56, 0x36);
  b.writeUInt16LE(types.length, 0x38);
  types.forEach((t, i) => b.writeUInt32LE(t, 64 + 56 * i));
  return b.subarray(0, b.length - truncate);
}

describe('isStaticElf', () => {
  const cases: { name: string; bytes: Buffer; want: boolean }[] = [
    { name: 'LOAD segments only: static', bytes: elf([6, 1, 1, 4]), want: true },
    { name: 'a PT_INTERP: dynamic', bytes: elf([6, 3, 1, 1]), want: false },
    { name: 'no program headers', bytes: elf([]), want: false },
    { name: '32-bit', bytes: elf([1], { cls: 1 }), want: false },
    { name: 'big-endian', bytes: elf([1], { data: 2 }), want: false },
    { name: 'program headers cut off', bytes: elf([1, 1], { truncate: 8 }), want: false },
    { name: 'not ELF', bytes: Buffer.from('#!/bin/sh\necho hi\n'.padEnd(80, ' ')), want: false },
  ];
  it.each(cases)('$name', ({ bytes, want }) => {
    expect(isStaticElf(bytes)).toBe(want);
  });
});

describe('computeTreeDiff', () => {
  const f = (content: string, mode = 0o644): TreeEntry => ({ type: 'f', mode, content });
  const d: TreeEntry = { type: 'd', mode: 0o755, content: '' };
  const cases: { name: string; a: [string, TreeEntry][]; b: [string, TreeEntry][]; want: string[] }[] = [
    { name: 'equal', a: [['app', d], ['app/x', f('1')]], b: [['app', d], ['app/x', f('1')]], want: [] },
    { name: 'content', a: [['app/x', f('1')]], b: [['app/x', f('2')]], want: ['app/x: content differs'] },
    { name: 'mode', a: [['app/x', f('1', 0o600)]], b: [['app/x', f('1')]], want: ['app/x: mode 600 vs 644'] },
    { name: 'type', a: [['app/x', d]], b: [['app/x', f('1')]], want: ['app/x: type d vs f'] },
    {
      name: 'link target',
      a: [['app/l', { type: 'l', mode: 0o777, content: 'a' }]],
      b: [['app/l', { type: 'l', mode: 0o777, content: 'b' }]],
      want: ['app/l: link a vs b'],
    },
    {
      name: 'missing on either side, sorted by path',
      a: [['app/b', f('1')]],
      b: [['app/a', f('1')]],
      want: ['app/a: only in the second', 'app/b: only in the first'],
    },
  ];
  it.each(cases)('$name', ({ a, b, want }) => {
    expect(computeTreeDiff(new Map(a), new Map(b))).toEqual(want);
  });
});
