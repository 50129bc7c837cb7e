/**
 * Issue 13's cases: the kubeadm v1.37.2 fixture (FX) changed the way static-pod directories of
 * real clusters differ from it, with what `selfhost render` must answer. The render tests check
 * these answers exactly; the operator tests check that the pivot's conversion gives the same.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ComponentName } from '../../api/types.js';
import { MANIFEST_DIR, TESTDATA } from './helpers.js';

export type Files = Readonly<Record<string, string>>;

export const DIR = MANIFEST_DIR;

/** FX: kubeadm v1.37.2's static pods as files under DIR. */
export function fx(): Files {
  const src = join(TESTDATA, 'kubeadm', 'v1.37.2', 'manifests');
  return Object.fromEntries(readdirSync(src).sort().map((f) => [`${DIR}/${f}`, readFileSync(join(src, f), 'utf8')]));
}

/** `files` with `from` replaced by `to` in DIR/name (every occurrence); the edit must change something. */
export function edit(files: Files, name: string, from: string, to: string): Files {
  const path = `${DIR}/${name}`;
  const before = files[path];
  if (before === undefined || !before.includes(from)) throw new Error(`${path}: nothing to replace: ${from}`);
  return { ...files, [path]: before.replaceAll(from, to) };
}

export function add(files: Files, name: string, content: string): Files {
  return { ...files, [`${DIR}/${name}`]: content };
}

export function without(files: Files, name: string): Files {
  return Object.fromEntries(Object.entries(files).filter(([p]) => p !== `${DIR}/${name}`));
}

const KUBE = ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler'] as const;

/** Every kube-* image tag of FX set to `tag`. */
function kubeTags(tag: string): Files {
  return KUBE.reduce((files, c) => edit(files, `${c}.yaml`, `${c}:v1.37.2`, `${c}:${tag}`), fx());
}

/** A static kube-proxy (as a worker or an old cluster runs it) at `version`, on node cp1. */
function staticProxy(version: string): string {
  return readFileSync(join(TESTDATA, 'handwritten', 'kube-proxy-static.yaml'), 'utf8')
    .replace('kube-proxy:v1.35.5', `kube-proxy:${version}`)
    .replace('--hostname-override=worker-7', '--hostname-override=cp1');
}

/** FX's kube-scheduler.yaml as a second scheduler: relabelled, own pod and container names. */
function secondScheduler(): string {
  const scheduler = fx()[`${DIR}/kube-scheduler.yaml`] ?? '';
  return scheduler
    .replace('component: kube-scheduler', 'component: my-scheduler')
    .replace('  name: kube-scheduler\n  namespace', '  name: my-scheduler\n  namespace')
    .replace('    name: kube-scheduler\n', '    name: my-scheduler\n');
}

const FX_IMAGES = [
  'registry.k8s.io/etcd:3.7.0-0',
  'registry.k8s.io/kube-apiserver:v1.37.2',
  'registry.k8s.io/kube-controller-manager:v1.37.2',
  'registry.k8s.io/kube-scheduler:v1.37.2',
];
const MIRROR = 'registry.example.internal/google_containers';

export interface RealClusterCase {
  readonly name: string;
  readonly files: Files;
  /** ControlPlane spec fields besides the version (render's -f file, the operator's object). */
  readonly spec?: { readonly components?: readonly ComponentName[]; readonly imageRepository?: string };
  /** render's arguments after `--manifests DIR` (`-f` is added when spec is set). */
  readonly argv: readonly string[];
  readonly exit: 0 | 1;
  /** render's stderr, line by line, exactly. */
  readonly stderr: readonly string[];
  /** Sorted images of the main containers render prints. */
  readonly images: readonly string[];
}

const UPGRADE_TO_135 = 'upgrade the cluster with kubeadm into the supported range first, one minor at a time: kubeadm upgrade apply v1.35.x';
const unsupported134 = (c: string) =>
  `refused: ${DIR}/${c}.yaml: spec.containers[0].image: ${c} runs v1.34.1, and selfhost has release data for v1.35–v1.37 only; ${UPGRADE_TO_135} (value "registry.k8s.io/${c}:v1.34.1") [UnsupportedVersion]`;
const ETCD_134 = `refused: ${DIR}/etcd.yaml: spec.containers[0].image: etcd belongs to Kubernetes v1.34.1 (the kube-apiserver's version), and selfhost has release data for v1.35–v1.37 only; ${UPGRADE_TO_135} (value "registry.k8s.io/etcd:3.7.0-0") [UnsupportedVersion]`;
const UPGRADE_TO_135_FROM_132 = 'upgrade the cluster with kubeadm into the supported range first, one minor at a time: kubeadm upgrade apply v1.33.x, then v1.34.x, then v1.35.x';

