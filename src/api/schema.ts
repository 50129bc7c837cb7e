/**
 * The one schema source of the ControlPlane API. crd.ts turns it into the CRD's openAPIV3Schema,
 * ajv.ts into the offline validator, defaults.ts reads its `default`s. Edit here, then run
 * `make manifests`.
 *
 * Conventions: every node has a type (or x-kubernetes-int-or-string) and a description; objects
 * never set additionalProperties next to properties (the apiserver forbids it; unknown fields are
 * pruned, or refused under kubectl's strict field validation, which ajv mirrors); every string has
 * a maxLength so the CEL cost estimate stays small; nested objects whose children all have
 * defaults default to {} so the apiserver fills them in.
 */
import {
  CNI_NAME_XOR_SELECTOR_RULE,
  HEALTH_TIMEOUT_RANGE_RULE,
  VERSION_TRANSITION_RULE,
} from './cel-rules.js';
import {
  COMPONENT_MODES,
  CONDITION_STATUSES,
  CONTROL_PLANE_MODES,
  OPERATIONS,
  PHASES,
  STEP_ACTIONS,
  STEP_STATES,
  UPGRADE_RESULTS,
} from './enums.js';
import {
  CONDITION_REASON,
  CONDITION_TYPE,
  DNS1123_LABEL,
  DNS1123_SUBDOMAIN,
  ETCD_VERSION,
  FLAG_NAME,
  GO_DURATION,
  IMAGE,
  IMAGE_REPOSITORY,
  KUBERNETES_VERSION,
  LABEL_VALUE,
  QUANTITY,
} from './patterns.js';
import type { JSONSchemaProps } from './schema-types.js';
import { COMPONENTS, type ComponentName } from './types.js';

const VERSION_MAX_LENGTH = 32;
const MESSAGE_MAX_LENGTH = 32768;

function kubernetesVersion(description: string): JSONSchemaProps {
  return { type: 'string', description, maxLength: VERSION_MAX_LENGTH, pattern: KUBERNETES_VERSION.pattern };
}

function image(description: string): JSONSchemaProps {
  return { type: 'string', description, minLength: 1, maxLength: 512, pattern: IMAGE.pattern };
}

function quantities(description: string): JSONSchemaProps {
  return {
    type: 'object',
    description,
    maxProperties: 16,
    additionalProperties: {
      description: 'A quantity: an integer, or a string such as 250m, 512Mi or 1.5Gi.',
      anyOf: [{ type: 'integer' }, { type: 'string' }],
      // minimum applies to integers and pattern to strings, so both forms stay non-negative.
      minimum: 0,
      pattern: QUANTITY.pattern,
      'x-kubernetes-int-or-string': true,
    },
  };
}

const EXTRA_ARGS: JSONSchemaProps = {
  type: 'array',
  description:
    'Flags for the main container. Each one replaces every occurrence of that flag in the source manifest (or is added when absent). One entry per flag name.',
  maxItems: 100,
  'x-kubernetes-list-type': 'map',
  'x-kubernetes-list-map-keys': ['name'],
  items: {
    type: 'object',
    description: 'One flag, passed as --name=value.',
    required: ['name', 'value'],
    properties: {
      name: {
        type: 'string',
        description: 'Flag name without the leading dashes, e.g. audit-log-maxage.',
        minLength: 1,
        maxLength: 100,
        pattern: FLAG_NAME.pattern,
      },
      value: { type: 'string', description: 'Flag value; may be empty.', maxLength: 4096 },
    },
  },
};

function componentOverride(component: ComponentName): JSONSchemaProps {
  const target = component === 'cni' ? 'the CNI DaemonSet' : component;
  return {
    type: 'object',
    description: `Changes to ${target} on top of what its source manifest or workload says.`,
    properties: {
      extraArgs: EXTRA_ARGS,
      image: image(
        `Full image reference for ${target}'s main container; wins over imageRepository and version.`,
      ),
      resources: {
        type: 'object',
        description: `Resource requests and limits for ${target}'s main container; replace the source's.`,
        properties: {
          requests: quantities('Minimum resources, by resource name (cpu, memory, ...).'),
          limits: quantities('Maximum resources, by resource name (cpu, memory, ...).'),
        },
      },
    },
  };
}

const OVERRIDES: JSONSchemaProps = {
  type: 'object',
  description:
    'Per-component changes, keyed by component name. Only the six component names are accepted.',
  properties: Object.fromEntries(
    [...COMPONENTS].sort().map((c) => [c, componentOverride(c)] as const),
  ),
};

