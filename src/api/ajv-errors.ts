/**
 * ajv errors → FieldErrors that name the field (apiserver path syntax), the value given and what
 * is allowed. ajv runs with verbose: true so each error carries its value and schema node.
 */
import type { ErrorObject } from 'ajv';
import { computeChildPath, type FieldError } from './field-error.js';
import { computePatternHint } from './patterns.js';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * `/spec/overrides/kube-apiserver/extraArgs/0/name` → `spec.overrides.kube-apiserver.extraArgs[0].name`:
 * list indexes in brackets, object keys (struct fields and map entries alike) after dots, as the
 * apiserver's schema validator prints them.
 */
export function computeFieldPath(instancePath: string, data: unknown): string {
  if (instancePath === '') return '';
  let path = '';
  let value: unknown = data;
  for (const raw of instancePath.slice(1).split('/')) {
    const key = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    if (Array.isArray(value)) {
      path += `[${key}]`;
      value = value[Number(key)];
    } else {
      path = computeChildPath(path, key);
      value = isRecord(value) ? value[key] : undefined;
    }
  }
  return path;
}

function computeQuotedList(values: readonly unknown[]): string {
  return values.map((v) => JSON.stringify(v)).join(', ');
}

/** `string`, `integer or string`, `array of "cni", "etcd"`, `string, one of: "A", "B"`. */
export function computeTypeText(schema: unknown): string {
  if (!isRecord(schema)) return 'a valid value';
  const type = schema['type'];
  const types = Array.isArray(type) ? type.map(String) : [String(type)];
  const text = types.join(' or ');
  const enumValues = schema['enum'];
  if (Array.isArray(enumValues)) return `${text}, one of: ${computeQuotedList(enumValues)}`;
  const items = schema['items'];
  if (type === 'array' && isRecord(items)) {
    const itemEnum = items['enum'];
    if (Array.isArray(itemEnum)) return `array of: ${computeQuotedList(itemEnum)}`;
    return `array of ${computeTypeText(items)}`;
  }
  return text;
}

/** What a valid value of schema looks like, for a missing field. */
function computeAllowedText(schema: unknown): string {
  if (isRecord(schema) && typeof schema['pattern'] === 'string') return computePatternHint(schema['pattern']);
  return `must be ${computeTypeText(schema)}`;
}

function computeRangeText(parent: unknown, limit: unknown, comparison: unknown): string {
  const min = isRecord(parent) ? parent['minimum'] : undefined;
  const max = isRecord(parent) ? parent['maximum'] : undefined;
  if (typeof min === 'number' && typeof max === 'number') return `must be between ${min} and ${max}`;
  return `must be ${String(comparison)} ${String(limit)}`;
}

const FORMAT_TEXT: Record<string, string> = {
  'date-time': 'must be an RFC 3339 date-time (e.g. 2025-01-02T03:04:05Z)',
  int32: 'must be a 32-bit integer',
  int64: 'must be a 64-bit integer',
};

/** The sentence for one ajv error; path and value are settled by the caller. */
function computeMessage(e: ErrorObject): string {
  const p = e.params;
  switch (e.keyword) {
    case 'type':
      return `must be ${computeTypeText(e.parentSchema)}`;
    case 'enum':
      return `must be one of: ${computeQuotedList(Array.isArray(p['allowedValues']) ? p['allowedValues'] : [])}`;
    case 'pattern':
      return computePatternHint(String(p['pattern']));
    case 'maxLength':
      return `must be at most ${String(p['limit'])} characters`;
    case 'minLength':
      return p['limit'] === 1 ? 'must not be empty' : `must be at least ${String(p['limit'])} characters`;
    case 'minimum':
    case 'maximum':
      return computeRangeText(e.parentSchema, p['limit'], p['comparison']);
    case 'minItems':
      return `must have at least ${String(p['limit'])} item(s)`;
    case 'maxItems':
      return `must have at most ${String(p['limit'])} item(s)`;
    case 'minProperties':
      return `must have at least ${String(p['limit'])} entr${p['limit'] === 1 ? 'y' : 'ies'}`;
    case 'maxProperties':
      return `must have at most ${String(p['limit'])} entries`;
    case 'format':
      return FORMAT_TEXT[String(p['format'])] ?? `must be in format ${String(p['format'])}`;
    default:
      return e.message ?? `is invalid (${e.keyword})`;
  }
}

function computeFieldError(e: ErrorObject, data: unknown): FieldError {
  const path = computeFieldPath(e.instancePath, data);
  if (e.keyword === 'required') {
    const missing = String(e.params['missingProperty']);
    const properties = isRecord(e.parentSchema) ? e.parentSchema['properties'] : undefined;
    const propertySchema = isRecord(properties) ? properties[missing] : undefined;
    return {
      path: computeChildPath(path, missing),
      value: undefined,
      message: `required: ${computeAllowedText(propertySchema)}`,
    };
  }
  if (e.keyword === 'additionalProperties') {
    const unknownKey = String(e.params['additionalProperty']);
    const properties = isRecord(e.parentSchema) ? e.parentSchema['properties'] : undefined;
    const allowed = isRecord(properties) ? Object.keys(properties).sort() : [];
    return { path, value: unknownKey, message: `unknown field "${unknownKey}"; allowed: ${allowed.join(', ')}` };
  }
  return { path, value: e.data, message: computeMessage(e) };
}

/** One FieldError per ajv error, duplicates dropped (order is the caller's to settle). */
export function computeAjvFieldErrors(errors: readonly ErrorObject[], data: unknown): FieldError[] {
  const seen = new Set<string>();
  const out: FieldError[] = [];
  for (const e of errors) {
    const fe = computeFieldError(e, data);
    const key = `${fe.path}\u0000${fe.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(fe);
  }
  return out;
}