export const REAL_CLUSTER_CASES: readonly RealClusterCase[] = [
  {
    name: '1. a static kube-proxy 22 minors behind its apiserver is refused by the skew policy',
    files: add(fx(), 'kube-proxy.yaml', staticProxy('v1.15.4')),
    spec: { components: ['kube-proxy'] },
    argv: [],
    exit: 1,
    stderr: [
      `refused: ${DIR}/kube-proxy.yaml: spec.containers[0].image: kube-proxy runs v1.15.4, 22 minors older than kube-apiserver v1.37.2; allowed: not newer than kube-apiserver and at most 3 minors older (Kubernetes version skew policy); bring kube-proxy into that range first (kubeadm's DaemonSet: kubeadm init phase addon kube-proxy) (value "registry.k8s.io/kube-proxy:v1.15.4") [UnsupportedVersion]`,
    ],
    images: [],
  },
  {
    name: '1. a static kube-proxy newer than its apiserver is refused',
    files: add(fx(), 'kube-proxy.yaml', staticProxy('v1.38.0')),
    spec: { components: ['kube-proxy'] },
    argv: [],
    exit: 1,
    stderr: [
      `refused: ${DIR}/kube-proxy.yaml: spec.containers[0].image: kube-proxy runs v1.38.0, 1 minor newer than kube-apiserver v1.37.2; allowed: not newer than kube-apiserver and at most 3 minors older (Kubernetes version skew policy); bring kube-proxy into that range first (kubeadm's DaemonSet: kubeadm init phase addon kube-proxy) (value "registry.k8s.io/kube-proxy:v1.38.0") [UnsupportedVersion]`,
    ],
    images: [],
  },
  {
    name: '1. a static kube-proxy two minors behind, in the table, moves to its apiserver’s version',
    files: add(fx(), 'kube-proxy.yaml', staticProxy('v1.35.5')),
    spec: { components: ['kube-proxy'] },
    argv: [],
    exit: 0,
    stderr: [],
    images: ['registry.k8s.io/kube-proxy:v1.37.2'],
  },
  {
    name: '2. a source minor outside the release table, no --version',
    files: kubeTags('v1.34.1'),
    argv: [],
    exit: 1,
    stderr: [ETCD_134, ...KUBE.map(unsupported134)],
    images: [],
  },
  {
    name: '2. a source minor outside the release table, --version v1.37.2: the same refusal',
    files: kubeTags('v1.34.1'),
    argv: ['--version', 'v1.37.2'],
    exit: 1,
    stderr: [ETCD_134, ...KUBE.map(unsupported134)],
    images: [],
  },
  {
    name: '2. older than v1.35: the refusal lists the kubeadm upgrades into the supported range',
    files: kubeTags('v1.32.4'),
    argv: [],
    exit: 1,
    stderr: [
      `refused: ${DIR}/etcd.yaml: spec.containers[0].image: etcd belongs to Kubernetes v1.32.4 (the kube-apiserver's version), and selfhost has release data for v1.35–v1.37 only; ${UPGRADE_TO_135_FROM_132} (value "registry.k8s.io/etcd:3.7.0-0") [UnsupportedVersion]`,
      ...KUBE.map(
        (c) =>
          `refused: ${DIR}/${c}.yaml: spec.containers[0].image: ${c} runs v1.32.4, and selfhost has release data for v1.35–v1.37 only; ${UPGRADE_TO_135_FROM_132} (value "registry.k8s.io/${c}:v1.32.4") [UnsupportedVersion]`,
      ),
    ],
    images: [],
  },
  {
    name: '2. two minors in one go (v1.35.5 → v1.37.2) breaks the one-minor rule',
    files: kubeTags('v1.35.5'),
    argv: ['--version', 'v1.37.2'],
    exit: 1,
    stderr: [
      `refused: ${DIR}/etcd.yaml: spec.version: moving etcd (with Kubernetes v1.35.5) to v1.37.2 crosses 2 minors; allowed: the running minor or the one next to it, one minor at a time (first v1.36.x) (value "v1.37.2") [UnsupportedVersion]`,
      ...KUBE.map(
        (c) =>
          `refused: ${DIR}/${c}.yaml: spec.version: moving ${c} v1.35.5 to v1.37.2 crosses 2 minors; allowed: the running minor or the one next to it, one minor at a time (first v1.36.x) (value "v1.37.2") [UnsupportedVersion]`,
      ),
    ],
    images: [],
  },
  {
    name: '3. a second scheduler is another component: left alone and reported, the real one converts',
    files: add(fx(), 'my-scheduler.yaml', secondScheduler()),
    argv: [],
    exit: 0,
    stderr: [`ignored: ${DIR}/my-scheduler.yaml: not one of selfhost's components (metadata.labels.component is "my-scheduler"); left as a static pod`],
    images: FX_IMAGES,
  },
  {
    name: '4. images on a mirror stay on the mirror',
    files: Object.fromEntries(Object.entries(fx()).map(([p, c]) => [p, c.replaceAll('registry.k8s.io/', `${MIRROR}/`)])),
    argv: [],
    exit: 0,
    stderr: [],
    images: FX_IMAGES.map((i) => i.replace('registry.k8s.io', MIRROR)),
  },
  {
    name: '4. a registry move is what spec.imageRepository asks for',
    files: Object.fromEntries(Object.entries(fx()).map(([p, c]) => [p, c.replaceAll('registry.k8s.io/', `${MIRROR}/`)])),
    spec: { imageRepository: 'registry.k8s.io' },
    argv: [],
    exit: 0,
    stderr: [],
    images: FX_IMAGES,
  },
  {
    name: '5. an apiserver tag that is not a version: said so, when no version is given',
    files: edit(fx(), 'kube-apiserver.yaml', 'kube-apiserver:v1.37.2', 'kube-apiserver:1.37'),
    argv: [],
    exit: 1,
    stderr: [
      `no target version (it is read from the kube-apiserver manifest in ${DIR}): ${DIR}/kube-apiserver.yaml runs kube-apiserver image "registry.k8s.io/kube-apiserver:1.37", whose tag is not a Kubernetes version (allowed: vMAJOR.MINOR.PATCH, e.g. v1.37.2); pass --version vX.Y.Z or -f with spec.version`,
    ],
    images: [],
  },
  {
    name: '5. an apiserver tag that is not a version, with --version: the apiserver is refused for it',
    files: edit(fx(), 'kube-apiserver.yaml', 'kube-apiserver:v1.37.2', 'kube-apiserver:1.37'),
    argv: ['--version', 'v1.37.2'],
    exit: 1,
    stderr: [
      `refused: ${DIR}/kube-apiserver.yaml: spec.containers[0].image: cannot tell which Kubernetes version kube-apiserver runs: its image tag "1.37" is not a Kubernetes version (allowed: vMAJOR.MINOR.PATCH, e.g. v1.37.2), so whether moving it to v1.37.2 is allowed, and which flag changes it needs, is unknown (value "registry.k8s.io/kube-apiserver:1.37") [UnknownSourceVersion]`,
    ],
    images: FX_IMAGES.filter((i) => !i.includes('kube-apiserver')),
  },
  {
    name: '5. an apiserver manifest that is not YAML: its refusal is the reason',
    files: add(fx(), 'kube-apiserver.yaml', 'apiVersion: v1\nkind: Pod\nspec: [\n'),
    argv: [],
    exit: 1,
    stderr: [
      `no target version (it is read from the kube-apiserver manifest in ${DIR}): the kube-apiserver manifest is refused: ${DIR}/kube-apiserver.yaml: not valid YAML or JSON: deficient indentation in "${DIR}/kube-apiserver.yaml" (4:1)\n\n 1 | apiVersion: v1\n 2 | kind: Pod\n 3 | spec: [\n 4 | \n-----^ [InvalidYaml]; pass --version vX.Y.Z or -f with spec.version`,
    ],
    images: [],
  },
  {
    name: '5. an apiserver run through a wrapper: its refusal is the reason',
    files: edit(fx(), 'kube-apiserver.yaml', '    - kube-apiserver\n', '    - /usr/local/bin/start-apiserver.sh\n'),
    argv: [],
    exit: 1,
    stderr: [
      `no target version (it is read from the kube-apiserver manifest in ${DIR}): the kube-apiserver manifest is refused: ${DIR}/kube-apiserver.yaml: spec.containers[0].command[0]: the container runs start-apiserver.sh, not the kube-apiserver binary; selfhost edits kube-apiserver's flags and cannot do that through a wrapper (value "/usr/local/bin/start-apiserver.sh") [UnsafeCommand]; pass --version vX.Y.Z or -f with spec.version`,
    ],
    images: [],
  },
  {
    name: '6. a scheduler refused at parse time is reported once, not also as missing',
    files: edit(fx(), 'kube-scheduler.yaml', '    name: kube-scheduler\n', ''),
    argv: [],
    exit: 1,
    stderr: [`refused: ${DIR}/kube-scheduler.yaml: spec.containers[0].name: every container needs a name (a string) (value "null") [NotAPod]`],
    images: FX_IMAGES.filter((i) => !i.includes('kube-scheduler')),
  },
  {
    name: '7. an etcd member name that is not the node’s (the Node object says cp1) is refused',
    files: edit(fx(), 'etcd.yaml', '--name=cp1', '--name=etcd-a'),
    argv: ['--node-name', 'cp1'],
    exit: 1,
    stderr: [
      `refused: ${DIR}/etcd.yaml: --name: this node is named cp1 (from the caller: the Node object, or selfhost render --node-name) but --name says etcd-a; selfhost runs etcd with --name=$(NODE_NAME) so that one template serves every control-plane node, which would rename this member to cp1; allowed: a member name equal to the node's name (value "etcd-a") [IdentityConflict]`,
    ],
    images: FX_IMAGES.filter((i) => !i.includes('etcd')),
  },
  {
    name: '7. offline, an etcd member name its own --initial-cluster contradicts is not taken for the node’s name',
    files: edit(fx(), 'etcd.yaml', '--name=cp1', '--name=etcd-a'),
    argv: [],
    exit: 1,
    stderr: [
      `refused: ${DIR}/etcd.yaml: --name: --name says the member is etcd-a but --initial-cluster lists this member (https://192.0.2.10:2380) as cp1; selfhost templates the member name as $(NODE_NAME), which is only right when it is the node's name, and offline nothing says that it is; allowed: a member name equal to the node's name (selfhost render: --node-name says what the node is called) (value "etcd-a") [IdentityConflict]`,
    ],
    images: FX_IMAGES.filter((i) => !i.includes('etcd')),
  },
  {
    name: '8. an etcd of unknown version is refused, naming the tag',
    files: edit(fx(), 'etcd.yaml', 'etcd:3.7.0-0', 'etcd:latest'),
    argv: [],
    exit: 1,
    stderr: [
      `refused: ${DIR}/etcd.yaml: spec.containers[0].image: cannot tell which etcd version runs: its image tag "latest" is not an etcd version (allowed: an etcd version MAJOR.MINOR.PATCH, optionally with kubeadm's -N revision, e.g. 3.7.0-0), so moving it to the etcd paired with v1.37.2 could be a downgrade or skip an etcd minor; set the manifest's image to the etcd version that runs (value "registry.k8s.io/etcd:latest") [UnknownSourceVersion]`,
    ],
    images: FX_IMAGES.filter((i) => !i.includes('etcd')),
  },
  {
    name: '8. the same with -f and components: [etcd]: the same etcd refusal',
    files: edit(fx(), 'etcd.yaml', 'etcd:3.7.0-0', 'etcd:latest'),
    spec: { components: ['etcd'] },
    argv: [],
    exit: 1,
    stderr: [
      `refused: ${DIR}/etcd.yaml: spec.containers[0].image: cannot tell which etcd version runs: its image tag "latest" is not an etcd version (allowed: an etcd version MAJOR.MINOR.PATCH, optionally with kubeadm's -N revision, e.g. 3.7.0-0), so moving it to the etcd paired with v1.37.2 could be a downgrade or skip an etcd minor; set the manifest's image to the etcd version that runs (value "registry.k8s.io/etcd:latest") [UnknownSourceVersion]`,
    ],
    images: [],
  },
  {
    name: '8. a missing manifest names the directory and the way to leave the component out',
    files: without(fx(), 'kube-scheduler.yaml'),
    argv: [],
    exit: 1,
    stderr: [
      `refused: ${DIR}: spec.components: spec.components lists kube-scheduler but no manifest in ${DIR} runs it; to leave it out, list only the components to convert in spec.components (selfhost render: -f with such a ControlPlane) [MissingManifest]`,
    ],
    images: FX_IMAGES.filter((i) => !i.includes('kube-scheduler')),
  },
  {
    name: '8. a missing etcd manifest gets the external-etcd hint, and only etcd does',
    files: without(fx(), 'etcd.yaml'),
    argv: [],
    exit: 1,
    stderr: [
      `refused: ${DIR}: spec.components: spec.components lists etcd but no manifest in ${DIR} runs it (an external etcd is not converted); to leave it out, list only the components to convert in spec.components (selfhost render: -f with such a ControlPlane) [MissingManifest]`,
    ],
    images: FX_IMAGES.filter((i) => !i.includes('etcd')),
  },
  {
    name: '8. leaving the missing component out of spec.components converts the rest',
    files: without(fx(), 'kube-scheduler.yaml'),
    spec: { components: ['etcd', 'kube-apiserver', 'kube-controller-manager'] },
    argv: [],
    exit: 0,
    stderr: [],
    images: FX_IMAGES.filter((i) => !i.includes('kube-scheduler')),
  },
];