const ETCD: JSONSchemaProps = {
  type: 'object',
  description: 'How selfhost treats etcd.',
  default: {},
  properties: {
    version: {
      type: 'string',
      description:
        'etcd version to run, e.g. 3.6.5. Default: the version kubeadm pairs with spec.version. etcd is only ever upgraded, never downgraded.',
      maxLength: VERSION_MAX_LENGTH,
      pattern: ETCD_VERSION.pattern,
    },
    snapshotBeforeUpgrade: {
      type: 'boolean',
      description: 'Take an etcd snapshot on each control-plane node before any etcd or kube-apiserver upgrade step.',
      default: true,
    },
    snapshotRetention: {
      type: 'integer',
      format: 'int32',
      description: 'How many snapshots to keep per node; older ones are deleted.',
      default: 3,
      minimum: 1,
      maximum: 100,
    },
  },
};

const CNI: JSONSchemaProps = {
  type: 'object',
  description:
    'Which DaemonSet runs the CNI plugin. Set name or selector; with neither, the operator picks the one DaemonSet in namespace whose pods mount /etc/cni/net.d, and refuses to guess when there are several.',
  default: {},
  properties: {
    namespace: {
      type: 'string',
      description: 'Namespace of the CNI DaemonSet.',
      default: 'kube-system',
      maxLength: 63,
      pattern: DNS1123_LABEL.pattern,
    },
    name: {
      type: 'string',
      description: 'Name of the CNI DaemonSet; mutually exclusive with selector.',
      maxLength: 253,
      pattern: DNS1123_SUBDOMAIN.pattern,
    },
    selector: {
      type: 'object',
      description: 'Labels the CNI DaemonSet carries (all must match); mutually exclusive with name.',
      minProperties: 1,
      maxProperties: 16,
      'x-kubernetes-map-type': 'atomic',
      additionalProperties: {
        type: 'string',
        description: 'Label value.',
        maxLength: 63,
        pattern: LABEL_VALUE.pattern,
      },
    },
    image: image("Image for the CNI DaemonSet's containers. Default: keep what it runs."),
  },
  'x-kubernetes-validations': [CNI_NAME_XOR_SELECTOR_RULE],
};

const UPGRADE: JSONSchemaProps = {
  type: 'object',
  description: 'How version changes roll out.',
  default: {},
  properties: {
    healthTimeout: {
      type: 'string',
      description:
        'How long one step may take to become healthy before it counts as failed: a Go duration between 10s and 1h.',
      default: '5m',
      maxLength: VERSION_MAX_LENGTH,
      pattern: GO_DURATION.pattern,
      'x-kubernetes-validations': [HEALTH_TIMEOUT_RANGE_RULE],
    },
    autoRollback: {
      type: 'boolean',
      description: 'When a step fails, roll back to the previous version automatically (etcd is never downgraded).',
      default: true,
    },
  },
};

export const SPEC_SCHEMA: JSONSchemaProps = {
  type: 'object',
  description: 'The control plane the cluster should have.',
  required: ['version'],
  properties: {
    version: kubernetesVersion(
      'Kubernetes version the control plane should run, e.g. v1.37.2. On update it may move to any patch of the running minor (status.version, else the previous spec.version) or of the next minor: no minor skips, no minor downgrades, no major change. While an upgrade runs it may also be set back to status.plan.fromVersion to abort it.',
    ),
    mode: {
      type: 'string',
      description:
        'SelfHosted runs the control plane as DaemonSets and Deployments (the pivot). StaticPods undoes the pivot and hands the components back to kubeadm static pods (operator support comes later; until then it is accepted and reported as not supported).',
      enum: CONTROL_PLANE_MODES,
      default: 'SelfHosted',
    },
    imageRepository: {
      type: 'string',
      description:
        'Registry (and path) the component images are pulled from, as kubeadm names them (<imageRepository>/kube-apiserver:<version>). Unset: each component keeps the registry its static pod (or DaemonSet) pulls from today, so a mirror or an air-gapped registry stays in use; set it to move to another registry.',
      maxLength: 255,
      pattern: IMAGE_REPOSITORY.pattern,
    },
    paused: {
      type: 'boolean',
      description: 'Stop acting: the operator observes and reports status but changes nothing until unpaused.',
      default: false,
    },
    components: {
      type: 'array',
      description: 'Components selfhost manages. Default: all six. Components left out stay as kubeadm made them.',
      default: [...COMPONENTS],
      minItems: 1,
      maxItems: COMPONENTS.length,
      'x-kubernetes-list-type': 'set',
      items: { type: 'string', description: 'A component name.', enum: COMPONENTS },
    },
    overrides: OVERRIDES,
    etcd: ETCD,
    cni: CNI,
    upgrade: UPGRADE,
  },
};

