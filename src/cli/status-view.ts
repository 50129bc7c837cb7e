/**
 * `selfhost status` as text (pure): the status model (status-model.ts) laid out to be read at a
 * glance — the phase first, then the conditions (Ready and Degraded on top), each component on
 * each control-plane node, the plan's steps, the checkpoints and the last upgrade.
 */
import { API_GROUP, API_VERSION } from '../api/types.js';
import { describeStep } from '../plan/describe.js';
import type { CheckpointModel, LastUpgradeModel, NodeComponentModel, NodeModel, PlanModel, StatusModel, StatusSnapshot, StepModel } from './status-model.js';
import { computeStatusModel } from './status-model.js';
import { computeDurationText, computeSizeText, computeTable } from './status-table.js';

/** The text of one snapshot: what `selfhost status` prints and `--watch` redraws. */
export function computeStatusView(snap: StatusSnapshot): string[] {
  return computeStatusLines(computeStatusModel(snap));
}

export function computeStatusLines(m: StatusModel): string[] {
  const out: string[] = [];
  if (!m.found) {
    out.push(
      `ControlPlane "${m.name}" (${API_GROUP}/${API_VERSION}) not found: is selfhost installed? ` +
        'Create one (deploy/samples/controlplane.yaml) or name another with --name.',
    );
  } else {
    out.push(...computeHeader(m));
    if (m.conditions.length > 0) out.push('', ...computeConditionLines(m));
  }
  if (m.nodes.length > 0) out.push('', ...computeNodeLines(m.nodes));
  else out.push('', 'No control-plane node (label node-role.kubernetes.io/control-plane) found.');
  if (m.plan !== undefined) out.push('', ...computePlanLines(m.plan));
  if (m.checkpoints.length > 0) out.push('', ...computeCheckpointLines(m.checkpoints));
  if (m.lastUpgrade !== undefined) out.push('', ...computeLastUpgradeLines(m.lastUpgrade));
  return out;
}

function computeHeader(m: StatusModel): string[] {
  const spec = m.spec;
  const title = [`ControlPlane ${m.name}`, m.phase ?? 'no status yet'];
  if (m.step !== undefined) title.push(`step ${m.step}`);
  const lines = [title.join('  ')];
  if (spec !== undefined) {
    const facts = [`spec.version ${spec.version}`, `mode ${spec.mode}`];
    if (m.version !== undefined) facts.push(`runs ${m.version}`);
    lines.push(`  ${facts.join('  ·  ')}`);
    if (spec.paused) lines.push('  paused (spec.paused): the operator reports and changes nothing');
  }
  if (m.phase === undefined) lines.push('  the operator has not written a status yet: is it running?');
  if (m.generation !== undefined && m.observedGeneration !== undefined && m.observedGeneration < m.generation) {
    lines.push(`  status is of generation ${m.observedGeneration}; the spec is at ${m.generation}: the operator has not acted on the last edit yet`);
  }
  return lines;
}

function computeConditionLines(m: StatusModel): string[] {
  const rows = m.conditions.map((c) => [c.type, c.status, c.reason, c.forSeconds === undefined ? '' : computeDurationText(c.forSeconds), c.message]);
  return computeTable(['CONDITION', 'STATUS', 'REASON', 'SINCE', 'MESSAGE'], rows);
}

/** `self-hosted` plus, during a handover, the other instances: `+ static v1.37.1 (Ready)`. */
function computeNote(c: NodeComponentModel): string {
  const [primary, ...others] = c.instances;
  const parts = others.map((i) => `+ ${i.mode}${i.version === undefined ? '' : ` ${i.version}`} (${i.deleting ? 'terminating' : i.ready ? 'Ready' : 'not Ready'})`);
  const failure = c.instances.find((i) => i.failure !== undefined)?.failure;
  if (primary !== undefined && primary.restarts > 0) parts.push(`${primary.restarts} restart${primary.restarts === 1 ? '' : 's'}`);
  if (primary?.deleting === true) parts.push('terminating');
  if (failure !== undefined) parts.push(failure);
  return parts.join('; ');
}

