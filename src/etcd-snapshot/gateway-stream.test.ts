import { describe, expect, it } from 'vitest';
import { decodeSnapshotStream, parseChunkLine, splitLines } from './gateway-stream.js';
import { bodyOf, fakeDb, gatewayLines } from './testing.js';

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const v of it) out.push(v);
  return out;
}

describe('splitLines', () => {
  it.each([
    ['lines within one read', ['a\nb\n'], ['a', 'b']],
    ['a line spanning reads', ['ab', 'c\nd', 'e\n'], ['abc', 'de']],
    ['no final newline', ['a\nb'], ['a', 'b']],
    ['blank lines and CRLF', ['a\r\n\r\n', '\nb\r\n'], ['a', 'b']],
    ['a multi-byte character split across reads', [Buffer.from('é\n').subarray(0, 1), Buffer.from('é\n').subarray(1)], ['é']],
  ])('%s', async (_what, pieces, want) => {
    async function* src() {
      for (const p of pieces) yield p;
    }
    expect(await collect(splitLines(src()))).toEqual(want);
  });
});

describe('parseChunkLine', () => {
  it('reads blob, remaining_bytes (an int64 string) and version', () => {
    const line = JSON.stringify({ result: { remaining_bytes: '6172672', blob: Buffer.from('hi').toString('base64'), version: '3.7.0' } });
    expect(parseChunkLine(line, 1)).toEqual({ blob: Buffer.from('hi'), remainingBytes: 6172672, version: '3.7.0' });
  });

  it('treats left-out zero values as 0 and an empty blob', () => {
    expect(parseChunkLine('{"result":{}}', 3)).toEqual({ blob: Buffer.alloc(0), remainingBytes: 0 });
  });

  it.each([
    ['not JSON', 'garbage', /^snapshot stream line 2: not JSON \(7 characters\)$/],
    ['an array', '[]', /line 2: not a JSON object/],
    ['no result', '{"foo":1}', /line 2: no "result" object \(keys: foo\)/],
    ['a non-base64 blob', '{"result":{"blob":"@@@@"}}', /line 2: result.blob is not base64/],
    ['a negative remaining_bytes', '{"result":{"remaining_bytes":"-1"}}', /remaining_bytes "-1" is not a non-negative integer/],
    ['an error from the gateway', '{"error":{"grpc_code":14,"http_code":503,"message":"etcdserver: no leader"}}', /^etcd aborted the snapshot stream at line 2: etcdserver: no leader$/],
  ])('refuses %s', (_what, line, want) => {
    expect(() => parseChunkLine(line, 2)).toThrow(want);
  });
});

describe('decodeSnapshotStream', () => {
  it('gives back the exact bytes etcd sent, chunk by chunk, however the body is cut', async () => {
    const db = fakeDb(100_000);
    const text = `${gatewayLines(db).join('\n')}\n`;
    for (const piece of [1, 333, 1 << 20]) {
      const chunks = await collect(decodeSnapshotStream(bodyOf(text, piece === 1 ? 7 : piece)));
      expect(chunks.map((c) => c.blob.length)).toEqual([32768, 32768, 32768, 1696, 32]);
      expect(chunks[0]?.remainingBytes).toBe(100_000 - 32768);
      expect(Buffer.concat(chunks.slice(0, -1).map((c) => c.blob)).equals(db)).toBe(true);
    }
  });
});
