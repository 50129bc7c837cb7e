/**
 * Types shared by the conversion steps: the parsed static pod, the context every mutator gets,
 * and the mutator signature itself.
 */
import type { V1Pod, V1PodTemplateSpec } from '@kubernetes/client-node';
import type { ComponentName, ControlPlaneSpec } from '../api/types.js';
import type { Version } from '../api/version.js';
import type { MinorRelease } from '../versions/table.js';
import type { Flag } from './flags.js';

/** The node a manifest came from. Either part may be unknown. */
export interface NodeIdentity {
  /** Node name (`spec.nodeName` of its pods; kubeadm's etcd member name). */
  readonly name?: string;
  /** The node's IP as the kubelet reports it (`status.hostIP` of its pods). */
  readonly ip?: string;
}

/**
 * How the main container's flags are stored in a normalised template.
 *
 * `flags`: the container's argv is `[...prefix, ...flags]`, either all in `command` (kubeadm's
 * layout) or `command: prefix` + `args: flags`. Every flag token is in `--name[=value]` form.
 * `raw`: the command line is kept exactly as found and never edited (CNI plugins: their command
 * lines are theirs).
 */
export type CommandLayout =
  | {
      readonly kind: 'flags';
      readonly location: 'command' | 'args';
      readonly prefix: readonly string[];
      /** etcd parses flags with Go's `flag` package, which reads `-name` like `--name`. */
      readonly singleDashLongFlags: boolean;
    }
  | { readonly kind: 'raw' };

export type IdentifiedBy = 'labels' | 'binary' | 'container-name' | 'image' | 'file-name';

/** A static pod manifest, parsed and checked. */
export interface StaticPod {
  readonly path: string;
  /** The file as read. */
  readonly content: string;
  readonly component: ComponentName;
  readonly identifiedBy: IdentifiedBy;
  /** The manifest as loaded, untouched (for rewriting the file itself: port-sharing prep). */
  readonly pod: V1Pod;
  /** Index of the main container in spec.containers. */
  readonly mainIndex: number;
  readonly mainContainer: string;
  readonly commandLayout: CommandLayout;
  /** Main container flags in source order, two-token pairs joined; empty for `raw`. */
  readonly flags: readonly Flag[];
  /** The pod as a pod template (labels, annotations, spec), main container argv normalised. */
  readonly template: V1PodTemplateSpec;
}

/** What a pod-level step needs: which pod, which container, which node. */
export interface PodContext {
  readonly component: ComponentName;
  /** Manifest path, for refusals and the source-manifest annotation. */
  readonly manifest: string;
  /** Name of the container running the component. */
  readonly mainContainer: string;
  readonly commandLayout: CommandLayout;
  /** This node's identity: what gets replaced by $(NODE_NAME) / $(HOST_IP). */
  readonly node: NodeIdentity;
}

/** Everything a mutator may consult. Mutators never change it. */
export interface MutationContext extends PodContext {
  /** The defaulted ControlPlane spec. */
  readonly spec: ControlPlaneSpec;
  /** spec.version, parsed. */
  readonly target: Version;
  /** Kubernetes version the source runs (for etcd: the cluster's, see index.ts). */
  readonly source: Version | undefined;
  readonly releases: readonly MinorRelease[];
  /**
   * Image of `selfhost gate`: when set, etcd gets the handover gate (mutators/handover-gate.ts).
   * The operator always sets it; `selfhost render` leaves it out unless asked.
   */
  readonly handoverGateImage?: string;
}

/**
 * One named, pure step of a conversion pipeline: returns a new template, never modifies its
 * input. Steps that need less than the full context declare the smaller one.
 */
export type Mutator<C extends PodContext = MutationContext> = (template: V1PodTemplateSpec, ctx: C) => V1PodTemplateSpec;
