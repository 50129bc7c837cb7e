/**
 * deploy/rbac on a real kube-apiserver (--authorization-mode=Node,RBAC, as kubeadm runs it). The
 * CRD and the RBAC objects are applied as the files are; then each ServiceAccount, with a bound
 * token of its own, asks the apiserver what it may do (SelfSubjectAccessReview: the question
 * `kubectl auth can-i` asks, with the groups the real token carries rather than assumed ones).
 *
 * MUST: every row of deploy/README.md's permission tables (the test parses them, so a row added
 * there without a grant fails here, and a grant the tables do not list fails src/deploy.test.ts).
 * MUST NOT: Secrets, wildcards, other namespaces, writing Nodes, exec, escalation, and every
 * verb just outside each grant.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { load, loadAll } from 'js-yaml';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { kubeClient, type JsonObject, type KubeClient } from '../../src/kube/client.js';
import { kubeConfigFrom } from '../support/kube.js';

const REPO = join(import.meta.dirname, '..', '..');
const NS = 'kube-system';
const OPERATOR = 'selfhost';
const AGENT = 'selfhost-agent';
const FIELD_MANAGER = 'selfhost-rbac-test';

/** One question to the authorizer: may `verb` on `resource[.group][/subresource]` (name, namespace)? */
interface Access {
  verb: string;
  /** `resource.group/subresource` as deploy/README.md writes it; no group: the core API. */
  what: string;
  /** Absent: cluster-scoped, or every namespace for a namespaced resource. */
  namespace?: string;
  name?: string;
}

const show = (a: Access): string => `${a.verb} ${a.what}${a.name ? ` ${a.name}` : ''}${a.namespace ? ` -n ${a.namespace}` : ''}`;

/** The SelfSubjectAccessReview spec of an Access. */
function computeResourceAttributes(a: Access): JsonObject {
  const [typed = '', subresource] = a.what.split('/');
  const dot = typed.indexOf('.');
  const resource = dot < 0 ? typed : typed.slice(0, dot);
  const group = dot < 0 ? '' : typed.slice(dot + 1);
  return {
    verb: a.verb,
    group,
    resource,
    ...(subresource === undefined ? {} : { subresource }),
    ...(a.namespace === undefined ? {} : { namespace: a.namespace }),
    ...(a.name === undefined ? {} : { name: a.name }),
  };
}

/**
 * The rows of deploy/README.md's tables "Every permission and why", per ServiceAccount: a row's
 * resource cell names one or more resources (or one resource and "`name` only"), its verb cell a
 * list; the scope comes from the line above the table ("ClusterRole …" or "Role … in `ns`").
 */
