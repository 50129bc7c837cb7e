/**
 * Static pod manifest text → a checked StaticPod, or a refusal saying what is wrong and where.
 */
import type { V1Container, V1Pod, V1PodTemplateSpec } from '@kubernetes/client-node';
import { load, loadAll } from 'js-yaml';
import { analyseCommandLine, basename } from './command.js';
import { withFlags } from './container.js';
import { parseFlags, type Flag } from './flags.js';
import { COMPONENTS, type ComponentName } from '../api/types.js';
import { findMainContainer, foreignComponentLabel, guessComponent, identifyComponent, isComponentBinary } from './identify.js';
import { makeRefusal, type Refusal } from './refusal.js';
import type { CommandLayout, StaticPod } from './types.js';

export interface ManifestSource {
  /** Where the kubelet reads it, e.g. /etc/kubernetes/manifests/kube-apiserver.yaml. */
  readonly path: string;
  readonly content: string;
}

export type ParseResult = { readonly ok: true; readonly pod: StaticPod } | { readonly ok: false; readonly refusal: Refusal };

/**
 * Components whose identity is the node's: their addresses are the node IP, which the template
 * expresses as $(HOST_IP) = status.hostIP. That is only true in the host network namespace.
 */
const HOST_NETWORK_REQUIRED = new Set(['etcd', 'kube-apiserver']);

export function parseStaticPod(source: ManifestSource): ParseResult {
  const { path } = source;
  const fail = (...args: Parameters<typeof makeRefusal>): ParseResult => ({ ok: false, refusal: makeRefusal(...args) });

  const doc = loadSingle(source);
  if (!doc.ok) return { ok: false, refusal: attributed(doc.refusal, guessComponent(undefined, path)) };
  const shape = checkPodShape(doc.value, path);
  if (!shape.ok) return { ok: false, refusal: attributed(shape.refusal, guessComponent(doc.value, path)) };
  const pod = shape.pod;
  const containers = pod.spec?.containers ?? [];

  const foreign = foreignComponentLabel(pod);
  if (foreign !== undefined) {
    return fail(
      'NoComponent',
      path,
      `its kubeadm labels name the component ${JSON.stringify(foreign)}, which is not one of selfhost's (${COMPONENTS.join(', ')}); a pod labelled as another component is that component even when it runs one of their binaries (a second scheduler, say)`,
      { field: 'metadata.labels.component', value: foreign },
    );
  }
  const identified = identifyComponent(pod, path);
  if (identified === undefined) {
    return fail(
      'NoComponent',
      path,
      'cannot tell which component this pod runs: no kubeadm labels (component + tier: control-plane), no container runs a known binary or is named after a component, and the file name is not a component name',
      { field: 'metadata.labels' },
    );
  }
  const { component } = identified;
  const main = findMainContainer(containers, component);
  if (!main.ok) {
    return fail(main.duplicate ? 'DuplicateComponent' : 'AmbiguousMainContainer', path, main.reason, {
      component,
      field: 'spec.containers',
    });
  }
  const container = containers[main.index];
  if (container === undefined) throw new Error(`${path}: main container index out of range`);
  const field = `spec.containers[${main.index}]`;

  const restartPolicy = pod.spec?.restartPolicy;
  if (restartPolicy !== undefined && restartPolicy !== 'Always') {
    return fail(
      'UnsupportedRestartPolicy',
      path,
      'DaemonSet and Deployment pods always restart; a static pod with another restart policy is a one-off task, not a component to self-host',
      { component, field: 'spec.restartPolicy', value: restartPolicy },
    );
  }
  if (HOST_NETWORK_REQUIRED.has(component) && pod.spec?.hostNetwork !== true) {
    return fail(
      'NotHostNetwork',
      path,
      `${component} must run in the host network: its advertised addresses are the node's IP, which the shared template writes as $(HOST_IP) (status.hostIP), and the control plane has to be reachable before any pod network exists`,
      { component, field: 'spec.hostNetwork', value: String(pod.spec?.hostNetwork ?? false) },
    );
  }

  const command = normaliseMainCommand(container, component, field, path);
  if (!command.ok) return command;
  const { layout, flags } = command;

  const template: V1PodTemplateSpec = structuredClone({
    ...(pod.metadata === undefined ? {} : { metadata: pod.metadata }),
    ...(pod.spec === undefined ? {} : { spec: pod.spec }),
  });
  const templateContainers = template.spec?.containers;
  if (layout.kind === 'flags' && templateContainers !== undefined) {
    templateContainers[main.index] = withFlags(container, layout, flags);
  }
  return {
    ok: true,
    pod: {
      path,
      content: source.content,
      component,
      identifiedBy: identified.by,
      pod,
      mainIndex: main.index,
      mainContainer: container.name,
      commandLayout: layout,
      flags,
      template,
    },
  };
}

/** A refusal made before the component was known, with the component it is most likely for. */
function attributed(refusal: Refusal, component: ComponentName | undefined): Refusal {
  return component === undefined ? refusal : { ...refusal, component };
}

