/**
 * Image references and the versions they carry.
 */
import type { Version } from '../api/version.js';

export interface ImageRef {
  /** Everything before the tag/digest: `registry.k8s.io/kube-apiserver`. */
  readonly repository: string;
  readonly tag?: string;
  readonly digest?: string;
}

/** Splits `repo[:port]/path:tag@digest`; a colon only starts a tag after the last slash. */
export function parseImageRef(image: string): ImageRef {
  const at = image.indexOf('@');
  const digest = at < 0 ? undefined : image.slice(at + 1);
  const name = at < 0 ? image : image.slice(0, at);
  const colon = name.lastIndexOf(':');
  const hasTag = colon > name.lastIndexOf('/');
  const repository = hasTag ? name.slice(0, colon) : name;
  const tag = hasTag ? name.slice(colon + 1) : undefined;
  return { repository, ...(tag === undefined ? {} : { tag }), ...(digest === undefined ? {} : { digest }) };
}

/**
 * The Kubernetes version in an image tag: `v1.35.5`, also with a build suffix (`v1.35.5-corp.1`),
 * since only the minor matters for flag changes.
 */
export function kubernetesVersionOfImage(image: string): Version | undefined {
  const tag = parseImageRef(image).tag;
  const m = tag === undefined ? null : /^v(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(?:[-+].*)?$/.exec(tag);
  return m ? { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]) } : undefined;
}

/** etcd version or kubeadm etcd image tag (`3.6.5`, `v3.6.5`, `3.6.5-0`) as comparable numbers. */
export function parseEtcdTag(text: string): readonly [number, number, number, number] | undefined {
  const m = /^v?(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(?:-(0|[1-9][0-9]*))?$/.exec(text);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4] ?? 0)] : undefined;
}

export function compareEtcdTags(
  a: readonly [number, number, number, number],
  b: readonly [number, number, number, number],
): number {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2] || a[3] - b[3];
}

/** kubeadm tags etcd images `<version>-<revision>`; a bare version gets revision 0. */
export function etcdImageTagFor(version: string): string {
  const bare = version.startsWith('v') ? version.slice(1) : version;
  return /-[0-9]+$/.test(bare) ? bare : `${bare}-0`;
}
