/**
 * Node identity through the downward API, so that one template serves every node.
 */
import type { V1Container, V1EnvVar, V1PodTemplateSpec } from '@kubernetes/client-node';
import { cloneTemplate, mainContainerOf, mainFlagsOf, mapMainContainer, mapMainFlags } from '../container.js';
import type { Flag } from '../flags.js';
import { containsIp, replaceIp } from '../identity.js';
import { refuse } from '../refusal.js';
import type { MutationContext, NodeIdentity, PodContext } from '../types.js';

export const HOST_IP = 'HOST_IP';
export const NODE_NAME = 'NODE_NAME';
const HOST_IP_REF = `$(${HOST_IP})`;
const NODE_NAME_REF = `$(${NODE_NAME})`;

/**
 * The reverse of templating for one node: $(NODE_NAME) and $(HOST_IP) written out as the node's own
 * name and address (a static pod has no downward API). A part left unknown stays templated.
 */
export function fillNodeIdentity(text: string, node: NodeIdentity): string {
  let out = text;
  if (node.name !== undefined) out = out.split(NODE_NAME_REF).join(node.name);
  if (node.ip !== undefined) out = out.split(HOST_IP_REF).join(node.ip);
  return out;
}

/** The downward-API env vars the templated args refer to. */
export const IDENTITY_ENV: readonly V1EnvVar[] = [
  { name: HOST_IP, valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'status.hostIP' } } },
  { name: NODE_NAME, valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'spec.nodeName' } } },
];

/**
 * Flags whose value is this node itself: its IP is templated wherever it appears in them, and
 * (for the name flags) a value equal to the node name becomes $(NODE_NAME). Only these: a node
 * called "kubernetes" must not turn --cluster-name=kubernetes into $(NODE_NAME).
 */
const NODE_ADDRESS_FLAGS: Readonly<Record<string, readonly string[]>> = {
  etcd: [
    'advertise-client-urls',
    'initial-advertise-peer-urls',
    'listen-client-urls',
    'listen-peer-urls',
    'listen-metrics-urls',
  ],
  'kube-apiserver': ['advertise-address', 'bind-address'],
  'kube-controller-manager': ['bind-address'],
  'kube-scheduler': ['bind-address'],
  'kube-proxy': ['bind-address', 'healthz-bind-address', 'metrics-bind-address'],
};
const NODE_NAME_FLAGS: Readonly<Record<string, readonly string[]>> = {
  etcd: ['name'],
  'kube-proxy': ['hostname-override'],
};
/**
 * Flags that list every member: this node's address is one of them, correct from every node,
 * so it stays literal (templating it would make node B's list name B twice and A never).
 */
const MEMBER_LIST_FLAGS: Readonly<Record<string, readonly string[]>> = {
  'kube-apiserver': ['etcd-servers'],
};

/**
 * etcd's `--initial-cluster=a=https://ip-a:2380,b=...`: only this node's entry (by name or by
 * address) is templated; the other members' entries stay literal.
 */
function templateInitialCluster(value: string, node: NodeIdentity): string {
  return value
    .split(',')
    .map((entry) => {
      const eq = entry.indexOf('=');
      const key = eq < 0 ? entry : entry.slice(0, eq);
      const url = eq < 0 ? '' : entry.slice(eq + 1);
      const mine = (node.name !== undefined && key === node.name) || (node.ip !== undefined && containsIp(url, node.ip));
      if (!mine || eq < 0) return entry;
      const name = node.name !== undefined && key === node.name ? NODE_NAME_REF : key;
      return `${name}=${node.ip === undefined ? url : replaceIp(url, node.ip, HOST_IP_REF)}`;
    })
    .join(',');
}

function listed(table: Readonly<Record<string, readonly string[]>>, component: string, flag: string): boolean {
  return table[component]?.includes(flag) ?? false;
}

function templateFlag(flag: Flag, node: NodeIdentity, component: string): Flag {
  const value = flag.value;
  if (value === undefined) return flag;
  if (component === 'etcd' && flag.name === 'initial-cluster') return { name: flag.name, value: templateInitialCluster(value, node) };
  if (listed(NODE_NAME_FLAGS, component, flag.name) && value === node.name) return { name: flag.name, value: NODE_NAME_REF };
  if (node.ip !== undefined && listed(NODE_ADDRESS_FLAGS, component, flag.name)) {
    return { name: flag.name, value: replaceIp(value, node.ip, HOST_IP_REF) };
  }
  return flag;
}

/**
 * Replaces this node's identity in the flags that hold it (see the tables above): its IP by
 * $(HOST_IP), its name by $(NODE_NAME), in etcd's --initial-cluster only its own entry. Every
 * other flag stays as it is (refuseNodeLocalValues checks them once the overrides are in). A
 * `raw` command line (CNI) has no known flags: the IP is replaced in every word.
 */
