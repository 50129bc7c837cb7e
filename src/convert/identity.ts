/**
 * Node identity: which node a set of manifests came from (its name and IP), learned from the
 * manifests and checked against what the caller knows.
 *
 * kubeadm writes the node's IP into etcd's URLs and the apiserver's advertise address, and the
 * node name as etcd's member name. A self-hosted template replaces them with $(HOST_IP) and
 * $(NODE_NAME) from the downward API; that is only right when the manifest's address *is* the
 * address the kubelet reports (status.hostIP). A disagreement is refused, never papered over.
 */
import { isIP } from 'node:net';
import type { ComponentName } from '../api/types.js';
import { flagValues } from './flags.js';
import { makeRefusal, type Refusal } from './refusal.js';
import type { NodeIdentity, StaticPod } from './types.js';

export const ANNOTATION_KUBEADM_ETCD_CLIENT_URLS = 'kubeadm.kubernetes.io/etcd.advertise-client-urls';
export const ANNOTATION_KUBEADM_APISERVER_ENDPOINT = 'kubeadm.kubernetes.io/kube-apiserver.advertise-address.endpoint';

/** What one field of one manifest says about the node. */
export interface IdentityClaim {
  readonly kind: 'ip' | 'name';
  readonly value: string;
  readonly manifest: string;
  readonly component: ComponentName;
  readonly field: string;
}

/** True for a value already expressed through the downward API (or any $(VAR) reference). */
export function isTemplated(value: string): boolean {
  return value.includes('$(');
}

/** An address that can stand for the node: an IP literal that is neither loopback nor "any". */
export function isNodeAddress(text: string): boolean {
  if (isIP(text) === 0) return false;
  if (text.startsWith('127.') || text === '0.0.0.0') return false;
  const v6 = text.toLowerCase();
  return v6 !== '::1' && v6 !== '::' && v6 !== '0:0:0:0:0:0:0:1' && v6 !== '0:0:0:0:0:0:0:0';
}

