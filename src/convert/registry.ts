/**
 * Which registry a component's image comes from. kubeadm names images
 * `<imageRepository>/<component>:<tag>`; a cluster on a mirror (or air-gapped) runs them from its
 * own registry, and moving it to another one is something only the user may ask for
 * (spec.imageRepository). So by default each component keeps the registry its image is pulled
 * from today.
 */
import { parseImageRef } from './images.js';

/** kubeadm's default, for an image that names no registry path at all (empty image). */
export const KUBEADM_IMAGE_REPOSITORY = 'registry.k8s.io';

/**
 * The prefix to put before `<component>:<tag>`: `<spec.imageRepository>/` when set, else the
 * current image's repository without its last path element (`mirror.example/k8s/kube-apiserver`
 * → `mirror.example/k8s/`). An image without a path (`kube-apiserver:v1.37.2`) keeps having none.
 */
export function effectiveImageRepository(specRepository: string | undefined, current: string): string {
  if (specRepository !== undefined) return `${specRepository}/`;
  if (current === '') return `${KUBEADM_IMAGE_REPOSITORY}/`;
  const repository = parseImageRef(current).repository;
  return repository.slice(0, repository.lastIndexOf('/') + 1);
}