function computeReadmeGrants(readme: string): Record<string, Access[]> {
  const out: Record<string, Access[]> = {};
  let account: string | undefined;
  let namespace: string | undefined;
  const section = readme.split(/^## /m).find((s) => s.startsWith('Every permission and why'));
  if (section === undefined) throw new Error('deploy/README.md: no section "## Every permission and why"');
  for (const line of section.split('\n')) {
    const heading = /^### .*ServiceAccount `kube-system\/([a-z-]+)`/.exec(line);
    if (heading) {
      account = heading[1];
      continue;
    }
    const scope = /^(?:No ClusterRole\. )?(Cluster)?Role `[a-z-]+`(?: in `([a-z-]+)`)?/.exec(line);
    if (scope) {
      namespace = scope[1] === 'Cluster' ? undefined : scope[2];
      if (scope[1] !== 'Cluster' && namespace === undefined) throw new Error(`deploy/README.md: a Role without a namespace: ${line}`);
      continue;
    }
    const row = /^\| (`[^|]+) \| ([a-z, ]+) \|/.exec(line);
    if (!row || account === undefined) continue;
    const [, cell = '', verbs = ''] = row;
    const named = /^`([^`]+)` `([^`]+)` only$/.exec(cell);
    const targets = named ? [{ what: named[1] ?? '', name: named[2] }] : [...cell.matchAll(/`([^`]+)`/g)].map((m) => ({ what: m[1] ?? '', name: undefined }));
    for (const t of targets) {
      for (const verb of verbs.split(',').map((v) => v.trim())) {
        (out[account] ??= []).push({ verb, what: t.what, ...(namespace ? { namespace } : {}), ...(t.name ? { name: t.name } : {}) });
      }
    }
  }
  return out;
}

const cluster = (verbs: string[], what: string): Access[] => verbs.map((verb) => ({ verb, what }));
const inNs = (namespace: string, verbs: string[], what: string, name?: string): Access[] =>
  verbs.map((verb) => ({ verb, what, namespace, ...(name ? { name } : {}) }));

/** What each ServiceAccount must be allowed: deploy/README.md's tables, written out. */
const MUST: Record<string, Access[]> = {
  [OPERATOR]: [
    ...cluster(['get', 'list', 'watch'], 'controlplanes.selfhost.dev'),
    ...cluster(['patch', 'update'], 'controlplanes.selfhost.dev'),
    ...cluster(['get', 'patch', 'update'], 'controlplanes.selfhost.dev/status'),
    ...cluster(['get', 'list', 'watch'], 'nodes'),
    ...['daemonsets.apps', 'deployments.apps'].flatMap((r) => inNs(NS, ['get', 'list', 'watch'], r)),
    ...['daemonsets.apps', 'deployments.apps'].flatMap((r) => inNs(NS, ['create', 'patch', 'update'], r)),
    ...['daemonsets.apps', 'deployments.apps'].flatMap((r) => inNs(NS, ['delete'], r)),
    ...inNs(NS, ['get', 'list', 'watch'], 'pods'),
    ...inNs(NS, ['delete'], 'pods'),
    ...inNs(NS, ['get', 'list', 'watch'], 'configmaps'),
    ...inNs(NS, ['create', 'patch', 'update'], 'configmaps'),
    ...inNs(NS, ['delete'], 'configmaps'),
    ...inNs(NS, ['get', 'create', 'patch'], 'jobs.batch'),
    ...inNs(NS, ['delete'], 'jobs.batch'),
    ...inNs(NS, ['create'], 'leases.coordination.k8s.io'),
    ...inNs(NS, ['get', 'update', 'patch'], 'leases.coordination.k8s.io', 'selfhost'),
    ...inNs('default', ['create', 'patch'], 'events.events.k8s.io'),
  ],
  [AGENT]: [...inNs(NS, ['get', 'list', 'watch'], 'configmaps'), ...inNs(NS, ['create', 'patch'], 'configmaps')],
};

/** What each ServiceAccount must be denied. */
const MUST_NOT: Record<string, Access[]> = {
  [OPERATOR]: [
    // Secrets, anywhere, and tokens of other accounts.
    ...inNs(NS, ['get', 'list', 'watch'], 'secrets'),
    ...cluster(['list'], 'secrets'),
    ...inNs(NS, ['create'], 'serviceaccounts/token', 'selfhost-agent'),
    // Wildcards.
    { verb: '*', what: '*.*' },
    { verb: '*', what: '*.*', namespace: NS },
    { verb: '*', what: 'configmaps', namespace: NS },
    // Everything it writes in kube-system, elsewhere (and across all namespaces).
    ...inNs('default', ['create', 'delete'], 'daemonsets.apps'),
    ...inNs('kube-public', ['create', 'patch'], 'deployments.apps'),
    ...inNs('default', ['get', 'list', 'delete'], 'pods'),
    ...inNs('default', ['create', 'patch'], 'configmaps'),
    ...cluster(['list'], 'configmaps'),
    ...cluster(['list'], 'pods'),
    ...inNs(NS, ['create'], 'events.events.k8s.io'),
    ...inNs(NS, ['create'], 'events'),
    // Nodes: read only; no kubelet API.
    ...cluster(['create', 'update', 'patch', 'delete'], 'nodes'),
    ...cluster(['patch', 'update'], 'nodes/status'),
    ...cluster(['get', 'create'], 'nodes/proxy'),
    // No exec, no attach, no eviction bypass tricks, no escalation or impersonation.
    ...inNs(NS, ['create', 'get'], 'pods/exec'),
    ...inNs(NS, ['create'], 'pods/attach'),
    ...cluster(['escalate', 'bind', 'create', 'update'], 'clusterroles.rbac.authorization.k8s.io'),
    ...inNs(NS, ['escalate', 'bind', 'create'], 'roles.rbac.authorization.k8s.io'),
    ...cluster(['impersonate'], 'users'),
    ...cluster(['impersonate'], 'serviceaccounts'),
    // Just outside each grant.
    ...cluster(['create', 'delete'], 'controlplanes.selfhost.dev'),
    ...cluster(['create', 'update'], 'customresourcedefinitions.apiextensions.k8s.io'),
    ...inNs(NS, ['create', 'update', 'patch'], 'pods'),
    ...inNs(NS, ['list', 'watch', 'update'], 'jobs.batch'),
    ...inNs(NS, ['create', 'patch'], 'statefulsets.apps'),
    ...inNs(NS, ['get', 'update', 'patch', 'delete'], 'leases.coordination.k8s.io', 'kube-controller-manager'),
    ...inNs(NS, ['list', 'delete'], 'leases.coordination.k8s.io'),
  ],
  [AGENT]: [
    ...inNs(NS, ['get', 'list'], 'secrets'),
    { verb: '*', what: '*.*' },
    { verb: '*', what: '*.*', namespace: NS },
    // ConfigMaps: never update or delete, never outside kube-system, never across namespaces.
    ...inNs(NS, ['update', 'delete', 'deletecollection'], 'configmaps'),
    ...inNs('default', ['get', 'create', 'patch'], 'configmaps'),
    ...cluster(['list', 'watch'], 'configmaps'),
    // Nothing the operator has.
    ...cluster(['get', 'list'], 'controlplanes.selfhost.dev'),
    ...cluster(['get', 'list', 'patch'], 'nodes'),
    ...inNs(NS, ['get', 'list', 'delete'], 'pods'),
    ...inNs(NS, ['get', 'create', 'patch'], 'daemonsets.apps'),
    ...inNs(NS, ['get', 'create', 'update'], 'leases.coordination.k8s.io', 'selfhost'),
    ...inNs(NS, ['create'], 'jobs.batch'),
    ...inNs('default', ['create'], 'events.events.k8s.io'),
    ...inNs(NS, ['create'], 'pods/exec'),
    ...cluster(['get'], 'nodes/proxy'),
  ],
};

const admin = kubeClient(kubeConfigFrom(inject('kubeconfig')));

/** deploy/<dir>'s objects, from the files its kustomization lists (a plain resource list; src/deploy.test.ts). */
function kustomizationObjects(dir: string): JsonObject[] {
  const k = load(readFileSync(join(REPO, 'deploy', dir, 'kustomization.yaml'), 'utf8')) as { resources?: string[] };
  return (k.resources ?? []).flatMap((f) =>
    loadAll(readFileSync(join(REPO, 'deploy', dir, f), 'utf8')).filter((d): d is JsonObject => typeof d === 'object' && d !== null),
  );
}

/** The API path of one of the kinds deploy/crd and deploy/rbac hold. */
function computeObjectPath(obj: JsonObject): string {
  const kind = String(obj['kind']);
  const meta = (obj['metadata'] ?? {}) as { name?: string; namespace?: string };
  const table: Record<string, [string, string, boolean]> = {
    CustomResourceDefinition: ['/apis/apiextensions.k8s.io/v1', 'customresourcedefinitions', false],
    ServiceAccount: ['/api/v1', 'serviceaccounts', true],
    Role: ['/apis/rbac.authorization.k8s.io/v1', 'roles', true],
    RoleBinding: ['/apis/rbac.authorization.k8s.io/v1', 'rolebindings', true],
    ClusterRole: ['/apis/rbac.authorization.k8s.io/v1', 'clusterroles', false],
    ClusterRoleBinding: ['/apis/rbac.authorization.k8s.io/v1', 'clusterrolebindings', false],
  };
  const entry = table[kind];
  if (entry === undefined) throw new Error(`kind ${kind}: not one of ${Object.keys(table).join(', ')}`);
  if (meta.name === undefined) throw new Error(`${kind} without metadata.name`);
  const [prefix, plural, namespaced] = entry;
  if (namespaced && meta.namespace === undefined) throw new Error(`${kind} ${meta.name}: no metadata.namespace`);
  return namespaced ? `${prefix}/namespaces/${meta.namespace ?? ''}/${plural}/${meta.name}` : `${prefix}/${plural}/${meta.name}`;
}

/** A client that authenticates as the ServiceAccount (a bound token from the TokenRequest API). */
async function clientAs(account: string): Promise<KubeClient> {
  const res = await admin.create(`/api/v1/namespaces/${NS}/serviceaccounts/${account}/token`, {
    apiVersion: 'authentication.k8s.io/v1',
    kind: 'TokenRequest',
    spec: { expirationSeconds: 600 },
  });
  const token = (res['status'] as { token?: string } | undefined)?.token;
  if (token === undefined) throw new Error(`TokenRequest for ${NS}/${account}: no token in the answer`);
  const adminCluster = kubeConfigFrom(inject('kubeconfig')).getCurrentCluster();
  if (adminCluster === null) throw new Error('the admin kubeconfig has no current cluster');
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ ...adminCluster, name: 'sim' }],
    users: [{ name: account, token }],
    contexts: [{ name: 'sim', cluster: 'sim', user: account }],
    currentContext: 'sim',
  });
  return kubeClient(kc);
}

