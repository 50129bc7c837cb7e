/**
 * deploy/ through kubectl's own kustomize, against tier sim's real apiserver, controllers,
 * scheduler and kwok nodes (3 control-plane nodes tainted like kubeadm's):
 *  - `kubectl kustomize` of default, prometheus and samples gives exactly the objects of their
 *    files, unchanged (no transformer sneaks in);
 *  - `kubectl apply --server-side -k deploy/default` applies cleanly, first as a server dry run,
 *    then for real: two operator pods on two control-plane nodes (the host port keeps them
 *    apart), the budget allows one eviction, the metrics Service selects both;
 *  - one node (deploy/README.md "One node"): with two replicas, one is Pending, so no eviction is
 *    allowed and a rollout stalls; with one, the rollout completes and the eviction goes through;
 *  - Pod Security admission: the pod violates `restricted` only by its host network and host port.
 * Everything this file creates is deleted afterwards, except the CRD (other files' ControlPlanes
 * live in it).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { load, loadAll } from 'js-yaml';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { kubeClient, type JsonObject } from '../../src/kube/client.js';
import { binary } from '../support/binaries.js';
import { ensureControlPlaneCrd } from '../support/crd.js';
import { kubeConfigFrom } from '../support/kube.js';
import { waitFor } from '../support/wait.js';

const REPO = join(import.meta.dirname, '..', '..');
const NS = 'kube-system';
const DEPLOYMENT = `/apis/apps/v1/namespaces/${NS}/deployments/selfhost-operator`;
const PDB = `/apis/policy/v1/namespaces/${NS}/poddisruptionbudgets/selfhost-operator`;
const POD_SELECTOR = 'app.kubernetes.io/name=selfhost,app.kubernetes.io/component=operator';

const kc = kubeConfigFrom(inject('kubeconfig'));
const admin = kubeClient(kc);
const dir = mkdtempSync(join(tmpdir(), 'selfhost-kustomize-'));
const kubeconfigPath = join(dir, 'kubeconfig');
writeFileSync(kubeconfigPath, inject('kubeconfig'), { mode: 0o600 });

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function kubectl(args: string[], input?: string): Run {
  const r = spawnSync(binary('SELFHOST_K8S_BIN', 'kubectl'), ['--kubeconfig', kubeconfigPath, ...args], {
    cwd: REPO,
    input,
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (r.error) throw new Error(`kubectl ${args.join(' ')}`, { cause: r.error });
  return { code: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
}

/** kubectl that must succeed; its stdout. */
function kubectlOk(args: string[], input?: string): string {
  const r = kubectl(args, input);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} exited ${String(r.code)}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

const docs = (text: string): JsonObject[] => loadAll(text).filter((d): d is JsonObject => typeof d === 'object' && d !== null);

/** The objects of deploy/<d>'s files, following its kustomization's resources (directories too). */
function sourceObjects(d: string): JsonObject[] {
  const k = load(readFileSync(join(REPO, 'deploy', d, 'kustomization.yaml'), 'utf8')) as { resources?: string[] };
  return (k.resources ?? []).flatMap((r) =>
    r.endsWith('.yaml') ? docs(readFileSync(join(REPO, 'deploy', d, r), 'utf8')) : sourceObjects(join(d, r)),
  );
}

interface Meta {
  name?: string;
  namespace?: string;
  labels?: Record<string, string>;
  deletionTimestamp?: string;
  generation?: number;
}
const meta = (o: JsonObject) => (o['metadata'] ?? {}) as Meta;
const idOf = (o: JsonObject) => `${String(o['kind'])} ${meta(o).namespace ?? ''}/${meta(o).name ?? ''}`;
const byId = (objs: JsonObject[]) => new Map(objs.map((o) => [idOf(o), o]));

