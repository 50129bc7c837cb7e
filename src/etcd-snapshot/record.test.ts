import { describe, expect, it } from 'vitest';
import { formatResult, parseRecord, parseResultLine, TERMINATION_MESSAGE_LIMIT } from './record.js';
import { RECORD } from './testing.js';


describe('result lines', () => {
  it('round-trips a success', () => {
    const line = formatResult({ ok: true, ...RECORD, deleted: ['etcd-0'], reused: false });
    expect(line).not.toContain('\n');
    expect(parseResultLine(line)).toEqual({ ok: true, ...RECORD, deleted: ['etcd-0'], reused: false });
  });

  it('round-trips a failure, with and without a name', () => {
    expect(parseResultLine(formatResult({ ok: false, error: 'boom', name: 'n' }))).toEqual({ ok: false, error: 'boom', name: 'n' });
    expect(parseResultLine('{"ok":false,"error":"boom"}')).toEqual({ ok: false, error: 'boom' });
  });

  it('shortens a long error to fit a termination message (4096 bytes)', () => {
    const line = formatResult({ ok: false, name: 'n', error: 'é'.repeat(5000) });
    expect(Buffer.byteLength(line)).toBeLessThanOrEqual(TERMINATION_MESSAGE_LIMIT);
    const parsed = parseResultLine(line);
    expect(parsed.ok === false && parsed.error.endsWith(' …')).toBe(true);
  });

  it.each([
    ['not JSON', 'Error: x', /not JSON/],
    ['no ok', '{}', /ok is undefined, want true or false/],
    ['a failure without error', '{"ok":false}', /error is not a string/],
    ['a bad sha256', JSON.stringify({ ok: true, ...RECORD, sha256: 'xyz', deleted: [], reused: false }), /sha256 is "xyz", want 64 lowercase hex digits/],
    ['a fractional revision', JSON.stringify({ ok: true, ...RECORD, revision: 1.5, deleted: [], reused: false }), /revision is 1.5/],
    ['another format', JSON.stringify({ ok: true, ...RECORD, format: 'v0', deleted: [], reused: false }), /format is "v0"/],
    ['deleted not a list', JSON.stringify({ ok: true, ...RECORD, deleted: 'x', reused: false }), /deleted is not a list/],
    ['no reused', JSON.stringify({ ok: true, ...RECORD, deleted: [] }), /reused is undefined/],
  ])('refuses %s', (_what, text, want) => {
    expect(() => parseResultLine(text)).toThrow(want);
  });

  it('parseRecord accepts a record file and nothing else', () => {
    expect(parseRecord(JSON.stringify(RECORD))).toEqual(RECORD);
    expect(parseRecord(JSON.stringify({ ...RECORD, keys: -1 }))).toBeUndefined();
    expect(parseRecord('[')).toBeUndefined();
  });
});
