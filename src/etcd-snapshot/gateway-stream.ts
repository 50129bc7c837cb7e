/**
 * Decoding of etcd's gRPC-gateway snapshot stream. `POST /v3/maintenance/snapshot` answers with
 * one JSON object per line, each `{"result":{"remaining_bytes":"…","blob":"<base64>","version":"3.7.0"}}`
 * (proto3 JSON: int64 as a string, zero values left out), or `{"error":{…}}` when the server-side
 * stream failed after the HTTP status was already sent. Measured against etcd 3.7.0: 32 KiB per
 * chunk; the last chunk is the 32-byte sha256 trailer (see integrity.ts).
 */

export interface SnapshotChunk {
  blob: Buffer;
  /** Database bytes still to come after this chunk, as etcd announced them (0 when left out). */
  remainingBytes: number;
  /** etcd's storage version, when sent. */
  version?: string;
}

/** Splits a byte stream into lines (LF), without decoding: a chunk's base64 may span reads. */
export async function* splitLines(source: AsyncIterable<Buffer | string>): AsyncGenerator<string> {
  let pending: Buffer[] = [];
  for await (const piece of source) {
    let buf = typeof piece === 'string' ? Buffer.from(piece) : piece;
    for (let nl = buf.indexOf(0x0a); nl !== -1; nl = buf.indexOf(0x0a)) {
      pending.push(buf.subarray(0, nl));
      const line = Buffer.concat(pending).toString('utf8').trim();
      pending = [];
      if (line !== '') yield line;
      buf = buf.subarray(nl + 1);
    }
    if (buf.length > 0) pending.push(buf);
  }
  const last = Buffer.concat(pending).toString('utf8').trim();
  if (last !== '') yield last;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** One line of the stream as a chunk; throws with what was wrong (never echoing blob content). */
export function parseChunkLine(line: string, index: number): SnapshotChunk {
  let doc: unknown;
  try {
    doc = JSON.parse(line);
  } catch (err) {
    throw new Error(`snapshot stream line ${index}: not JSON (${line.length} characters)`, { cause: err });
  }
  if (!isRecord(doc)) throw new Error(`snapshot stream line ${index}: not a JSON object`);
  if (isRecord(doc.error)) {
    const msg = typeof doc.error.message === 'string' ? doc.error.message : JSON.stringify(doc.error);
    throw new Error(`etcd aborted the snapshot stream at line ${index}: ${msg}`);
  }
  const result = doc.result;
  if (!isRecord(result)) throw new Error(`snapshot stream line ${index}: no "result" object (keys: ${Object.keys(doc).join(', ')})`);
  const blob = result.blob ?? '';
  if (typeof blob !== 'string' || blob.length % 4 !== 0 || !BASE64.test(blob)) {
    throw new Error(`snapshot stream line ${index}: result.blob is not base64`);
  }
  const remaining = result.remaining_bytes ?? '0';
  const remainingBytes = typeof remaining === 'string' || typeof remaining === 'number' ? Number(remaining) : Number.NaN;
  if (!Number.isSafeInteger(remainingBytes) || remainingBytes < 0) {
    throw new Error(`snapshot stream line ${index}: result.remaining_bytes ${JSON.stringify(remaining)} is not a non-negative integer`);
  }
  const chunk: SnapshotChunk = { blob: Buffer.from(blob, 'base64'), remainingBytes };
  if (typeof result.version === 'string') chunk.version = result.version;
  return chunk;
}

/** The chunks of a snapshot response body, in order. */
export async function* decodeSnapshotStream(body: AsyncIterable<Buffer | string>): AsyncGenerator<SnapshotChunk> {
  let index = 0;
  for await (const line of splitLines(body)) {
    index += 1;
    yield parseChunkLine(line, index);
  }
}
