/**
 * The apiserver refuses duplicates in lists typed `x-kubernetes-list-type: set` (equal items) and
 * `map` (equal key fields). JSON Schema cannot say "unique by key", and the CRD may not use
 * uniqueItems, so this walk checks both for the offline validator.
 */
import { computeChildPath, type FieldError } from './field-error.js';
import type { JSONSchemaProps } from './schema-types.js';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Items compared the way the apiserver does for sets of scalars: by JSON value. */
function computeIdentity(value: unknown): string {
  return JSON.stringify(value) ?? 'undefined';
}

function computeListErrors(schema: JSONSchemaProps, list: readonly unknown[], path: string): FieldError[] {
  const errors: FieldError[] = [];
  const listType = schema['x-kubernetes-list-type'];
  const keys = schema['x-kubernetes-list-map-keys'] ?? [];
  const seen = new Set<string>();
  list.forEach((item, i) => {
    const itemPath = `${path}[${i}]`;
    if (listType === 'set') {
      const id = computeIdentity(item);
      if (seen.has(id)) errors.push({ path: itemPath, value: item, message: 'duplicate entry; each value may appear once' });
      seen.add(id);
    } else if (listType === 'map' && isRecord(item)) {
      const keyValues = keys.map((k) => item[k]);
      const id = computeIdentity(keyValues);
      if (seen.has(id)) {
        // Reported at the item with its key fields, as the apiserver does.
        errors.push({
          path: itemPath,
          value: Object.fromEntries(keys.map((k, j) => [k, keyValues[j]])),
          message: `duplicate entry; each ${keys.join('+')} may appear once`,
        });
      }
      seen.add(id);
    }
    if (schema.items !== undefined) errors.push(...computeDuplicateErrors(schema.items, item, itemPath));
  });
  return errors;
}

/** Duplicate entries in every set- or map-typed list of value, with their field paths. */
export function computeDuplicateErrors(schema: JSONSchemaProps, value: unknown, path = ''): FieldError[] {
  if (Array.isArray(value)) return computeListErrors(schema, value, path);
  if (!isRecord(value)) return [];
  const errors: FieldError[] = [];
  for (const [key, child] of Object.entries(value)) {
    const declared = schema.properties?.[key];
    if (declared !== undefined) {
      errors.push(...computeDuplicateErrors(declared, child, computeChildPath(path, key)));
    } else if (schema.additionalProperties !== undefined) {
      errors.push(...computeDuplicateErrors(schema.additionalProperties, child, computeChildPath(path, key)));
    }
  }
  return errors;
}
