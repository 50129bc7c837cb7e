/**
 * etcd's v3 API through its gRPC gateway (JSON over the client port), from node:https: the
 * selfhost image has no etcd binaries and needs no gRPC dependency for the three calls it makes.
 * TLS with client certificates, as kubeadm's etcd requires (--client-cert-auth).
 */
import { request as httpsRequest } from 'node:https';
import type { ClientRequest, IncomingMessage } from 'node:http';

export interface TlsFiles {
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
}

export interface EtcdStatus {
  /** Bytes of the backend database file (what a snapshot will be, before defragmentation). */
  dbSize: number;
  /** etcd server version, e.g. 3.7.0. */
  version: string;
  revision: number;
}

export interface KeyCount {
  keys: number;
  revision: number;
}

export interface EtcdGateway {
  status(signal?: AbortSignal): Promise<EtcdStatus>;
  /** Number of keys in the whole keyspace, and the revision the count was read at. */
  countKeys(signal?: AbortSignal): Promise<KeyCount>;
  /** The raw body of POST /v3/maintenance/snapshot (newline-delimited JSON, gateway-stream.ts). */
  snapshot(signal?: AbortSignal): Promise<AsyncIterable<Buffer>>;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const MAX_ERROR_BODY = 2048;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** An int64 of proto3 JSON (a decimal string, or left out when 0). */
export function int64Field(obj: Record<string, unknown>, field: string, where: string): number {
  const v = obj[field] ?? '0';
  const n = typeof v === 'string' && /^[0-9]+$/.test(v) ? Number(v) : typeof v === 'number' ? v : Number.NaN;
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new Error(`${where}: field ${field} is ${JSON.stringify(v)}, want a non-negative integer`);
  }
  return n;
}

export function parseStatus(doc: unknown): EtcdStatus {
  const where = 'etcd /v3/maintenance/status';
  if (!isRecord(doc) || !isRecord(doc.header)) throw new Error(`${where}: response has no header object`);
  const version = typeof doc.version === 'string' ? doc.version : '';
  return { dbSize: int64Field(doc, 'dbSize', where), version, revision: int64Field(doc.header, 'revision', where) };
}

export function parseCount(doc: unknown): KeyCount {
  const where = 'etcd /v3/kv/range (count_only)';
  if (!isRecord(doc) || !isRecord(doc.header)) throw new Error(`${where}: response has no header object`);
  return { keys: int64Field(doc, 'count', where), revision: int64Field(doc.header, 'revision', where) };
}

async function readBody(res: IncomingMessage, limit: number): Promise<string> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const piece of res as AsyncIterable<Buffer>) {
    if (size < limit) parts.push(piece);
    size += piece.length;
  }
  return Buffer.concat(parts).toString('utf8').slice(0, limit);
}

/** TLS failures in words that say which flag to check (OpenSSL's own text is kept after it). */
export function describeRequestError(err: Error & { code?: unknown }): string {
  const text = err.message.replace(/\s+$/, '');
  switch (err.code) {
    case 'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA':
    case 'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE':
    case 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED':
      return `etcd refused the client certificate (--cert/--key): it is not signed by a CA etcd trusts (${text})`;
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
      return `etcd's serving certificate is not signed by --cacert (${text})`;
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return `etcd's serving certificate does not name the --endpoint host (${text})`;
    default:
      return text;
  }
}

export interface GatewayOptions {
  /** How long a unary call, or a pause inside the snapshot stream, may take. */
  timeoutMs?: number;
  /** https.request; tests pass http.request to talk to a plain loopback server. */
  request?: (url: URL, options: Record<string, unknown>) => ClientRequest;
}

export function httpsGateway(endpoint: string, tls: TlsFiles, options: GatewayOptions = {}): EtcdGateway {
  const base = new URL(endpoint);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const request = options.request ?? httpsRequest;

  const post = (path: string, body: object, signal?: AbortSignal): Promise<IncomingMessage> =>
    new Promise((resolve, reject) => {
      const url = new URL(path, base);
      const payload = JSON.stringify(body);
      const req = request(url, {
        method: 'POST',
        ca: tls.ca,
        cert: tls.cert,
        key: tls.key,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
        timeout: timeoutMs,
        ...(signal ? { signal } : {}),
      });
      req.once('timeout', () => req.destroy(new Error(`no answer from etcd for ${timeoutMs}ms`)));
      req.once('error', (err) => reject(new Error(`etcd POST ${url.href}: ${describeRequestError(err)}`, { cause: err })));
      req.once('response', (res) => {
        if (res.statusCode === 200) {
          resolve(res);
          return;
        }
        readBody(res, MAX_ERROR_BODY).then(
          (text) => reject(new Error(`etcd POST ${url.href}: HTTP ${res.statusCode}: ${text.trim()}`)),
          (err: unknown) => reject(new Error(`etcd POST ${url.href}: HTTP ${res.statusCode}`, { cause: err })),
        );
      });
      req.end(payload);
    });

  const unary = async (path: string, body: object, signal?: AbortSignal): Promise<unknown> => {
    const res = await post(path, body, signal);
    const text = await readBody(res, 1 << 20);
    try {
      return JSON.parse(text);
    } catch (err) {
      throw new Error(`etcd POST ${path}: answer is not JSON: ${text.slice(0, 200)}`, { cause: err });
    }
  };

  return {
    status: async (signal) => parseStatus(await unary('/v3/maintenance/status', {}, signal)),
    // key "\0" with range_end "\0" is etcd's "every key" (etcdctl get "" --prefix --from-key).
    countKeys: async (signal) =>
      parseCount(await unary('/v3/kv/range', { key: 'AA==', range_end: 'AA==', count_only: true }, signal)),
    snapshot: async (signal) => {
      const res = await post('/v3/maintenance/snapshot', {}, signal);
      return res as AsyncIterable<Buffer>;
    },
  };
}