function computeNodeLines(nodes: readonly NodeModel[]): string[] {
  const rows: string[][] = [];
  for (const n of nodes) {
    const nodeCell = n.ready ? n.name : `${n.name} (NotReady)`;
    const kubelet = n.kubeletVersion ?? '';
    // A node that runs none of them says so once rather than in a column of `absent`.
    if (n.components.every((c) => c.mode === 'absent')) {
      rows.push([nodeCell, kubelet, '(no control-plane pod)']);
      continue;
    }
    n.components.forEach((c, i) => {
      rows.push([
        i === 0 ? nodeCell : '',
        i === 0 ? kubelet : '',
        c.component,
        c.mode,
        c.version ?? '',
        c.mode === 'absent' ? '' : c.ready ? 'yes' : 'no',
        computeNote(c),
      ]);
    });
  }
  return computeTable(['NODE', 'KUBELET', 'COMPONENT', 'MODE', 'VERSION', 'READY', 'NOTE'], rows);
}

/** `Upgrade kube-apiserver v1.37.1 → v1.37.2`; a pivot keeps the version: `Pivot etcd at 3.7.0`. */
export function computeStepText(s: StepModel): string {
  if (s.fromVersion !== undefined && s.fromVersion === s.toVersion) return `${s.action} ${s.component} at ${s.toVersion}`;
  return describeStep(s);
}

function computePlanTitle(p: PlanModel): string {
  const versions =
    p.fromVersion !== undefined && p.toVersion !== undefined && p.fromVersion !== p.toVersion
      ? ` ${p.fromVersion} → ${p.toVersion}`
      : p.toVersion !== undefined
        ? ` at ${p.toVersion}`
        : '';
  const done = p.steps.filter((s) => s.state === 'Succeeded' || s.state === 'Skipped').length;
  return `PLAN  ${p.operation}${versions}  (${done}/${p.steps.length} done)`;
}

function computePlanLines(p: PlanModel): string[] {
  const rows = p.steps.map((s) => [
    String(s.number),
    computeStepText(s),
    s.state,
    s.durationSeconds === undefined ? '' : computeDurationText(s.durationSeconds),
    s.message ?? '',
  ]);
  return [computePlanTitle(p), ...computeTable(['#', 'STEP', 'STATE', 'TIME', 'WAITING FOR / MESSAGE'], rows, '  ')];
}

function computeCheckpointLines(list: readonly CheckpointModel[]): string[] {
  const rows = list.map((c) => [
    c.node,
    c.component,
    c.version ?? '',
    c.saved ? 'yes' : 'no',
    c.active ? 'yes' : 'no',
    c.ageSeconds === undefined ? c.provenAt : `${computeDurationText(c.ageSeconds)} ago`,
  ]);
  return ['CHECKPOINTS (last known good pods kept on each node for reboots)', ...computeTable(['NODE', 'COMPONENT', 'VERSION', 'SAVED', 'ACTIVE', 'PROVEN'], rows, '  ')];
}

function computeLastUpgradeLines(u: LastUpgradeModel): string[] {
  const versions = u.fromVersion === undefined ? `to ${u.toVersion}` : `${u.fromVersion} → ${u.toVersion}`;
  const took = u.durationSeconds === undefined ? '' : u.finishedAt === undefined ? ` for ${computeDurationText(u.durationSeconds)}` : ` in ${computeDurationText(u.durationSeconds)}`;
  const lines = [`LAST UPGRADE  ${versions}  ${u.result}${took} (started ${u.startedAt})`];
  if (u.failedComponent !== undefined) lines.push(`  failed at ${u.failedComponent}`);
  if (u.message !== undefined) lines.push(`  ${u.message}`);
  const s = u.snapshot;
  if (s !== undefined) {
    lines.push(`  etcd snapshot ${s.path} on ${s.node}: ${computeSizeText(s.size)}, revision ${s.revision}, ${s.keys} keys, sha256 ${s.sha256.slice(0, 12)}…`);
  }
  return lines;
}
