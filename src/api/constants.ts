/**
 * Labels and annotations selfhost writes. They are part of the contract between the operator,
 * the node agent and users (kubectl selectors), so they are named once here.
 */
const DOMAIN = 'selfhost.dev';

/** Field manager for every server-side apply selfhost makes. */
export const FIELD_MANAGER = 'selfhost';

export const LABEL_MANAGED_BY = 'app.kubernetes.io/managed-by';
export const MANAGED_BY_VALUE = 'selfhost';
/** Selector label of every self-hosted workload and its pods: the component name. */
export const LABEL_COMPONENT = `${DOMAIN}/component`;
/** On a checkpoint's static pod (and so its mirror pod): the component it is the checkpoint of. */
export const LABEL_CHECKPOINT_OF = `${DOMAIN}/checkpoint-of`;
/** Kubernetes version (or CNI image tag) the pod template runs; informational. */
export const LABEL_VERSION = `${DOMAIN}/version`;

/** sha256 of the normalised source static pod the workload was converted from. */
export const ANNOTATION_SOURCE_HASH = `${DOMAIN}/source-hash`;
/** Path of the static manifest this workload replaces on each node (agent contract). */
export const ANNOTATION_SOURCE_MANIFEST = `${DOMAIN}/source-manifest`;
/** sha256 of the desired pod template; changes exactly when the template changes. */
export const ANNOTATION_TEMPLATE_HASH = `${DOMAIN}/template-hash`;
/**
 * On a pod template: the node agent may keep a last-known-good checkpoint of this pod as an
 * inactive static manifest and activate it while no self-hosted instance runs (reboot survival).
 */
export const ANNOTATION_CHECKPOINT = `${DOMAIN}/checkpoint`;

export const STATIC_MANIFEST_DIR = '/etc/kubernetes/manifests';
export const CONTROL_PLANE_NODE_LABEL = 'node-role.kubernetes.io/control-plane';
export const SYSTEM_NAMESPACE = 'kube-system';

/**
 * Name of the one ControlPlane object the operator acts on (the API is cluster-scoped and a cluster
 * has one control plane). Other names are valid objects; the operator reports and ignores them.
 */
export const CONTROL_PLANE_NAME = 'cluster';
