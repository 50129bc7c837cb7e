/**
 * The Kubernetes version a node's static control plane runs, read from its kube-apiserver
 * manifest's image tag. The pivot converts at this version (an upgrade is a separate operation),
 * and `selfhost render` takes it as the target when none is given, so both read it here.
 *
 * When it cannot be read the answer says why, naming the manifest and the value: "no
 * kube-apiserver manifest" is only said when there is none.
 */
import { formatVersion } from '../api/version.js';
import { kubernetesVersionOfImage } from './images.js';
import { parseStaticPod, type ManifestSource } from './parse.js';
import { formatRefusal } from './refusal.js';

export type RunningVersion =
  | { readonly ok: true; readonly version: string; readonly manifest: string }
  | { readonly ok: false; readonly reason: string };

export function readRunningVersion(manifests: readonly ManifestSource[]): RunningVersion {
  const parsed = manifests.map(parseStaticPod);
  const pods = parsed.flatMap((p) => (p.ok && p.pod.component === 'kube-apiserver' ? [p.pod] : []));
  const refused = parsed.flatMap((p) => (!p.ok && p.refusal.component === 'kube-apiserver' ? [p.refusal] : []));
  const [pod, second] = pods;
  if (pod !== undefined && second !== undefined) {
    return { ok: false, reason: `${pods.map((p) => p.path).join(', ')} all run kube-apiserver; the kubelet runs every file, so remove the extra one` };
  }
  if (pod !== undefined) {
    const image = pod.template.spec?.containers[pod.mainIndex]?.image ?? '';
    const version = kubernetesVersionOfImage(image);
    if (version !== undefined) return { ok: true, version: formatVersion(version), manifest: pod.path };
    return {
      ok: false,
      reason: `${pod.path} runs kube-apiserver image ${JSON.stringify(image)}, whose tag is not a Kubernetes version (allowed: vMAJOR.MINOR.PATCH, e.g. v1.37.2)`,
    };
  }
  const [first] = refused;
  if (first !== undefined) return { ok: false, reason: `the kube-apiserver manifest is refused: ${formatRefusal(first)}` };
  return { ok: false, reason: 'no manifest runs kube-apiserver' };
}