function unbracket(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

export function hostOfUrl(url: string): string | undefined {
  try {
    return unbracket(new URL(url).hostname);
  } catch {
    return undefined;
  }
}

/** `192.0.2.10:6443` / `[fd00::1]:6443` → the host. */
export function hostOfEndpoint(endpoint: string): string {
  if (endpoint.startsWith('[')) {
    const close = endpoint.indexOf(']');
    return close < 0 ? endpoint : endpoint.slice(1, close);
  }
  const colon = endpoint.lastIndexOf(':');
  return colon < 0 || endpoint.indexOf(':') !== colon ? endpoint : endpoint.slice(0, colon);
}

/** Everything a parsed manifest says about its node. Only etcd and the apiserver say anything. */
export function learnNodeIdentity(pod: StaticPod): IdentityClaim[] {
  const claims: IdentityClaim[] = [];
  const annotations = pod.pod.metadata?.annotations ?? {};
  const add = (kind: IdentityClaim['kind'], value: string | undefined, field: string): void => {
    if (value === undefined || isTemplated(value)) return;
    if (kind === 'ip' && !isNodeAddress(value)) return;
    claims.push({ kind, value, manifest: pod.path, component: pod.component, field });
  };
  const urlFlag = (name: string): void => {
    for (const v of flagValues(pod.flags, name)) {
      for (const url of (v ?? '').split(',')) add('ip', hostOfUrl(url.trim()), `--${name}`);
    }
  };
  if (pod.component === 'etcd') {
    const urls = annotations[ANNOTATION_KUBEADM_ETCD_CLIENT_URLS];
    for (const url of urls?.split(',') ?? []) {
      add('ip', hostOfUrl(url.trim()), `metadata.annotations[${ANNOTATION_KUBEADM_ETCD_CLIENT_URLS}]`);
    }
    urlFlag('advertise-client-urls');
    urlFlag('initial-advertise-peer-urls');
    for (const v of flagValues(pod.flags, 'name')) add('name', v, '--name');
  }
  if (pod.component === 'kube-apiserver') {
    const endpoint = annotations[ANNOTATION_KUBEADM_APISERVER_ENDPOINT];
    if (endpoint !== undefined) {
      add('ip', hostOfEndpoint(endpoint), `metadata.annotations[${ANNOTATION_KUBEADM_APISERVER_ENDPOINT}]`);
    }
    for (const v of flagValues(pod.flags, 'advertise-address')) add('ip', v, '--advertise-address');
  }
  return claims;
}

/**
 * Offline (no Node object to ask), etcd's --name is the only word on the node's name: kubeadm
 * names the member after the node and lists it so in --initial-cluster at this member's peer URL.
 * When --initial-cluster gives that entry another name, --name is not evidence of the node's name
 * (a member named on its own), and templating it as $(NODE_NAME) would be a guess: refused, and
 * the name is not learned from it.
 */
export function checkOfflineMemberName(pod: StaticPod): Refusal | undefined {
  if (pod.component !== 'etcd') return undefined;
  const [name] = flagValues(pod.flags, 'name');
  const peers = new Set(flagValues(pod.flags, 'initial-advertise-peer-urls').flatMap((v) => (v ?? '').split(',').map((u) => u.trim())));
  const entries = flagValues(pod.flags, 'initial-cluster').flatMap((v) => (v ?? '').split(','));
  const mine = entries.map((e) => e.trim().split('=')).find(([, url]) => url !== undefined && peers.has(url));
  const listed = mine?.[0];
  if (name === undefined || listed === undefined || name === listed || isTemplated(name)) return undefined;
  return makeRefusal(
    'IdentityConflict',
    pod.path,
    `--name says the member is ${name} but --initial-cluster lists this member (${mine?.[1] ?? ''}) as ${listed}; selfhost templates the member name as $(NODE_NAME), which is only right when it is the node's name, and offline nothing says that it is; allowed: a member name equal to the node's name (selfhost render: --node-name says what the node is called)`,
    { component: 'etcd', field: '--name', value: name },
  );
}

export interface ResolvedIdentity {
  readonly node: NodeIdentity;
  /** One refusal per claim that disagrees with the chosen identity. */
  readonly conflicts: readonly Refusal[];
}

/** The apiserver speaks for the node first (its advertise address is the node's endpoint). */
const CLAIM_PRIORITY: readonly ComponentName[] = ['kube-apiserver', 'etcd'];

/**
 * The caller's identity wins (it comes from the Node object); otherwise the first claim does.
 * Every claim that disagrees becomes a refusal for its component.
 */
export function resolveNodeIdentity(caller: NodeIdentity | undefined, claims: readonly IdentityClaim[]): ResolvedIdentity {
  const ordered = [...claims].sort(
    (a, b) => CLAIM_PRIORITY.indexOf(a.component) - CLAIM_PRIORITY.indexOf(b.component),
  );
  const conflicts: Refusal[] = [];
  const pick = (kind: IdentityClaim['kind'], given: string | undefined): string | undefined => {
    const ofKind = ordered.filter((c) => c.kind === kind);
    const first = ofKind[0];
    const chosen = given ?? first?.value;
    const origin =
      given === undefined
        ? `${first?.manifest} ${first?.field}`
        : kind === 'ip'
          ? 'the caller (the Node object)'
          : 'the caller: the Node object, or selfhost render --node-name';
    for (const claim of ofKind) {
      if (claim.value === chosen) continue;
      const reason =
        kind === 'ip'
          ? `this node's IP is ${chosen} (from ${origin}) but ${claim.field} says ${claim.value}; templating it as $(HOST_IP) would change it to ${chosen}`
          : `this node is named ${chosen} (from ${origin}) but ${claim.field} says ${claim.value}; selfhost runs etcd with --name=$(NODE_NAME) so that one template serves every control-plane node, which would rename this member to ${chosen}; allowed: a member name equal to the node's name`;
      conflicts.push(makeRefusal('IdentityConflict', claim.manifest, reason, { component: claim.component, field: claim.field, value: claim.value }));
    }
    return chosen;
  };
  const ip = pick('ip', caller?.ip);
  const name = pick('name', caller?.name);
  return {
    node: { ...(name === undefined ? {} : { name }), ...(ip === undefined ? {} : { ip }) },
    conflicts,
  };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Matches `ip` as a whole address: `192.0.2.1` must not match inside `192.0.2.10` or
 * `10.192.0.2.1`; an IPv6 address must not match inside a longer one.
 */
function ipPattern(ip: string): RegExp {
  const body = escapeRegExp(ip);
  return ip.includes(':')
    ? new RegExp(`(?<![0-9A-Fa-f:.])${body}(?![0-9A-Fa-f:.])`, 'g')
    : new RegExp(`(?<![0-9.])${body}(?!\\.?[0-9])`, 'g');
}

export function replaceIp(text: string, ip: string, replacement: string): string {
  return text.replace(ipPattern(ip), () => replacement);
}

export function containsIp(text: string, ip: string): boolean {
  return ipPattern(ip).test(text);
}