function loadSingle(source: ManifestSource): { ok: true; value: unknown } | { ok: false; refusal: Refusal } {
  try {
    return { ok: true, value: load(source.content, { filename: source.path }) };
  } catch (error) {
    const count = countDocuments(source.content);
    if (count !== undefined && count !== 1) {
      return {
        ok: false,
        refusal: makeRefusal(
          'NotAPod',
          source.path,
          `the file holds ${count} YAML documents; a static pod manifest holds exactly one Pod`,
        ),
      };
    }
    const message = error instanceof Error ? error.message : String(error);
    return { ok: false, refusal: makeRefusal('InvalidYaml', source.path, `not valid YAML or JSON: ${message}`) };
  }
}

function countDocuments(content: string): number | undefined {
  try {
    return loadAll(content).length;
  } catch {
    return undefined;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isStringList(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'string');
}

/** Just enough shape checking that the rest of the code can trust the V1Pod type. */
function checkPodShape(doc: unknown, path: string): { ok: true; pod: V1Pod } | { ok: false; refusal: Refusal } {
  const bad = (field: string, value: unknown, reason: string) => ({
    ok: false as const,
    refusal: makeRefusal('NotAPod', path, reason, { field, value: typeof value === 'string' ? value : JSON.stringify(value) }),
  });
  if (!isRecord(doc)) return bad('', doc, 'the document is not an object; a static pod manifest is a v1 Pod');
  if (doc['kind'] !== 'Pod') {
    return bad('kind', doc['kind'] ?? null, 'only Pods are static pods; the kubelet ignores other kinds in its manifest directory');
  }
  if (doc['apiVersion'] !== 'v1') return bad('apiVersion', doc['apiVersion'] ?? null, 'a Pod is apiVersion v1');
  const metadata = doc['metadata'];
  if (metadata !== undefined && metadata !== null && !isRecord(metadata)) {
    return bad('metadata', metadata, 'metadata must be an object');
  }
  const spec = doc['spec'];
  if (!isRecord(spec)) return bad('spec', spec ?? null, 'the Pod has no spec');
  const containers = spec['containers'];
  if (!Array.isArray(containers) || containers.length === 0) {
    return bad('spec.containers', containers ?? null, 'the Pod has no containers');
  }
  for (const [i, c] of containers.entries()) {
    if (!isRecord(c)) return bad(`spec.containers[${i}]`, c, 'every container must be an object');
    if (typeof c['name'] !== 'string') {
      return bad(`spec.containers[${i}].name`, c['name'] ?? null, 'every container needs a name (a string)');
    }
    for (const key of ['command', 'args']) {
      if (c[key] !== undefined && !isStringList(c[key])) {
        return bad(`spec.containers[${i}].${key}`, c[key], `${key} must be a list of strings`);
      }
    }
  }
  // The checks above are what the rest of the conversion relies on; the other fields are
  // passed through as they are.
  return { ok: true, pod: doc as V1Pod };
}

type NormalisedCommand =
  | { ok: true; layout: CommandLayout; flags: Flag[] }
  | { ok: false; refusal: Refusal };

function normaliseMainCommand(
  container: V1Container,
  component: StaticPod['component'],
  field: string,
  path: string,
): NormalisedCommand {
  // A CNI agent's command line belongs to the plugin; selfhost neither reads nor edits it.
  if (component === 'cni') return { ok: true, layout: { kind: 'raw' }, flags: [] };

  const analysed = analyseCommandLine(container, field);
  if (!analysed.ok) {
    return {
      ok: false,
      refusal: makeRefusal('UnsafeCommand', path, analysed.reason, {
        component,
        field: analysed.field,
        value: analysed.value,
      }),
    };
  }
  const { line } = analysed;
  const binary = line.prefix[0];
  if (binary !== undefined && !isComponentBinary(component, binary)) {
    return {
      ok: false,
      refusal: makeRefusal(
        'UnsafeCommand',
        path,
        `the container runs ${basename(binary)}, not the ${component} binary; selfhost edits ${component}'s flags and cannot do that through a wrapper`,
        { component, field: `${field}.command[0]`, value: binary },
      ),
    };
  }
  if (line.prefix.length > 1) {
    return {
      ok: false,
      refusal: makeRefusal(
        'UnsupportedArgument',
        path,
        `"${line.prefix.slice(1).join(' ')}" after the binary is a positional argument; ${component} takes flags only`,
        { component, field: `${field}.command`, value: line.prefix.join(' ') },
      ),
    };
  }
  const singleDashLongFlags = component === 'etcd';
  const parsed = parseFlags(line.flagTokens, { singleDashLongFlags });
  if (!parsed.ok) {
    return {
      ok: false,
      refusal: makeRefusal('UnsupportedArgument', path, parsed.reason, {
        component,
        field: `${field}.${line.location}`,
        value: parsed.token,
      }),
    };
  }
  return {
    ok: true,
    layout: { kind: 'flags', location: line.location, prefix: line.prefix, singleDashLongFlags },
    flags: parsed.flags,
  };
}