export function templateNodeIdentity(template: V1PodTemplateSpec, ctx: PodContext): V1PodTemplateSpec {
  const { node } = ctx;
  if (ctx.commandLayout.kind === 'raw') {
    const ip = node.ip;
    if (ip === undefined) return mapMainContainer(template, ctx, (c) => c);
    const swap = (words: string[] | undefined) => words?.map((w) => replaceIp(w, ip, HOST_IP_REF));
    return mapMainContainer(template, ctx, (c) => {
      const command = swap(c.command);
      const args = swap(c.args);
      return { ...c, ...(command === undefined ? {} : { command }), ...(args === undefined ? {} : { args }) };
    });
  }
  return mapMainFlags(template, ctx, (flags) => flags.map((f) => templateFlag(f, node, ctx.component)));
}

function argvOf(container: V1Container): string[] {
  return [...(container.command ?? []), ...(container.args ?? [])];
}

function sameFieldRef(a: V1EnvVar, b: V1EnvVar): boolean {
  return (
    a.value === undefined &&
    a.valueFrom?.fieldRef?.fieldPath === b.valueFrom?.fieldRef?.fieldPath &&
    Object.keys(a.valueFrom ?? {}).length === 1
  );
}

/**
 * Adds HOST_IP (status.hostIP) and NODE_NAME (spec.nodeName) to the main container's env, after
 * the source's own entries, so $(HOST_IP) / $(NODE_NAME) in the args expand on every node. Flag
 * components always get both (an override may refer to them); a raw command line only those it
 * uses. An existing variable of that name with another meaning is refused.
 */
export function addNodeIdentityEnv(template: V1PodTemplateSpec, ctx: PodContext): V1PodTemplateSpec {
  const container = mainContainerOf(template, ctx);
  const env = container.env ?? [];
  const argv = argvOf(container).join(' ');
  const wanted = IDENTITY_ENV.filter(
    (v) => ctx.commandLayout.kind === 'flags' || argv.includes(`$(${v.name})`),
  );
  const added: V1EnvVar[] = [];
  for (const want of wanted) {
    const existing = env.find((e) => e.name === want.name);
    if (existing === undefined) {
      added.push(structuredClone(want));
    } else if (!sameFieldRef(existing, want)) {
      refuse(
        'EnvConflict',
        ctx.manifest,
        `${want.name} is already defined differently; selfhost needs it to be the downward API's ${want.valueFrom?.fieldRef?.fieldPath} to template node identity`,
        { component: ctx.component, field: `container ${ctx.mainContainer} env ${want.name}`, value: JSON.stringify(existing) },
      );
    }
  }
  if (added.length === 0) return mapMainContainer(template, ctx, (c) => c);
  return mapMainContainer(template, ctx, (c) => ({ ...c, env: [...env, ...added] }));
}

/**
 * What is left of this node in the main container once the overrides are in: its IP in a flag
 * that is neither one of the node's own addresses nor a member list (e.g. --external-hostname:
 * this node, or a fixed address?), its IP or name in an env value. A template shared by every
 * node cannot carry them, and guessing is not an option: refused. Flags set through
 * spec.overrides.<component>.extraArgs are the user's and are taken as meant.
 */
export function refuseNodeLocalValues(template: V1PodTemplateSpec, ctx: MutationContext): V1PodTemplateSpec {
  const { ip, name } = ctx.node;
  const { component } = ctx;
  const userFlags = new Set((ctx.spec.overrides?.[component]?.extraArgs ?? []).map((a) => a.name.replace(/^-+/, '')));
  for (const flag of mainFlagsOf(template, ctx)) {
    const value = flag.value;
    if (ip === undefined || value === undefined || !containsIp(value, ip) || userFlags.has(flag.name)) continue;
    if (listed(MEMBER_LIST_FLAGS, component, flag.name)) continue;
    refuse(
      'NodeLocalValue',
      ctx.manifest,
      `--${flag.name} holds this node's IP ${ip}; selfhost cannot tell whether it means each node itself or this one fixed address. Set it with spec.overrides.${component}.extraArgs (to $(HOST_IP) for "each node")`,
      { component, field: `--${flag.name}`, value },
    );
  }
  for (const e of mainContainerOf(template, ctx).env ?? []) {
    const value = e.value;
    if (value === undefined) continue;
    const what =
      ip !== undefined && containsIp(value, ip) ? `IP ${ip}` : name !== undefined && value === name ? `name ${name}` : undefined;
    if (what === undefined) continue;
    refuse(
      'NodeLocalValue',
      ctx.manifest,
      `env ${e.name} holds this node's ${what}; a template shared by every node cannot carry it (use the downward API: status.hostIP / spec.nodeName)`,
      { component, field: `container ${ctx.mainContainer} env ${e.name}`, value },
    );
  }
  return cloneTemplate(template);
}
