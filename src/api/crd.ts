/**
 * The ControlPlane CustomResourceDefinition (apiextensions.k8s.io/v1), computed from schema.ts.
 * crd-yaml.ts renders it; crds/ (and its copy deploy/crd/, the kustomize base) hold the rendered file and CI checks both are current.
 */
import { CONTROL_PLANE_SCHEMA } from './schema.js';
import type { JSONSchemaProps } from './schema-types.js';
import { API_GROUP, API_VERSION, KIND, PLURAL } from './types.js';

export interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  jsonPath: string;
  description: string;
  priority?: number;
}

export interface CustomResourceDefinition {
  apiVersion: 'apiextensions.k8s.io/v1';
  kind: 'CustomResourceDefinition';
  metadata: { name: string };
  spec: {
    group: string;
    names: { kind: string; listKind: string; plural: string; singular: string; shortNames: string[] };
    scope: 'Cluster' | 'Namespaced';
    versions: {
      name: string;
      served: boolean;
      storage: boolean;
      subresources: { status: Record<string, never> };
      additionalPrinterColumns: PrinterColumn[];
      schema: { openAPIV3Schema: JSONSchemaProps };
    }[];
  };
}

export const CRD_NAME = `${PLURAL}.${API_GROUP}`;

export const PRINTER_COLUMNS: readonly PrinterColumn[] = [
  { name: 'Desired', type: 'string', jsonPath: '.spec.version', description: 'Version asked for.' },
  { name: 'Version', type: 'string', jsonPath: '.status.version', description: 'Lowest version running.' },
  { name: 'Phase', type: 'string', jsonPath: '.status.phase', description: 'Life-cycle phase.' },
  {
    name: 'Ready',
    type: 'string',
    jsonPath: '.status.conditions[?(@.type=="Ready")].status',
    description: 'Status of the Ready condition.',
  },
  { name: 'Step', type: 'string', jsonPath: '.status.step', description: 'The step running now, e.g. 1/4 kube-apiserver.' },
  { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp', description: 'Time since creation.' },
];

/** A fresh CRD object each call: callers may change it without touching the schema source. */
export function computeCrd(): CustomResourceDefinition {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: CRD_NAME },
    spec: {
      group: API_GROUP,
      names: {
        kind: KIND,
        listKind: `${KIND}List`,
        plural: PLURAL,
        singular: KIND.toLowerCase(),
        shortNames: ['cp'],
      },
      scope: 'Cluster',
      versions: [
        {
          name: API_VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: PRINTER_COLUMNS.map((c) => ({ ...c })),
          // structuredClone also breaks the sharing of sub-schemas (one extraArgs schema serves six
          // components), which YAML would otherwise render as anchors and aliases.
          schema: { openAPIV3Schema: structuredClone(CONTROL_PLANE_SCHEMA) },
        },
      ],
    },
  };
}
