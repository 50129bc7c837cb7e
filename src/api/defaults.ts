/**
 * Structural defaulting as the apiserver does it for a CRD (apiextensions-apiserver
 * pkg/apiserver/schema/defaulting): first nulls of non-nullable fields without a default are
 * dropped, then every missing (or null) property with a `default` gets a copy of it, and defaulting
 * recurses into the values, including the defaults just set, so `etcd: {}` is filled in as well.
 * The defaults come from schema.ts; nothing here repeats them.
 */
import { CONTROL_PLANE_SCHEMA } from './schema.js';
import type { JSONSchemaProps } from './schema-types.js';

type Mutable = Record<string, unknown>;

function isRecord(value: unknown): value is Mutable {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Deep copy of JSON-like data; other objects (dates, class instances) are kept as they are. */
function computeCopy(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(computeCopy);
  if (isRecord(value) && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, computeCopy(v)]));
  }
  return value;
}

function fieldSchema(schema: JSONSchemaProps | undefined, key: string): JSONSchemaProps | undefined {
  return schema?.properties?.[key] ?? schema?.additionalProperties;
}

function isNonNullableNull(value: unknown, schema: JSONSchemaProps | undefined): schema is JSONSchemaProps {
  return value === null && schema !== undefined;
}

/** PruneNonNullableNullsWithoutDefaults. (The schema declares no nullable fields.) */
function pruneNulls(value: unknown, schema: JSONSchemaProps | undefined): void {
  if (Array.isArray(value)) {
    for (const item of value) pruneNulls(item, schema?.items);
  } else if (isRecord(value)) {
    for (const [key, child] of Object.entries(value)) {
      const s = fieldSchema(schema, key);
      if (isNonNullableNull(child, s) && s.default === undefined) Reflect.deleteProperty(value, key);
      else pruneNulls(child, s);
    }
  }
}

/** structuraldefaulting.Default. */
function fillDefaults(value: unknown, schema: JSONSchemaProps | undefined): void {
  if (schema === undefined) return;
  if (Array.isArray(value)) {
    value.forEach((item, i) => {
      if (isNonNullableNull(item, schema.items) && schema.items.default !== undefined) {
        value[i] = computeCopy(schema.items.default);
      }
      fillDefaults(value[i], schema.items);
    });
    return;
  }
  if (!isRecord(value)) return;
  for (const [key, prop] of Object.entries(schema.properties ?? {})) {
    if (prop.default === undefined) continue;
    if (!(key in value) || isNonNullableNull(value[key], prop)) value[key] = computeCopy(prop.default);
  }
  for (const key of Object.keys(value)) {
    const declared = schema.properties?.[key];
    if (declared !== undefined) {
      fillDefaults(value[key], declared);
    } else if (schema.additionalProperties !== undefined) {
      const extra = schema.additionalProperties;
      if (isNonNullableNull(value[key], extra) && extra.default !== undefined) value[key] = computeCopy(extra.default);
      fillDefaults(value[key], extra);
    }
  }
}

/**
 * A defaulted copy of obj (a ControlPlane, or any object shaped like one): what the apiserver
 * would store for it. obj itself is not changed; non-objects come back as they are.
 */
export function applyDefaults(obj: unknown, schema: JSONSchemaProps = CONTROL_PLANE_SCHEMA): unknown {
  const copy = computeCopy(obj);
  pruneNulls(copy, schema);
  fillDefaults(copy, schema);
  return copy;
}
