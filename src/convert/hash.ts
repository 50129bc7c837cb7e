/**
 * Canonical JSON and the hashes selfhost stamps on its objects.
 *
 * Canonical JSON: object keys sorted (code-unit order), undefined-valued keys dropped, arrays
 * kept in order (order is meaning: env order decides $(VAR) expansion, container order is the
 * pod's). Equal inputs give byte-identical text on every machine.
 */
import { createHash } from 'node:crypto';
import type { V1PodTemplateSpec } from '@kubernetes/client-node';
import { ANNOTATION_TEMPLATE_HASH } from '../api/constants.js';
import { cmp } from './refusal.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function canonicalize(value: unknown, path: string): Json | undefined {
  if (value === undefined || typeof value === 'function' || typeof value === 'symbol') return undefined;
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return value;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`canonical JSON: ${path} is ${value}, which JSON cannot hold`);
    return value;
  }
  if (typeof value === 'bigint') throw new Error(`canonical JSON: ${path} is a bigint`);
  if (Array.isArray(value)) return value.map((v, i) => canonicalize(v, `${path}[${i}]`) ?? null);
  if (value instanceof Date) return value.toISOString();
  const out: { [key: string]: Json } = {};
  for (const key of Object.keys(value).sort(cmp)) {
    const v = canonicalize((value as Record<string, unknown>)[key], `${path}.${key}`);
    if (v !== undefined) out[key] = v;
  }
  return out;
}

export function canonicalJson(value: unknown): string {
  return JSON.stringify(canonicalize(value, '$') ?? null);
}

/**
 * A plain-JSON copy with sorted keys and no undefined values: what goes to the API server
 * (server-side apply) and into hashes. The type is kept: only absent keys and key order change.
 */
export function toPlainJson<T>(value: T): T {
  return JSON.parse(canonicalJson(value)) as T;
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** sha256 of the canonical template without its own template-hash annotation. */
export function computeTemplateHash(template: V1PodTemplateSpec): string {
  const copy = structuredClone(template);
  if (copy.metadata?.annotations !== undefined) {
    const rest = Object.entries(copy.metadata.annotations).filter(([key]) => key !== ANNOTATION_TEMPLATE_HASH);
    if (rest.length > 0) copy.metadata.annotations = Object.fromEntries(rest);
    else delete copy.metadata.annotations;
  }
  return sha256Hex(canonicalJson(copy));
}