/** What `kubectl apply -k deploy/default` installs, by kind and name: nothing more, nothing less. */
const DEFAULT_OBJECTS = [
  'ClusterRole /selfhost-operator',
  'ClusterRoleBinding /selfhost-operator',
  'CustomResourceDefinition /controlplanes.selfhost.dev',
  'Deployment kube-system/selfhost-operator',
  'PodDisruptionBudget kube-system/selfhost-operator',
  'Role default/selfhost-operator-events',
  'Role kube-system/selfhost-agent',
  'Role kube-system/selfhost-operator',
  'RoleBinding default/selfhost-operator-events',
  'RoleBinding kube-system/selfhost-agent',
  'RoleBinding kube-system/selfhost-operator',
  'Service kube-system/selfhost-operator-metrics',
  'ServiceAccount kube-system/selfhost',
  'ServiceAccount kube-system/selfhost-agent',
];

/** API paths of what deploy/default creates that did not exist before (deleted afterwards). */
const createdHere: string[] = [];
/** The sim's control-plane nodes (labelled and tainted like kubeadm's). */
const controlPlaneNodes = new Set<string>();

function pathOf(o: JsonObject): string {
  const m = meta(o);
  const table: Record<string, string> = {
    ServiceAccount: `/api/v1/namespaces/${m.namespace ?? ''}/serviceaccounts`,
    Service: `/api/v1/namespaces/${m.namespace ?? ''}/services`,
    Role: `/apis/rbac.authorization.k8s.io/v1/namespaces/${m.namespace ?? ''}/roles`,
    RoleBinding: `/apis/rbac.authorization.k8s.io/v1/namespaces/${m.namespace ?? ''}/rolebindings`,
    ClusterRole: '/apis/rbac.authorization.k8s.io/v1/clusterroles',
    ClusterRoleBinding: '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings',
    Deployment: `/apis/apps/v1/namespaces/${m.namespace ?? ''}/deployments`,
    PodDisruptionBudget: `/apis/policy/v1/namespaces/${m.namespace ?? ''}/poddisruptionbudgets`,
    CustomResourceDefinition: '/apis/apiextensions.k8s.io/v1/customresourcedefinitions',
  };
  const base = table[String(o['kind'])];
  if (base === undefined) throw new Error(`no API path for kind ${String(o['kind'])}`);
  return `${base}/${m.name ?? ''}`;
}

interface PodView {
  name: string;
  node: string;
  ready: boolean;
  phase: string;
}

async function operatorPods(): Promise<PodView[]> {
  const pods = await admin.list(`/api/v1/namespaces/${NS}/pods`, { labelSelector: POD_SELECTOR });
  return pods
    .filter((p) => meta(p).deletionTimestamp === undefined)
    .map((p) => {
      const spec = (p['spec'] ?? {}) as { nodeName?: string };
      const status = (p['status'] ?? {}) as { phase?: string; conditions?: { type: string; status: string }[] };
      return {
        name: meta(p).name ?? '',
        node: spec.nodeName ?? '',
        phase: status.phase ?? '',
        ready: status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true,
      };
    });
}

interface PdbStatus {
  currentHealthy?: number;
  desiredHealthy?: number;
  expectedPods?: number;
  disruptionsAllowed?: number;
}

/** Waits until the disruption controller's status of the budget has these figures. */
async function waitForBudget(want: PdbStatus): Promise<PdbStatus> {
  return waitFor(`PodDisruptionBudget ${JSON.stringify(want)}`, async () => {
    const pdb = await admin.get(PDB);
    const status = (pdb?.['status'] ?? {}) as PdbStatus;
    const seen = { currentHealthy: status.currentHealthy, desiredHealthy: status.desiredHealthy, expectedPods: status.expectedPods, disruptionsAllowed: status.disruptionsAllowed };
    if (JSON.stringify(seen) !== JSON.stringify({ ...seen, ...want })) throw new Error(`status ${JSON.stringify(seen)}`);
    return status;
  }, { timeoutMs: 60_000, intervalMs: 500 });
}

