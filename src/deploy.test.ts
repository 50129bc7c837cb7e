import { readdirSync, readFileSync, statSync } from 'node:fs';
import { load as loadOne, loadAll } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { CRD_FILE_NAME } from './api/crd-yaml.js';
import { GATE_EXEC_IMAGE_PATH } from './convert/mutators/handover-gate.js';
import { AGENT_SERVICE_ACCOUNT } from './operator/agent-daemonset.js';

// deploy/: the kustomize layout, least-privilege RBAC and the operator's Deployment, budget and
// metrics Service (deploy/README.md explains each). test/integration/rbac.test.ts and
// deploy-kustomize.test.ts check the same files against a real apiserver.

/** The image every manifest names: what `make image` builds (mk/image.mk, hack/images/selfhost.sh). */
const IMAGE = 'localhost/selfhost/selfhost:dev';
const repo = new URL('../', import.meta.url);

interface Obj {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
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

const KUSTOMIZATION = 'kustomization.yaml';

/** The objects of deploy/<dir>/*.yaml (its kustomization.yaml is not an object). */
function load(dir: string): { file: string; obj: Obj }[] {
  const url = new URL(`deploy/${dir}/`, repo);
  return readdirSync(url)
    .filter((f) => f.endsWith('.yaml') && f !== KUSTOMIZATION)
    .sort()
    .flatMap((f) =>
      loadAll(readFileSync(new URL(f, url), 'utf8'))
        .filter((d) => d !== null && d !== undefined)
        .map((d) => ({ file: `${dir}/${f}`, obj: d as Obj })),
    );
}

interface Kustomization {
  apiVersion: string;
  kind: string;
  resources?: string[];
  [key: string]: unknown;
}

function kustomization(dir: string): Kustomization {
  return loadOne(readFileSync(new URL(`deploy/${dir}/${KUSTOMIZATION}`, repo), 'utf8')) as Kustomization;
}

/** The kustomize directories under deploy/ (every directory is one). */
const dirs = readdirSync(new URL('deploy/', repo))
  .filter((d) => statSync(new URL(`deploy/${d}`, repo)).isDirectory())
  .sort();

const rbac = load('rbac');
const manager = load('manager');
const all = [...rbac, ...manager];
const objs = (file: string) => all.filter((d) => d.file === file).map((d) => d.obj);
const roles = rbac.map((d) => d.obj).filter((o) => o.kind === 'Role' || o.kind === 'ClusterRole');
const bindings = rbac.map((d) => d.obj).filter((o): o is Binding => o.kind === 'RoleBinding' || o.kind === 'ClusterRoleBinding');
const rulesOf = (o: Obj) => (o['rules'] ?? []) as Rule[];
const id = (o: Obj) => `${o.kind} ${o.metadata.namespace ?? ''}/${o.metadata.name}`;

/** The one object of `kind` in deploy/manager. */
function only(kind: string): Obj {
  const found = manager.map((d) => d.obj).filter((o) => o.kind === kind);
  if (found.length !== 1) throw new Error(`deploy/manager: ${String(found.length)} objects of kind ${kind}, want 1`);
  return found[0] as Obj;
}
function deploymentSelector(): Record<string, string> {
  return (only('Deployment')['spec'] as { selector: { matchLabels: Record<string, string> } }).selector.matchLabels;
}
/** The operator's one container. */
function container(): Record<string, unknown> {
  const containers = (only('Deployment')['spec'] as { template: { spec: { containers: Record<string, unknown>[] } } }).template.spec.containers;
  if (containers.length !== 1) throw new Error(`the operator Deployment has ${String(containers.length)} containers, want 1`);
  return containers[0] as Record<string, unknown>;
}
/** A memory quantity in Mi or Gi as MiB (the only suffixes these manifests use). */
function mebibytes(q: string): number {
  const m = /^(\d+)(Mi|Gi)$/.exec(q);
  if (m === null) throw new Error(`memory quantity ${q}: want <n>Mi or <n>Gi`);
  return Number(m[1]) * (m[2] === 'Gi' ? 1024 : 1);
}

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
    expect(manager.map((d) => d.obj.kind).sort()).toEqual(['Deployment', 'PodDisruptionBudget', 'Service']);
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
    const deployment = only('Deployment');
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
    const c = container();
    expect(c['image']).toBe(IMAGE);
    expect(c['args']).toEqual(['run', `--agent-image=${IMAGE}`, '--metrics-addr=:8080']);
  });

  it('give the operator container the restricted security context on its own', () => {
    expect(container()['securityContext']).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
  });

  it('probe /healthz and /readyz on the port --metrics-addr binds', () => {
    const c = container();
    const ports = c['ports'] as { name: string; containerPort: number }[];
    expect(ports).toEqual([{ name: 'metrics', containerPort: 8080, protocol: 'TCP' }]);
    const bound = Number(/^--metrics-addr=:(\d+)$/.exec((c['args'] as string[])[2] ?? '')?.[1]);
    const probe = (name: string) => (c[name] as { httpGet: { path: string; port: string | number } }).httpGet;
    for (const [name, path] of [['livenessProbe', '/healthz'], ['readinessProbe', '/readyz']] as const) {
      const { port } = probe(name);
      const resolved = typeof port === 'number' ? port : ports.find((p) => p.name === port)?.containerPort;
      expect({ name, path: probe(name).path, port: resolved }).toEqual({ name, path, port: bound });
    }
  });

  it('request CPU and memory, limit memory and never CPU', () => {
    const resources = container()['resources'] as { requests: Record<string, string>; limits: Record<string, string> };
    expect(resources).toEqual({ requests: { cpu: '50m', memory: '128Mi' }, limits: { memory: '192Mi' } });
    expect(mebibytes(resources.requests['memory'] ?? '')).toBeLessThanOrEqual(mebibytes(resources.limits['memory'] ?? ''));
  });

  it("size V8's heap for the pod: the image's entrypoint with a 1 MiB young generation, the old one capped below the memory limit", () => {
    const command = (container()['command'] ?? []) as string[];
    // The image's entrypoint (node /app/dist/cli/main.js) with node flags between the two.
    expect([command[0], command.at(-1)]).toEqual(['node', '/app/dist/cli/main.js']);
    const flags = command.slice(1, -1);
    expect(flags.every((f) => f.startsWith('--'))).toBe(true);
    expect(flags).toEqual(expect.arrayContaining(['--optimize-for-size', '--max-semi-space-size=1']));
    const options = flags.join(' ');
    const oldSpace = Number(/--max-old-space-size=(\d+)/.exec(options)?.[1]);
    const limits = (container()['resources'] as { limits: Record<string, string> }).limits;
    // Room above the old generation for code, native memory and the binary's pages the cgroup is charged for.
    expect(oldSpace).toBeLessThanOrEqual(mebibytes(limits['memory'] ?? '') - 64);
    expect(oldSpace).toBeGreaterThanOrEqual(64);
  });

  it('budget the operator\'s disruptions by its own pods: one replica at a time, a not-Ready one always', () => {
    const pdb = only('PodDisruptionBudget');
    expect(pdb.apiVersion).toBe('policy/v1');
    expect(pdb.metadata).toMatchObject({ name: 'selfhost-operator', namespace: 'kube-system' });
    expect(pdb['spec']).toEqual({
      maxUnavailable: 1,
      unhealthyPodEvictionPolicy: 'AlwaysAllow',
      selector: { matchLabels: deploymentSelector() },
    });
  });

  it('put a ClusterIP Service named metrics in front of every replica\'s /metrics', () => {
    const svc = only('Service');
    expect(svc.metadata).toMatchObject({ name: 'selfhost-operator-metrics', namespace: 'kube-system' });
    const spec = svc['spec'] as { type: string; selector: Record<string, string>; ports: Record<string, unknown>[] };
    expect(spec.type).toBe('ClusterIP');
    expect(spec.selector).toEqual(deploymentSelector());
    expect(spec.ports).toEqual([{ name: 'metrics', port: 8080, targetPort: 'metrics', protocol: 'TCP' }]);
    const podLabels = (only('Deployment')['spec'] as { template: { metadata: { labels: Record<string, string> } } }).template.metadata.labels;
    expect(podLabels).toMatchObject(spec.selector);
  });

  it('scrape that Service from the ServiceMonitor of deploy/prometheus', () => {
    const monitors = load('prometheus').map((d) => d.obj);
    expect(monitors.map((o) => `${o.apiVersion} ${o.kind}`)).toEqual(['monitoring.coreos.com/v1 ServiceMonitor']);
    const monitor = monitors[0] as Obj;
    const svc = only('Service');
    const svcLabels = svc.metadata.labels;
    const spec = monitor['spec'] as {
      selector: { matchLabels: Record<string, string> };
      namespaceSelector: { matchNames: string[] };
      endpoints: { port: string; path: string }[];
    };
    expect(monitor.metadata.namespace).toBe('kube-system');
    expect(svcLabels).toMatchObject(spec.selector.matchLabels);
    expect(spec.namespaceSelector.matchNames).toEqual([svc.metadata.namespace]);
    expect(spec.endpoints).toMatchObject([{ port: 'metrics', path: '/metrics' }]);
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

describe('deploy/ kustomize layout', () => {
  it('has the directories of kubebuilder\'s config/, each a kustomization', () => {
    expect(dirs).toEqual(['crd', 'default', 'manager', 'prometheus', 'rbac', 'samples']);
    for (const d of dirs) {
      expect(kustomization(d), d).toMatchObject({ apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization' });
    }
  });

  it('lists every manifest of a base directory, so none sits there uninstalled', () => {
    for (const d of ['crd', 'rbac', 'manager', 'samples']) {
      const files = readdirSync(new URL(`deploy/${d}/`, repo)).filter((f) => f.endsWith('.yaml') && f !== KUSTOMIZATION).sort();
      expect([...(kustomization(d).resources ?? [])].sort(), d).toEqual(files);
    }
    expect(kustomization('crd').resources).toEqual([CRD_FILE_NAME]);
  });

  it('composes default from crd, rbac and manager without rewriting them', () => {
    const k = kustomization('default');
    expect(k.resources).toEqual(['../crd', '../rbac', '../manager']);
    // Transformers would move the Events Role out of `default` (namespace) or change the
    // Deployment's immutable selector (commonLabels): every object names its own namespace.
    expect(Object.keys(k).sort()).toEqual(['apiVersion', 'kind', 'resources']);
  });

  it('adds only the ServiceMonitor in the prometheus overlay', () => {
    expect(kustomization('prometheus').resources).toEqual(['../default', 'servicemonitor.yaml']);
  });

  it('names the namespace of every namespaced object: kube-system, and default only for Events', () => {
    const namespaced = all.map((d) => d.obj).filter((o) => !['ClusterRole', 'ClusterRoleBinding', 'CustomResourceDefinition'].includes(o.kind));
    const outside = namespaced.filter((o) => o.metadata.namespace !== 'kube-system').map(id);
    expect(outside.sort()).toEqual(['Role default/selfhost-operator-events', 'RoleBinding default/selfhost-operator-events']);
  });
});
