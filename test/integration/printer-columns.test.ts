/**
 * `kubectl get controlplanes` shows what the CRD's printer columns say: ask the real apiserver for
 * the Table rendering kubectl uses and check the column names and a row.
 */
import { request } from 'node:https';
import { CustomObjectsApi } from '@kubernetes/client-node';
import { describe, expect, inject, it } from 'vitest';
import { API_GROUP, API_VERSION, PLURAL } from '../../src/api/types.js';
import { kubeConfigFrom } from '../support/kube.js';
import { ensureControlPlaneCrd } from '../support/crd.js';

const kc = kubeConfigFrom(inject('kubeconfig'));

interface Table {
  columnDefinitions: { name: string }[];
  rows: { cells: unknown[] }[];
}

/** GET as kubectl does for `get`: the server-side Table rendering. */
function getTable(path: string): Promise<Table> {
  const cluster = kc.getCurrentCluster();
  const user = kc.getCurrentUser();
  if (!cluster || !user?.token || !cluster.caData) throw new Error('kubeconfig lacks server, token or CA');
  const ca = Buffer.from(cluster.caData, 'base64');
  return new Promise((resolve, reject) => {
    const req = request(`${cluster.server}${path}`, {
      ca,
      headers: {
        authorization: `Bearer ${user.token}`,
        accept: 'application/json;as=Table;v=v1;g=meta.k8s.io',
      },
    }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => {
        if (res.statusCode !== 200) reject(new Error(`GET ${path}: ${res.statusCode} ${body}`));
        else resolve(JSON.parse(body) as Table);
      });
    });
    req.on('error', reject);
    req.end();
  });
}

describe('kubectl get controlplanes', () => {
  it('shows Desired, Version, Phase, Ready, Step and Age', async () => {
    const objects = kc.makeApiClient(CustomObjectsApi);
    const base = { group: API_GROUP, version: API_VERSION, plural: PLURAL };
    const name = `columns-${Date.now().toString(36)}`;
    await ensureControlPlaneCrd(kc);
    await objects.createClusterCustomObject({
      ...base,
      body: { apiVersion: `${API_GROUP}/${API_VERSION}`, kind: 'ControlPlane', metadata: { name }, spec: { version: 'v1.37.2' } },
    });
    const current = (await objects.getClusterCustomObject({ ...base, name })) as Record<string, unknown>;
    await objects.replaceClusterCustomObjectStatus({
      ...base,
      name,
      body: {
        ...current,
        status: {
          version: 'v1.36.4',
          phase: 'Upgrading',
          step: '2/5 kube-apiserver',
          conditions: [
            { type: 'Ready', status: 'False', reason: 'Upgrading', message: 'upgrading', lastTransitionTime: '2026-01-01T00:00:00Z' },
          ],
        },
      },
    });
    const table = await getTable(`/apis/${API_GROUP}/${API_VERSION}/${PLURAL}/${name}`);
    expect(table.columnDefinitions.map((c) => c.name)).toEqual(['Name', 'Desired', 'Version', 'Phase', 'Ready', 'Step', 'Age']);
    expect(table.rows[0]?.cells.slice(0, 6)).toEqual([name, 'v1.37.2', 'v1.36.4', 'Upgrading', 'False', '2/5 kube-apiserver']);
    await objects.deleteClusterCustomObject({ ...base, name });
  });
});
