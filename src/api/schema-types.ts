/**
 * The subset of apiextensions.k8s.io/v1 JSONSchemaProps selfhost's schema uses.
 *
 * Typing the schema source (instead of a loose object) makes a misspelt keyword a compile error
 * rather than a keyword the apiserver silently drops or ajv's strict mode rejects at run time.
 */

/** One CEL rule (`x-kubernetes-validations` item). */
export interface ValidationRule {
  rule: string;
  /** Static message; shown when messageExpression is absent or fails. */
  message: string;
  /** CEL expression producing the message; used to name the offending value. */
  messageExpression?: string;
  /** Path (relative to the node carrying the rule) the apiserver reports the error at. */
  fieldPath?: string;
  reason?: 'FieldValueInvalid' | 'FieldValueForbidden' | 'FieldValueRequired' | 'FieldValueDuplicate';
}

export type SchemaType = 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

export interface JSONSchemaProps {
  type?: SchemaType;
  description?: string;
  default?: JsonValue;
  format?: 'int32' | 'int64' | 'date-time';
  enum?: readonly JsonValue[];
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
  minProperties?: number;
  maxProperties?: number;
  required?: readonly string[];
  properties?: Record<string, JSONSchemaProps>;
  additionalProperties?: JSONSchemaProps;
  items?: JSONSchemaProps;
  anyOf?: readonly JSONSchemaProps[];
  'x-kubernetes-int-or-string'?: true;
  'x-kubernetes-preserve-unknown-fields'?: true;
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: readonly string[];
  'x-kubernetes-map-type'?: 'atomic' | 'granular';
  'x-kubernetes-validations'?: readonly ValidationRule[];
}

/** Every `x-kubernetes-*` keyword the schema may use; ajv learns them as annotations. */
export const KUBERNETES_KEYWORDS = [
  'x-kubernetes-int-or-string',
  'x-kubernetes-preserve-unknown-fields',
  'x-kubernetes-list-type',
  'x-kubernetes-list-map-keys',
  'x-kubernetes-map-type',
  'x-kubernetes-validations',
] as const;