/** Waits until the Deployment's rollout finished with one Ready replica on `node`; its pod's name. */
async function waitForOneReplicaOn(node: string): Promise<string> {
  return waitFor(`one updated, Ready replica on ${node}`, async () => {
    const deployment = await admin.get(DEPLOYMENT);
    const st = (deployment?.['status'] ?? {}) as { replicas?: number; updatedReplicas?: number; readyReplicas?: number; observedGeneration?: number };
    const generation = meta(deployment ?? {}).generation;
    const ps = await operatorPods();
    const done = st.observedGeneration === generation && st.replicas === 1 && st.updatedReplicas === 1 && st.readyReplicas === 1;
    return done && ps.length === 1 && ps[0]?.node === node && ps[0].ready ? ps[0].name : undefined;
  }, { timeoutMs: 90_000, intervalMs: 500 });
}

/** POSTs an eviction: 201 when the budget allows it, 429 when it does not. */
function evict(pod: string): Run {
  return kubectl(['create', '--raw', `/api/v1/namespaces/${NS}/pods/${pod}/eviction`, '-f', '-'], JSON.stringify({
    apiVersion: 'policy/v1',
    kind: 'Eviction',
    metadata: { name: pod, namespace: NS },
  }));
}

beforeAll(async () => {
  // deploy/samples needs the CRD served; deploy/default's apply must also cope with it existing.
  await ensureControlPlaneCrd(kc);
});

afterAll(async () => {
  for (const path of [...createdHere].reverse()) await admin.delete(path);
  await waitFor('the operator pods gone', async () => ((await operatorPods()).length === 0 ? true : undefined), { timeoutMs: 60_000 });
  rmSync(dir, { recursive: true, force: true });
});

describe('kubectl kustomize deploy/…', () => {
  it('default: exactly the CRD, the RBAC and the operator, as their files say', () => {
    const built = docs(kubectlOk(['kustomize', 'deploy/default']));
    expect(built.map(idOf).sort()).toEqual(DEFAULT_OBJECTS);
    const sources = byId(sourceObjects('default'));
    expect(sources.size).toBe(DEFAULT_OBJECTS.length);
    for (const o of built) expect(o, idOf(o)).toEqual(sources.get(idOf(o)));
  });

  it('prometheus: default plus the ServiceMonitor', () => {
    const built = docs(kubectlOk(['kustomize', 'deploy/prometheus']));
    expect(built.map(idOf).sort()).toEqual([...DEFAULT_OBJECTS, 'ServiceMonitor kube-system/selfhost-operator'].sort());
    const sources = byId(sourceObjects('prometheus'));
    for (const o of built) expect(o, idOf(o)).toEqual(sources.get(idOf(o)));
  });

  it('samples: the ControlPlane `cluster`', () => {
    const built = docs(kubectlOk(['kustomize', 'deploy/samples']));
    expect(built).toEqual(sourceObjects('samples'));
    expect(built.map(idOf)).toEqual(['ControlPlane /cluster']);
  });

  it('refuses the plain-YAML route: `kubectl apply -f` of a directory reads its kustomization.yaml', () => {
    const r = kubectl(['apply', '--dry-run=server', '-f', 'deploy/rbac/']);
    expect(r.code).not.toBe(0);
    expect(`${r.stderr}${r.stdout}`).toContain('kustomization.yaml');
  });
});

