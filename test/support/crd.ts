import { ApiextensionsV1Api, CustomObjectsApi, type KubeConfig, type V1CustomResourceDefinition } from '@kubernetes/client-node';
// Not re-exported by the package root; the models' own (de)serializer.
import { ObjectSerializer } from '@kubernetes/client-node/dist/gen/models/ObjectSerializer.js';
import { computeCrd, CRD_NAME } from '../../src/api/crd.js';
import { API_GROUP, API_VERSION, PLURAL } from '../../src/api/types.js';
import { rejectionOf } from './kube.js';
import { waitFor } from './wait.js';

/**
 * Installs the ControlPlane CRD (once per apiserver; later calls find it) and waits until the
 * resource is served. Typed client-node calls serialize through their models, which silently drop
 * wire-named keys such as x-kubernetes-validations and enum: the body is a model built from the
 * wire JSON.
 */
export async function ensureControlPlaneCrd(kc: KubeConfig): Promise<void> {
  const crds = kc.makeApiClient(ApiextensionsV1Api);
  const body = ObjectSerializer.deserialize(computeCrd(), 'V1CustomResourceDefinition', '') as V1CustomResourceDefinition;
  const rejected = await rejectionOf(() => crds.createCustomResourceDefinition({ body }));
  if (rejected && rejected.code !== 409) throw new Error(`creating the CRD: ${rejected.code} ${rejected.message}`);
  await waitFor('CRD Established', async () => {
    const crd = await crds.readCustomResourceDefinition({ name: CRD_NAME });
    return crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True') ? true : undefined;
  });
  // Discovery of the new resource lags Established by a moment.
  const objects = kc.makeApiClient(CustomObjectsApi);
  await waitFor('ControlPlane resource served', async () => {
    await objects.listClusterCustomObject({ group: API_GROUP, version: API_VERSION, plural: PLURAL });
    return true;
  });
}
