/**
 * The offline validator: schema.ts compiled by ajv 8 in strict mode.
 *
 * ajv sees the schema the apiserver sees, with three changes that mirror what a user meets through
 * kubectl: objects with properties are closed (kubectl's default strict field validation refuses
 * unknown fields; the CRD cannot say additionalProperties: false next to properties), apiVersion,
 * kind and metadata.name are checked (the apiserver does that outside the schema), and int-or-string
 * nodes become a union type (ajv's equivalent of x-kubernetes-int-or-string). CEL rules stay
 * annotations here; validate.ts runs their TypeScript mirrors.
 */
import { Ajv, type SchemaObject, type ValidateFunction } from 'ajv';
import { CONTROL_PLANE_NAME } from './constants.js';
import { DNS1123_SUBDOMAIN } from './patterns.js';
import { CONTROL_PLANE_SCHEMA } from './schema.js';
import { KUBERNETES_KEYWORDS, type JSONSchemaProps } from './schema-types.js';
import { API_GROUP, API_VERSION, KIND, type ControlPlane } from './types.js';

const METADATA_SCHEMA: SchemaObject = {
  type: 'object',
  description: 'Object metadata; only the name is checked here.',
  required: ['name'],
  properties: {
    name: {
      type: 'string',
      description: `Object name; the operator acts on the one named ${CONTROL_PLANE_NAME}.`,
      minLength: 1,
      maxLength: 253,
      pattern: DNS1123_SUBDOMAIN.pattern,
    },
  },
};

/** A schema node as ajv should see it (see the file comment). */
export function computeAjvNode(node: JSONSchemaProps): SchemaObject {
  const { anyOf, properties, additionalProperties, items, ...rest } = node;
  const out: SchemaObject = { ...rest };
  if (node['x-kubernetes-int-or-string'] === true) {
    out['type'] = ['integer', 'string'];
  } else if (anyOf !== undefined) {
    out['anyOf'] = anyOf.map(computeAjvNode);
  }
  if (properties !== undefined) {
    out['properties'] = Object.fromEntries(
      Object.entries(properties).map(([k, v]) => [k, computeAjvNode(v)] as const),
    );
    out['additionalProperties'] = false;
  }
  if (additionalProperties !== undefined) out['additionalProperties'] = computeAjvNode(additionalProperties);
  if (items !== undefined) out['items'] = computeAjvNode(items);
  return out;
}

/** The whole ajv schema: CONTROL_PLANE_SCHEMA plus the checks the apiserver does outside it. */
export function computeAjvSchema(): SchemaObject {
  const root = computeAjvNode(CONTROL_PLANE_SCHEMA);
  const properties: Record<string, SchemaObject> = { ...root['properties'] };
  properties['apiVersion'] = { ...properties['apiVersion'], enum: [`${API_GROUP}/${API_VERSION}`] };
  properties['kind'] = { ...properties['kind'], enum: [KIND] };
  properties['metadata'] = METADATA_SCHEMA;
  return { ...root, required: ['apiVersion', 'kind', 'metadata', 'spec'], properties };
}

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;
const INT64_MIN = -(2 ** 63);
const INT64_LIMIT = 2 ** 63;
/** RFC 3339 as metav1.Time accepts it. */
const DATE_TIME_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** A new ajv instance that knows the Kubernetes keywords and formats; strict mode stays on. */
export function createAjv(): Ajv {
  const ajv = new Ajv({ strict: true, allErrors: true, verbose: true, allowUnionTypes: true });
  ajv.addVocabulary([...KUBERNETES_KEYWORDS]);
  // Formats check the range only: `type: integer` already reports fractions, once.
  ajv.addFormat('int32', { type: 'number', validate: (n: number) => n >= INT32_MIN && n <= INT32_MAX });
  ajv.addFormat('int64', { type: 'number', validate: (n: number) => n >= INT64_MIN && n < INT64_LIMIT });
  ajv.addFormat('date-time', {
    type: 'string',
    validate: (s: string) => DATE_TIME_RE.test(s) && !Number.isNaN(Date.parse(s)),
  });
  return ajv;
}

export function createControlPlaneValidator(): ValidateFunction<ControlPlane> {
  try {
    return createAjv().compile<ControlPlane>(computeAjvSchema());
  } catch (err) {
    throw new Error('compiling the ControlPlane schema with ajv', { cause: err });
  }
}

let cachedValidator: ValidateFunction<ControlPlane> | undefined;

/** The compiled validator, built on first use (compiling takes milliseconds; import stays free). */
export function getControlPlaneValidator(): ValidateFunction<ControlPlane> {
  cachedValidator ??= createControlPlaneValidator();
  return cachedValidator;
}