describe('kubectl apply -k deploy/default', () => {
  it('applies cleanly as a server dry run, every object', () => {
    const out = kubectlOk(['apply', '--server-side', '--dry-run=server', '-k', 'deploy/default']);
    const lines = out.trim().split('\n');
    expect(lines).toHaveLength(DEFAULT_OBJECTS.length);
    for (const line of lines) expect(line).toMatch(/ serverside-applied \(server dry run\)$/);
    expect(kubectlOk(['apply', '--server-side', '--dry-run=server', '-k', 'deploy/samples'])).toContain('serverside-applied (server dry run)');
  });

  it('installs: two operator pods on two control-plane nodes, a budget of one eviction, both behind the Service', async () => {
    // What the apply will create, as kustomize builds it (deleted afterwards unless it existed).
    const objects = docs(kubectlOk(['kustomize', 'deploy/default']));
    for (const o of objects) if ((await admin.get(pathOf(o))) === undefined && o['kind'] !== 'CustomResourceDefinition') createdHere.push(pathOf(o));
    kubectlOk(['apply', '--server-side', '-k', 'deploy/default']);

    const nodes = await admin.list('/api/v1/nodes', { labelSelector: 'node-role.kubernetes.io/control-plane' });
    for (const n of nodes) controlPlaneNodes.add(meta(n).name ?? '');
    const pods = await waitFor('2 Ready operator pods', async () => {
      const ps = await operatorPods();
      return ps.length === 2 && ps.every((p) => p.ready) ? ps : undefined;
    }, { timeoutMs: 60_000, intervalMs: 500 });
    expect(pods.every((p) => controlPlaneNodes.has(p.node)), JSON.stringify(pods)).toBe(true);
    expect(new Set(pods.map((p) => p.node)).size).toBe(2);

    await waitForBudget({ expectedPods: 2, currentHealthy: 2, desiredHealthy: 1, disruptionsAllowed: 1 });

    // The Service selects both pods, and its target port names their 8080. (Its EndpointSlice
    // stays empty here: the sim's nodes have loopback addresses, which EndpointSlice validation
    // refuses for host-network pods; the endpoint slice controller's own attempt lists both.)
    const svc = await admin.get(`/api/v1/namespaces/${NS}/services/selfhost-operator-metrics`);
    const svcSpec = (svc?.['spec'] ?? {}) as { type?: string; selector?: Record<string, string>; ports?: { name: string; port: number; targetPort: string }[] };
    expect(svcSpec.type).toBe('ClusterIP');
    const selected = await admin.list(`/api/v1/namespaces/${NS}/pods`, {
      labelSelector: Object.entries(svcSpec.selector ?? {}).map(([k, v]) => `${k}=${v}`).join(','),
    });
    expect(selected.map((p) => meta(p).name).sort()).toEqual(pods.map((p) => p.name).sort());
    const targetPort = svcSpec.ports?.[0]?.targetPort;
    for (const p of selected) {
      const containers = ((p['spec'] ?? {}) as { containers: { ports?: { name?: string; containerPort: number; hostPort?: number }[] }[] }).containers;
      const port = containers.flatMap((c) => c.ports ?? []).find((cp) => cp.name === targetPort);
      expect(port, meta(p).name).toEqual({ name: 'metrics', containerPort: 8080, hostPort: 8080, protocol: 'TCP' });
    }
  });

  it('one node: two replicas block a drain and stall a rollout; one replica rolls and drains', async () => {
    // deploy/README.md "One node". Scale to 1, then pin it to one node (a rollout: old pod
    // deleted, new one created on that node).
    kubectlOk(['-n', NS, 'scale', 'deployment/selfhost-operator', '--replicas=1']);
    const node = [...controlPlaneNodes].sort()[0] ?? '';
    kubectlOk(['-n', NS, 'patch', 'deployment/selfhost-operator', '--type=merge', '-p',
      JSON.stringify({ spec: { template: { spec: { nodeSelector: { 'kubernetes.io/hostname': node, 'node-role.kubernetes.io/control-plane': '' } } } } })]);
    await waitForOneReplicaOn(node);
    await waitForBudget({ expectedPods: 1, currentHealthy: 1, desiredHealthy: 0, disruptionsAllowed: 1 });

    // A second replica on the same node stays Pending (host port 8080): nothing may be evicted.
    kubectlOk(['-n', NS, 'scale', 'deployment/selfhost-operator', '--replicas=2']);
    const before = await waitFor('one Ready pod on the node, one Pending', async () => {
      const ps = await operatorPods();
      const ready = ps.filter((p) => p.ready && p.node === node);
      const pending = ps.filter((p) => p.phase === 'Pending' && p.node === '');
      return ps.length === 2 && ready.length === 1 && pending.length === 1 ? { ready: ready[0]?.name ?? '', all: ps.map((p) => p.name) } : undefined;
    }, { timeoutMs: 60_000, intervalMs: 500 });
    await waitForBudget({ expectedPods: 2, currentHealthy: 1, desiredHealthy: 1, disruptionsAllowed: 0 });
    const blocked = evict(before.ready);
    expect(blocked.code).not.toBe(0);
    expect(blocked.stderr).toContain('disruption budget');

    // A rollout stalls: the new pod waits for the old one's port, the old one may not go.
    kubectlOk(['-n', NS, 'rollout', 'restart', 'deployment/selfhost-operator']);
    const stalled = async (): Promise<true | undefined> => {
      const ps = await operatorPods();
      const old = ps.filter((p) => before.all.includes(p.name));
      const fresh = ps.filter((p) => !before.all.includes(p.name));
      return old.length === 1 && old[0]?.name === before.ready && old[0].ready && fresh.length === 1 && fresh[0]?.phase === 'Pending' ? true : undefined;
    };
    await waitFor('the rollout stalled: the old Ready pod and a new Pending one', stalled, { timeoutMs: 30_000, intervalMs: 500 });
    await new Promise((r) => setTimeout(r, 5000));
    expect(await stalled()).toBe(true);

    // Back to one replica: the rollout completes in place and a drain's eviction goes through.
    kubectlOk(['-n', NS, 'scale', 'deployment/selfhost-operator', '--replicas=1']);
    const rolled = await waitForOneReplicaOn(node);
    expect(rolled).not.toBe(before.ready);
    await waitForBudget({ expectedPods: 1, currentHealthy: 1, desiredHealthy: 0, disruptionsAllowed: 1 });
    const allowed = evict(rolled);
    expect(allowed.stderr).toBe('');
    expect(allowed.code).toBe(0);
  });
});