/** Asks, as the client's user, whether it may; the apiserver's answer (allowed) and its reason. */
async function canI(client: KubeClient, a: Access): Promise<{ allowed: boolean; reason: string }> {
  const res = await client.create('/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', {
    apiVersion: 'authorization.k8s.io/v1',
    kind: 'SelfSubjectAccessReview',
    spec: { resourceAttributes: computeResourceAttributes(a) },
  });
  const status = (res['status'] ?? {}) as { allowed?: boolean; reason?: string };
  return { allowed: status.allowed === true, reason: status.reason ?? '' };
}

const objects = [...kustomizationObjects('crd'), ...kustomizationObjects('rbac')];
/** The objects this file created (absent before it ran): deleted afterwards, the rest left as found. */
const createdHere: string[] = [];
const clients = new Map<string, KubeClient>();

beforeAll(async () => {
  for (const obj of objects) {
    const path = computeObjectPath(obj);
    if ((await admin.get(path)) === undefined) createdHere.push(path);
    await admin.apply(path, obj, { fieldManager: FIELD_MANAGER, force: true });
  }
  for (const account of [OPERATOR, AGENT]) clients.set(account, await clientAs(account));
});

afterAll(async () => {
  // Never the CRD: other files' ControlPlanes live in it.
  for (const path of createdHere.filter((p) => !p.includes('customresourcedefinitions')).reverse()) await admin.delete(path);
});