const CONDITION: JSONSchemaProps = {
  type: 'object',
  description: 'One aspect of the control plane (metav1.Condition).',
  required: ['type', 'status', 'lastTransitionTime', 'reason', 'message'],
  properties: {
    type: {
      type: 'string',
      description: 'Condition type, e.g. Ready.',
      maxLength: 316,
      pattern: CONDITION_TYPE.pattern,
    },
    status: { type: 'string', description: 'True, False or Unknown.', enum: CONDITION_STATUSES },
    observedGeneration: {
      type: 'integer',
      format: 'int64',
      description: 'metadata.generation the condition was computed from.',
      minimum: 0,
    },
    lastTransitionTime: {
      type: 'string',
      format: 'date-time',
      description: 'When status last changed.',
    },
    reason: {
      type: 'string',
      description: 'CamelCase reason for the status.',
      minLength: 1,
      maxLength: 1024,
      pattern: CONDITION_REASON.pattern,
    },
    message: { type: 'string', description: 'Human-readable details.', maxLength: MESSAGE_MAX_LENGTH },
  },
};

const COMPONENT_STATUS: JSONSchemaProps = {
  type: 'object',
  description: 'What one component runs now.',
  required: ['name', 'mode', 'desired', 'updated', 'ready'],
  properties: {
    name: { type: 'string', description: 'Component name.', enum: COMPONENTS },
    mode: {
      type: 'string',
      description: 'StaticPod (kubeadm manifests), SelfHosted (a workload) or Absent (not found).',
      enum: COMPONENT_MODES,
    },
    version: {
      type: 'string',
      description: "Lowest version seen among the component's running instances.",
      maxLength: 128,
    },
    workload: {
      type: 'string',
      description: 'Name of the DaemonSet or Deployment once self-hosted.',
      maxLength: 253,
      pattern: DNS1123_SUBDOMAIN.pattern,
    },
    desired: { type: 'integer', format: 'int32', description: 'Instances that should run.', minimum: 0 },
    updated: {
      type: 'integer',
      format: 'int32',
      description: 'Instances that run the desired template.',
      minimum: 0,
    },
    ready: { type: 'integer', format: 'int32', description: 'Instances that are ready.', minimum: 0 },
    message: { type: 'string', description: 'Human-readable details.', maxLength: MESSAGE_MAX_LENGTH },
  },
};

const PLAN_STEP: JSONSchemaProps = {
  type: 'object',
  description: 'One step of the plan.',
  required: ['component', 'action', 'state'],
  properties: {
    component: { type: 'string', description: 'Component the step acts on.', enum: COMPONENTS },
    action: { type: 'string', description: 'What the step does.', enum: STEP_ACTIONS },
    fromVersion: { type: 'string', description: 'Version before the step.', maxLength: 128 },
    toVersion: { type: 'string', description: 'Version after the step.', maxLength: 128 },
    state: { type: 'string', description: 'Where the step is.', enum: STEP_STATES },
    startedAt: { type: 'string', format: 'date-time', description: 'When the step started.' },
    finishedAt: { type: 'string', format: 'date-time', description: 'When the step finished.' },
    message: { type: 'string', description: 'Human-readable details.', maxLength: MESSAGE_MAX_LENGTH },
  },
};

const PLAN: JSONSchemaProps = {
  type: 'object',
  description: 'The operation in progress (or the last one), step by step.',
  required: ['operation', 'steps'],
  properties: {
    operation: { type: 'string', description: 'What the plan does.', enum: OPERATIONS },
    fromVersion: kubernetesVersion('Kubernetes version the operation started from.'),
    toVersion: kubernetesVersion('Kubernetes version the operation goes to.'),
    current: {
      type: 'integer',
      format: 'int32',
      description: 'Index into steps of the step running now; absent when none runs.',
      minimum: 0,
    },
    steps: {
      type: 'array',
      description: 'Steps in the order they run.',
      maxItems: 64,
      'x-kubernetes-list-type': 'atomic',
      items: PLAN_STEP,
    },
  },
};

const SNAPSHOT_STATUS: JSONSchemaProps = {
  type: 'object',
  description: 'The verified etcd snapshot taken before the first step (docs/etcd-snapshot.md gives the restore commands).',
  required: ['node', 'path', 'size', 'sha256', 'revision', 'keys', 'time'],
  properties: {
    node: { type: 'string', description: 'Control-plane node whose disk holds it.', maxLength: 253 },
    path: { type: 'string', description: 'Path of the snapshot file on that node.', maxLength: 4096 },
    size: { type: 'integer', format: 'int64', description: 'Bytes of the file.', minimum: 0 },
    sha256: { type: 'string', description: 'sha256 of the whole file.', maxLength: 64 },
    revision: { type: 'integer', format: 'int64', description: "etcd's revision right before the snapshot.", minimum: 0 },
    keys: { type: 'integer', format: 'int64', description: 'Keys in etcd right before the snapshot.', minimum: 0 },
    time: { type: 'string', format: 'date-time', description: 'When the snapshot finished.' },
  },
};

