import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  effectiveFlagValue,
  flagValues,
  formatFlag,
  formatFlags,
  hasFlag,
  isTrueFlagValue,
  parseFlags,
  removeFlag,
  renameFlag,
  setFlag,
  sortFlagsByName,
  type Flag,
} from './flags.js';

const f = (name: string, value?: string): Flag => ({ name, value });

describe('parseFlags', () => {
  it.each<[string, string[], Flag[]]>([
    ['kubeadm style', ['--a=1', '--b=x=y'], [f('a', '1'), f('b', 'x=y')]],
    ['two tokens', ['--a', '1', '--b', 'two'], [f('a', '1'), f('b', 'two')]],
    ['bare boolean then flag', ['--profiling', '--a=1'], [f('profiling'), f('a', '1')]],
    ['bare boolean last', ['--a=1', '--verbose'], [f('a', '1'), f('verbose')]],
    ['empty value', ['--a='], [f('a', '')]],
    ['single-dash one letter', ['-v=2', '-v', '4'], [f('v', '2'), f('v', '4')]],
    ['repeated flags keep order', ['--i=b', '--i=a'], [f('i', 'b'), f('i', 'a')]],
    ['value with spaces (one token)', ['--a=b c'], [f('a', 'b c')]],
    ['nothing', [], []],
  ])('%s', (_name, tokens, want) => {
    expect(parseFlags(tokens)).toEqual({ ok: true, flags: want });
  });

  it('reads Go-style single-dash long flags only when asked (etcd)', () => {
    expect(parseFlags(['-name', 'cp1'], { singleDashLongFlags: true })).toEqual({ ok: true, flags: [f('name', 'cp1')] });
    const r = parseFlags(['-name', 'cp1']);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(/shorthand flags -n -a -m -e; write --name/);
  });

  it.each([
    [['--a=1', 'extra', 'more'], 1, /positional argument/],
    [['positional'], 0, /positional argument/],
    [['--'], 0, /bare "--"/],
    [['-'], 0, /positional/],
    [['--=x'], 0, /no flag name/],
    [['--a', '-1'], 1, /negative number/],
    [['--a b=c'], 0, /whitespace/],
  ])('refuses %j at token %i', (tokens, index, reason) => {
    const r = parseFlags(tokens);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.index).toBe(index);
      expect(r.reason).toMatch(reason);
    }
  });
});

describe('formatting and editing', () => {
  it('formats --name=value, bare booleans and empty values', () => {
    expect(formatFlags([f('a', '1'), f('b'), f('c', '')])).toEqual(['--a=1', '--b', '--c=']);
    expect(formatFlag(f('x', 'a=b'))).toBe('--x=a=b');
  });

  it('sorts stably by name: repeated flags keep their relative order', () => {
    const flags = [f('z', '1'), f('i', 'b'), f('a'), f('i', 'a'), f('Z', '0')];
    expect(sortFlagsByName(flags)).toEqual([f('Z', '0'), f('a'), f('i', 'b'), f('i', 'a'), f('z', '1')]);
  });

  it('setFlag replaces every occurrence at the first one, or appends', () => {
    const flags = [f('a', '1'), f('x', '1'), f('b', '2'), f('x', '2'), f('c')];
    expect(setFlag(flags, 'x', 'new')).toEqual([f('a', '1'), f('x', 'new'), f('b', '2'), f('c')]);
    expect(setFlag(flags, 'x', 'p', 'q')).toEqual([f('a', '1'), f('x', 'p'), f('x', 'q'), f('b', '2'), f('c')]);
    expect(setFlag(flags, 'y', 'v')).toEqual([...flags, f('y', 'v')]);
  });

  it('removeFlag / renameFlag / hasFlag / flagValues', () => {
    const flags = [f('a', '1'), f('old', 'v1'), f('old', 'v2')];
    expect(removeFlag(flags, 'old')).toEqual([f('a', '1')]);
    expect(renameFlag(flags, 'old', 'new')).toEqual([f('a', '1'), f('new', 'v1'), f('new', 'v2')]);
    expect(renameFlag([...flags, f('new', 'x')], 'old', 'new')).toEqual([f('a', '1'), f('new', 'x')]);
    expect(hasFlag(flags, 'old')).toBe(true);
    expect(flagValues(flags, 'old')).toEqual(['v1', 'v2']);
  });

  it('effectiveFlagValue is the last occurrence; isTrueFlagValue follows strconv.ParseBool', () => {
    expect(effectiveFlagValue([f('p', 'false'), f('p', 'true')], 'p')).toBe('true');
    expect(effectiveFlagValue([f('p')], 'p')).toBeUndefined();
    expect(effectiveFlagValue([], 'p')).toBeNull();
    expect([undefined, '1', 't', 'T', 'TRUE', 'true', 'True'].every(isTrueFlagValue)).toBe(true);
    expect(['false', '0', 'yes', ''].some(isTrueFlagValue)).toBe(false);
  });

  it('editing never mutates its input', () => {
    const flags = Object.freeze([Object.freeze(f('a', '1')), Object.freeze(f('b', '2'))]);
    setFlag(flags, 'a', '3');
    removeFlag(flags, 'a');
    renameFlag(flags, 'a', 'c');
    sortFlagsByName(flags);
    expect(flags).toEqual([f('a', '1'), f('b', '2')]);
  });
});

const flagName = fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/);
const flagValue = fc.option(fc.string({ maxLength: 30 }), { nil: undefined });
const flagArb = fc.record({ name: flagName, value: flagValue });

describe('properties', () => {
  it('round-trips: parse(format(flags)) = flags', () => {
    fc.assert(
      fc.property(fc.array(flagArb, { maxLength: 30 }), (flags) => {
        expect(parseFlags(formatFlags(flags))).toEqual({ ok: true, flags });
      }),
    );
  });

  it('sorting keeps every flag and the order of each name’s values', () => {
    fc.assert(
      fc.property(fc.array(flagArb, { maxLength: 30 }), (flags) => {
        const sorted = sortFlagsByName(flags);
        expect(sorted).toHaveLength(flags.length);
        for (const { name } of flags) expect(flagValues(sorted, name)).toEqual(flagValues(flags, name));
        expect(sortFlagsByName(sorted)).toEqual(sorted);
      }),
    );
  });
});