function client(account: string): KubeClient {
  const c = clients.get(account);
  if (c === undefined) throw new Error(`no client for ${account}`);
  return c;
}

describe('deploy/rbac on a real apiserver', () => {
  it('parses deploy/README.md\'s tables into exactly the MUST table', () => {
    const readme = computeReadmeGrants(readFileSync(join(REPO, 'deploy/README.md'), 'utf8'));
    const sorted = (xs: Access[] = []) => xs.map(show).sort();
    expect(Object.keys(readme).sort()).toEqual([OPERATOR, AGENT].sort());
    expect(sorted(readme[OPERATOR])).toEqual(sorted(MUST[OPERATOR]));
    expect(sorted(readme[AGENT])).toEqual(sorted(MUST[AGENT]));
  });

  it.each([OPERATOR, AGENT])('authenticates %s as its ServiceAccount, in the groups every ServiceAccount has', async (account) => {
    const res = await client(account).create('/apis/authentication.k8s.io/v1/selfsubjectreviews', {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'SelfSubjectReview',
    });
    const user = ((res['status'] ?? {}) as { userInfo?: { username?: string; groups?: string[] } }).userInfo;
    expect(user?.username).toBe(`system:serviceaccount:${NS}:${account}`);
    expect(user?.groups).toEqual(expect.arrayContaining(['system:serviceaccounts', `system:serviceaccounts:${NS}`, 'system:authenticated']));
  });

  for (const account of [OPERATOR, AGENT]) {
    it(`allows ${account} every permission deploy/README.md lists`, async () => {
      const denied: string[] = [];
      for (const a of MUST[account] ?? []) if (!(await canI(client(account), a)).allowed) denied.push(show(a));
      expect(denied).toEqual([]);
    });

    it(`denies ${account} what it must not do`, async () => {
      const allowed: string[] = [];
      for (const a of MUST_NOT[account] ?? []) {
        const answer = await canI(client(account), a);
        if (answer.allowed) allowed.push(`${show(a)} (${answer.reason})`);
      }
      expect(allowed).toEqual([]);
    });
  }
});