describe('Pod Security admission', () => {
  const ns = `selfhost-pss-${Date.now().toString(36)}`;
  const template = () => {
    const deployment = sourceObjects('manager').find((o) => o['kind'] === 'Deployment');
    const spec = (deployment?.['spec'] ?? {}) as { template: { spec: JsonObject } };
    return structuredClone(spec.template.spec);
  };
  const podOf = (spec: JsonObject) => JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'selfhost-operator', namespace: ns }, spec });

  beforeAll(() => {
    kubectlOk(['create', 'namespace', ns]);
    kubectlOk(['label', 'namespace', ns, 'pod-security.kubernetes.io/enforce=restricted', 'pod-security.kubernetes.io/enforce-version=latest']);
    kubectlOk(['-n', ns, 'create', 'serviceaccount', 'selfhost']);
  });
  afterAll(() => {
    kubectlOk(['delete', 'namespace', ns, '--wait=false']);
  });

  it('refuses the operator pod under `restricted` for its host network and host port, nothing else', () => {
    const r = kubectl(['create', '--dry-run=server', '-f', '-'], podOf(template()));
    expect(r.code).not.toBe(0);
    const violations = /violates PodSecurity "restricted:latest": (.*)$/m.exec(r.stderr)?.[1] ?? r.stderr;
    // "host namespaces (hostNetwork=true), hostPort (container "operator" uses hostPort 8080)"
    expect(violations.split(/\), /).map((v) => v.split(' (')[0])).toEqual(['host namespaces', 'hostPort']);
  });

  it('admits the same pod under `restricted` once off the host network', () => {
    const spec = template();
    spec['hostNetwork'] = false;
    delete spec['dnsPolicy'];
    expect(kubectlOk(['create', '--dry-run=server', '-f', '-'], podOf(spec))).toContain('created (server dry run)');
  });
});
