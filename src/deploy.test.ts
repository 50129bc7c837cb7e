import { readdirSync, readFileSync } from 'node:fs';
import { loadAll } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { GATE_EXEC_IMAGE_PATH } from './convert/mutators/handover-gate.js';
import { AGENT_SERVICE_ACCOUNT } from './operator/agent-daemonset.js';

// deploy/: least-privilege RBAC and the operator Deployment (deploy/README.md explains each rule).

/** The image every manifest names: what `make image` builds (mk/image.mk, hack/images/selfhost.sh). */
const IMAGE = 'localhost/selfhost/selfhost:dev';
const repo = new URL('../', import.meta.url);

interface Obj {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  [key: string]: unknown;
}
interface Rule {
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  verbs: string[];
  nonResourceURLs?: string[];
}
interface Binding extends Obj {
  roleRef: { kind: string; name: string };
  subjects: { kind: string; name: string; namespace?: string }[];
}

function load(dir: string): { file: string; obj: Obj }[] {
  const url = new URL(`deploy/${dir}/`, repo);
  return readdirSync(url)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .flatMap((f) =>
      loadAll(readFileSync(new URL(f, url), 'utf8'))
        .filter((d) => d !== null && d !== undefined)
        .map((d) => ({ file: `${dir}/${f}`, obj: d as Obj })),
    );
}

const rbac = load('rbac');
const manager = load('manager');
const all = [...rbac, ...manager];
const objs = (file: string) => all.filter((d) => d.file === file).map((d) => d.obj);
const roles = rbac.map((d) => d.obj).filter((o) => o.kind === 'Role' || o.kind === 'ClusterRole');
const bindings = rbac.map((d) => d.obj).filter((o): o is Binding => o.kind === 'RoleBinding' || o.kind === 'ClusterRoleBinding');
const rulesOf = (o: Obj) => (o['rules'] ?? []) as Rule[];
const id = (o: Obj) => `${o.kind} ${o.metadata.namespace ?? ''}/${o.metadata.name}`;

/** The rules of every role bound to the ServiceAccount, with the binding's scope. */
function rulesFor(sa: string): { scope: string; rule: Rule }[] {
  return bindings
    .filter((b) => b.subjects.some((s) => s.kind === 'ServiceAccount' && s.name === sa && s.namespace === 'kube-system'))
    .flatMap((b) => {
      const role = roles.find(
        (r) => r.kind === b.roleRef.kind && r.metadata.name === b.roleRef.name && (r.kind === 'ClusterRole' || r.metadata.namespace === b.metadata.namespace),
      );
      if (role === undefined) throw new Error(`${id(b)}: no ${b.roleRef.kind} ${b.roleRef.name}`);
      return rulesOf(role).map((rule) => ({ scope: b.kind === 'ClusterRoleBinding' ? '*cluster*' : (b.metadata.namespace ?? ''), rule }));
    });
}

/** `verb group/resource@scope` for every grant, to compare whole permission sets. */
function grants(sa: string): string[] {
  return rulesFor(sa)
    .flatMap(({ scope, rule }) =>
      (rule.apiGroups ?? []).flatMap((g) =>
        (rule.resources ?? []).flatMap((r) =>
          rule.verbs.map((v) => `${v} ${g === '' ? 'core' : g}/${r}${rule.resourceNames ? `[${rule.resourceNames.join(',')}]` : ''}@${scope}`),
        ),
      ),
    )
    .sort();
}