const LAST_UPGRADE: JSONSchemaProps = {
  type: 'object',
  description:
    'The last rollout (a version change or any other change of a self-hosted template): where it went, how it ended, and what failed. A failed target is not retried until the spec asks for something else.',
  required: ['toVersion', 'result', 'targetHash', 'startedAt'],
  properties: {
    fromVersion: kubernetesVersion('Kubernetes version the rollout started from.'),
    toVersion: kubernetesVersion('Kubernetes version the rollout went to.'),
    result: { type: 'string', description: 'How the rollout ended, or Running.', enum: UPGRADE_RESULTS },
    targetHash: {
      type: 'string',
      description: 'sha256 of the desired objects the rollout applied; a new spec gives a new hash and a new rollout.',
      maxLength: 64,
    },
    startedAt: { type: 'string', format: 'date-time', description: 'When the rollout started.' },
    finishedAt: { type: 'string', format: 'date-time', description: 'When it ended.' },
    failedComponent: { type: 'string', description: 'The component whose health gate failed.', enum: COMPONENTS },
    message: { type: 'string', description: 'What failed and what was restored.', maxLength: MESSAGE_MAX_LENGTH },
    snapshot: SNAPSHOT_STATUS,
  },
};

const CHECKPOINT_STATUS: JSONSchemaProps = {
  type: 'object',
  description: "A component's checkpoint on one node: its last known good pod, kept by the node agent as a static pod that runs only while the self-hosted pod is absent (after a cold boot, or when the pod is lost).",
  required: ['node', 'component', 'templateHash', 'provenAt', 'saved', 'active'],
  properties: {
    node: { type: 'string', description: 'Control-plane node.', maxLength: 253 },
    component: { type: 'string', description: 'Component checkpointed.', enum: COMPONENTS },
    version: { type: 'string', description: 'Version of the checkpointed template.', maxLength: 128 },
    templateHash: { type: 'string', description: 'selfhost.dev/template-hash of the checkpointed (proven) template.', maxLength: 64 },
    provenAt: { type: 'string', format: 'date-time', description: 'When that template passed its health gate.' },
    saved: { type: 'boolean', description: 'The node agent has written exactly this checkpoint to the node.' },
    active: { type: 'boolean', description: 'The checkpoint runs the component now, because the self-hosted pod does not.' },
    lastTransitionTime: { type: 'string', format: 'date-time', description: 'When active last changed.' },
  },
};

export const STATUS_SCHEMA: JSONSchemaProps = {
  type: 'object',
  description: 'What the control plane runs now; written by the operator.',
  properties: {
    observedGeneration: {
      type: 'integer',
      format: 'int64',
      description: 'metadata.generation the operator last acted on.',
      minimum: 0,
    },
    version: kubernetesVersion('Version every control-plane component runs at least (the lowest one seen).'),
    phase: { type: 'string', description: 'Where the control plane is in its life cycle.', enum: PHASES },
    conditions: {
      type: 'array',
      description: 'Current conditions; one per type.',
      maxItems: 32,
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['type'],
      items: CONDITION,
    },
    components: {
      type: 'array',
      description: 'Per-component state; one per component.',
      maxItems: COMPONENTS.length,
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['name'],
      items: COMPONENT_STATUS,
    },
    plan: PLAN,
    step: { type: 'string', description: "The plan's running (or failed) step as N/M component, for kubectl get.", maxLength: 128 },
    lastUpgrade: LAST_UPGRADE,
    checkpoints: {
      type: 'array',
      description: 'Checkpoints per node and component (reboot survival).',
      maxItems: 1024,
      'x-kubernetes-list-type': 'atomic',
      items: CHECKPOINT_STATUS,
    },
  },
};

/** The whole object: what the CRD's openAPIV3Schema is. */
export const CONTROL_PLANE_SCHEMA: JSONSchemaProps = {
  type: 'object',
  description:
    "ControlPlane describes the cluster's control plane: whether it is self-hosted, which Kubernetes version it runs, and how changes roll out. selfhost acts on one object, by convention named cluster.",
  required: ['spec'],
  properties: {
    apiVersion: { type: 'string', description: 'APIVersion of this object: selfhost.dev/v1alpha1.' },
    kind: { type: 'string', description: 'Kind of this object: ControlPlane.' },
    metadata: { type: 'object' },
    spec: SPEC_SCHEMA,
    status: STATUS_SCHEMA,
  },
  'x-kubernetes-validations': [VERSION_TRANSITION_RULE],
};
