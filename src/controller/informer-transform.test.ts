import type { KubernetesObject } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { computeWithoutManagedFields } from './informer-transform.js';

const managedFields = [{ manager: 'kubectl', operation: 'Apply', fieldsType: 'FieldsV1', fieldsV1: { 'f:data': {} } }];

describe('computeWithoutManagedFields', () => {
  it.each<[string, KubernetesObject, KubernetesObject]>([
    [
      'drops managedFields, keeps every other metadata field and the body',
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', namespace: 'ns', resourceVersion: '7', uid: 'u', labels: { x: 'y' }, annotations: { k: 'v' }, managedFields }, data: { d: '1' } } as KubernetesObject,
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', namespace: 'ns', resourceVersion: '7', uid: 'u', labels: { x: 'y' }, annotations: { k: 'v' } }, data: { d: '1' } } as KubernetesObject,
    ],
    ['an object without managedFields stays as it is', { metadata: { name: 'a', resourceVersion: '1' } }, { metadata: { name: 'a', resourceVersion: '1' } }],
    ['an object without metadata (a bookmark-like stub) stays as it is', { kind: 'Pod' }, { kind: 'Pod' }],
  ])('%s', (_name, input, want) => {
    const before = structuredClone(input);
    expect(computeWithoutManagedFields(input)).toEqual(want);
    expect(input, 'the input is not mutated').toEqual(before);
  });
});