describe('deploy/ manifests', () => {
  it('parse into objects with apiVersion, kind and name', () => {
    expect(rbac.length).toBeGreaterThanOrEqual(10);
    expect(manager.length).toBe(1);
    for (const { file, obj } of all) {
      expect(obj.apiVersion, file).toBeTypeOf('string');
      expect(obj.kind, file).toBeTypeOf('string');
      expect(obj.metadata.name, `${file} ${obj.kind}`).toMatch(/^[a-z0-9][a-z0-9.-]*$/);
    }
  });

  it('grant no wildcard and nothing on Secrets', () => {
    for (const role of roles) {
      for (const rule of rulesOf(role)) {
        const words = [...rule.verbs, ...(rule.apiGroups ?? []), ...(rule.resources ?? []), ...(rule.resourceNames ?? [])];
        expect(words.filter((w) => w.includes('*')), id(role)).toEqual([]);
        expect(rule.nonResourceURLs, id(role)).toBeUndefined();
        expect(rule.resources?.filter((r) => r.split('/')[0] === 'secrets') ?? [], id(role)).toEqual([]);
        expect(rule.verbs.filter((v) => ['escalate', 'bind', 'impersonate'].includes(v)), id(role)).toEqual([]);
      }
    }
  });

  it('bind every role to a ServiceAccount that exists, and every binding to a role that exists', () => {
    const accounts = new Set(
      rbac.map((d) => d.obj).filter((o) => o.kind === 'ServiceAccount').map((o) => `${o.metadata.namespace}/${o.metadata.name}`),
    );
    expect([...accounts].sort()).toEqual(['kube-system/selfhost', 'kube-system/selfhost-agent']);
    for (const b of bindings) {
      for (const s of b.subjects) expect(accounts.has(`${s.namespace}/${s.name}`), id(b)).toBe(true);
      expect(() => rulesFor(b.subjects[0]?.name ?? ''), id(b)).not.toThrow();
    }
    for (const r of roles) {
      expect(bindings.some((b) => b.roleRef.kind === r.kind && b.roleRef.name === r.metadata.name), id(r)).toBe(true);
    }
  });

  it('give the operator exactly the permissions deploy/README.md lists', () => {
    expect(grants('selfhost')).toEqual(
      [
        ...['get', 'list', 'watch', 'patch', 'update'].map((v) => `${v} selfhost.dev/controlplanes@*cluster*`),
        ...['get', 'patch', 'update'].map((v) => `${v} selfhost.dev/controlplanes/status@*cluster*`),
        ...['get', 'list', 'watch'].map((v) => `${v} core/nodes@*cluster*`),
        ...['daemonsets', 'deployments'].flatMap((r) =>
          ['get', 'list', 'watch', 'create', 'patch', 'update', 'delete'].map((v) => `${v} apps/${r}@kube-system`),
        ),
        ...['get', 'list', 'watch', 'delete'].map((v) => `${v} core/pods@kube-system`),
        ...['get', 'list', 'watch', 'create', 'patch', 'update', 'delete'].map((v) => `${v} core/configmaps@kube-system`),
        ...['get', 'create', 'patch', 'delete'].map((v) => `${v} batch/jobs@kube-system`),
        'create coordination.k8s.io/leases@kube-system',
        ...['get', 'update', 'patch'].map((v) => `${v} coordination.k8s.io/leases[selfhost]@kube-system`),
        ...['create', 'patch'].map((v) => `${v} events.k8s.io/events@default`),
      ].sort(),
    );
    const readme = readFileSync(new URL('deploy/README.md', repo), 'utf8');
    for (const r of ['controlplanes.selfhost.dev', 'controlplanes.selfhost.dev/status', 'nodes', 'daemonsets.apps', 'pods', 'configmaps', 'jobs.batch', 'leases.coordination.k8s.io', 'events.events.k8s.io']) {
      expect(readme).toContain(`\`${r}\``);
    }
  });

  it('give the agent ConfigMaps in kube-system and nothing cluster-wide', () => {
    const agent = objs('rbac/agent.yaml');
    expect(agent.filter((o) => o.kind.startsWith('Cluster'))).toEqual([]);
    expect(agent.filter((o) => o.kind !== 'ServiceAccount').every((o) => o.metadata.namespace === 'kube-system')).toBe(true);
    expect(bindings.filter((b) => b.kind === 'ClusterRoleBinding' && b.subjects.some((s) => s.name === AGENT_SERVICE_ACCOUNT))).toEqual([]);
    expect(grants(AGENT_SERVICE_ACCOUNT)).toEqual(
      ['get', 'list', 'watch', 'create', 'patch'].map((v) => `${v} core/configmaps@kube-system`).sort(),
    );
  });

  it('run the operator from the image make image builds, hardened, with the operator ServiceAccount', () => {
    const deployment = objs('manager/operator.yaml')[0] as Obj;
    expect(deployment.kind).toBe('Deployment');
    expect(deployment.metadata).toMatchObject({ name: 'selfhost-operator', namespace: 'kube-system' });
    const spec = deployment['spec'] as { replicas: number; template: { spec: Record<string, unknown> } };
    expect(spec.replicas).toBe(2);
    const pod = spec.template.spec;
    expect(pod).toMatchObject({
      serviceAccountName: 'selfhost',
      hostNetwork: true,
      priorityClassName: 'system-cluster-critical',
      nodeSelector: { 'node-role.kubernetes.io/control-plane': '' },
      securityContext: { runAsNonRoot: true, runAsUser: 65532, seccompProfile: { type: 'RuntimeDefault' } },
    });
    const tolerated = (pod['tolerations'] as { key: string }[]).map((t) => t.key);
    expect(tolerated).toEqual(expect.arrayContaining(['node-role.kubernetes.io/control-plane', 'node.kubernetes.io/not-ready']));
    const containers = pod['containers'] as Record<string, unknown>[];
    expect(containers).toHaveLength(1);
    const c = containers[0] as Record<string, unknown>;
    expect(c['image']).toBe(IMAGE);
    expect(c['args']).toEqual(['run', `--agent-image=${IMAGE}`, '--metrics-addr=:8080']);
    expect(c['securityContext']).toMatchObject({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    });
    expect(c['livenessProbe']).toMatchObject({ httpGet: { path: '/healthz', port: 8080 } });
    expect(c['readinessProbe']).toMatchObject({ httpGet: { path: '/readyz', port: 8080 } });
  });

  it('name the image the build produces', () => {
    expect(/^SELFHOST_IMAGE := (.*)$/m.exec(readFileSync(new URL('mk/image.mk', repo), 'utf8'))?.[1]).toBe(IMAGE);
    expect(readFileSync(new URL('hack/images/selfhost.sh', repo), 'utf8')).toContain(`name=${IMAGE}\n`);
  });

  it('build the Dockerfile image like the local one: .nvmrc\'s node, user 65532, the same entrypoint', () => {
    const dockerfile = readFileSync(new URL('Dockerfile', repo), 'utf8');
    const nvmrc = readFileSync(new URL('.nvmrc', repo), 'utf8').trim().replace(/^v/, '');
    expect(/^ARG NODE_VERSION=(.*)$/m.exec(dockerfile)?.[1]).toBe(nvmrc);
    expect(dockerfile).toMatch(/^USER 65532:65532$/m);
    expect(dockerfile).toMatch(/^ENTRYPOINT \["node", "\/app\/dist\/cli\/main\.js"\]$/m);
    expect(readFileSync(new URL('hack/images/selfhost.sh', repo), 'utf8')).toContain('Entrypoint: ["node", "/app/dist/cli/main.js"]');
  });

  it('put etcd\'s gate binary where the etcd DaemonSet looks for it, in both builds', () => {
    expect(readFileSync(new URL('Dockerfile', repo), 'utf8')).toContain(`COPY --from=gate /selfhost-gate-exec ${GATE_EXEC_IMAGE_PATH}\n`);
    expect(readFileSync(new URL('hack/images/selfhost.sh', repo), 'utf8')).toContain(`-o "$rootfs${GATE_EXEC_IMAGE_PATH}"`);
  });
});
