/**
 * What the unpivot writes on each node (pure): per control-plane component and node, the restored
 * static manifest and its hand-back variant (convert/restore.ts), from that node's originals (the
 * agent's backups) at the version the workloads run.
 */
import type { ComponentName } from '../api/types.js';
import { sha256Hex } from '../convert/hash.js';
import type { Refusal } from '../convert/index.js';
import { computeRestoredManifest } from '../convert/restore.js';
import { computeOriginalManifests, type DesiredState } from './desired.js';
import type { Snapshot } from './snapshot.js';

export interface NodeRestore {
  readonly path: string;
  readonly restored: string;
  readonly restoredSha256: string;
  readonly handback: string;
  readonly handbackSha256: string;
}

export interface RestoreSet {
  /** component → node → what to write there. */
  readonly byComponent: ReadonlyMap<ComponentName, ReadonlyMap<string, NodeRestore>>;
  readonly refusals: readonly Refusal[];
}

/** `desired` is the desired state at spec.version (what the workloads run when no rollout is due). */
export function computeRestoreSet(snap: Snapshot, desired: DesiredState, image: string): RestoreSet {
  const byComponent = new Map<ComponentName, Map<string, NodeRestore>>();
  const refusals: Refusal[] = [];
  const version = desired.version ?? snap.controlPlane.spec.version;
  for (const c of desired.components) {
    if (c.static === undefined) continue;
    const perNode = new Map<string, NodeRestore>();
    for (const node of snap.nodes) {
      const observed = snap.agents.get(node.name)?.observed;
      if (observed === undefined) continue;
      const r = computeRestoredManifest({
        manifests: computeOriginalManifests(observed),
        component: c.name,
        spec: snap.controlPlane.spec,
        version,
        node: { name: node.name, ...(node.ip === undefined ? {} : { ip: node.ip }) },
        gateImage: image,
      });
      if (!r.ok) {
        refusals.push(r.refusal);
        continue;
      }
      const m = r.manifest;
      perNode.set(node.name, { path: m.path, restored: m.restored, restoredSha256: sha256Hex(m.restored), handback: m.handback, handbackSha256: sha256Hex(m.handback) });
    }
    byComponent.set(c.name, perNode);
  }
  return { byComponent, refusals };
}
