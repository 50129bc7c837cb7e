/**
 * etcd versions as they appear in practice: `3.6.5` (what etcd reports, spec.etcd.version),
 * `v3.6.5` (etcd's release tags) and `3.6.5-0` (kubeadm's image tags, where `-0` is the image
 * revision, not part of the etcd version). All three map onto the same Version so the planner
 * can compare them with compareVersions.
 */
import type { Version } from '../api/version.js';

const ETCD_VERSION_RE = /^v?(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(?:-(0|[1-9][0-9]*))?$/;

/** Parses an etcd version or kubeadm etcd image tag; undefined for anything else (`TODO`, `3.6`). */
export function parseEtcdVersion(text: string): Version | undefined {
  const m = ETCD_VERSION_RE.exec(text);
  if (!m) return undefined;
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]) };
}

/** `3.6.5`: the form etcd itself reports, used when the planner has to invent an observed value. */
export function formatEtcdVersion(v: Version): string {
  return `${v.major}.${v.minor}.${v.patch}`;
}
