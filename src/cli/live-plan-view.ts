/**
 * The live `selfhost plan` as text (pure): what runs, then each version the control plane can
 * move to now with its steps and the edit that starts it, then the versions it cannot move to
 * and why, then notes.
 */
import { describePlan } from '../plan/describe.js';
import type { CandidateKind, KubeletVersion, LivePlanCandidate, LivePlanModel } from './live-plan.js';

function distinct(values: readonly string[]): string[] {
  return [...new Set(values)];
}

/** `v1.37.1 (3 nodes)`, `v1.36.4 (cp1), v1.37.2 (cp2, cp3)`. */
export function computeKubeletSummary(kubelets: readonly KubeletVersion[]): string {
  const byVersion = new Map<string, string[]>();
  for (const k of kubelets) byVersion.set(k.version, [...(byVersion.get(k.version) ?? []), k.node]);
  if (byVersion.size === 1) {
    const [[version, nodes] = ['', []]] = [...byVersion.entries()];
    return `${version} (${nodes.length} node${nodes.length === 1 ? '' : 's'})`;
  }
  return [...byVersion.entries()].map(([v, nodes]) => `${v} (${nodes.join(', ')})`).join(', ');
}

const KIND_TEXT: Readonly<Record<CandidateKind, (c: LivePlanCandidate) => string>> = {
  patch: (c) => `a newer ${c.target.replace(/\.x$/, '')} patch`,
  minor: () => 'the next minor',
  abort: () => 'abort the upgrade in progress',
  requested: () => 'as asked',
};

function candidateTitle(c: LivePlanCandidate, model: LivePlanModel): string {
  const kind = c.kind === 'minor' && model.running !== undefined ? minorText(c.target, model.running) : KIND_TEXT[c.kind](c);
  return `${c.target} (${kind})`;
}

function minorText(target: string, running: string): string {
  const t = /^v([0-9]+)\.([0-9]+)\./.exec(target);
  const r = /^v([0-9]+)\.([0-9]+)\./.exec(running);
  if (t === null || r === null) return 'another minor';
  const delta = Number(t[2]) - Number(r[2]);
  return delta === 1 ? 'the next minor' : `${delta} minors up`;
}

/** The edit that starts it: `kubectl patch controlplane cluster ...` (the target's patch left to fill in). */
export function computeApplyHint(name: string, target: string): string {
  const version = target.endsWith('.x') ? `${target.slice(0, -2)}.<patch>` : target;
  return `kubectl patch controlplane ${name} --type=merge -p '{"spec":{"version":"${version}"}}'`;
}

export function computeLivePlanLines(m: LivePlanModel, program: string): string[] {
  const out: string[] = [];
  const head = [`ControlPlane ${m.name}`];
  if (m.phase !== undefined) head.push(m.phase);
  if (m.spec !== undefined) head.push(`spec.version ${m.spec.version}`);
  out.push(head.join('  '));
  const runs: string[] = [];
  const api = distinct((m.observed['kube-apiserver'] ?? []).map((i) => i.version));
  runs.push(`kube-apiserver ${api.length === 0 ? 'not found' : api.join(', ')}`);
  const etcd = distinct((m.observed.etcd ?? []).map((i) => i.version));
  if (etcd.length > 0) runs.push(`etcd ${etcd.join(', ')}`);
  if (m.kubelets.length > 0) runs.push(`kubelet ${computeKubeletSummary(m.kubelets)}`);
  out.push(`runs: ${runs.join('  ·  ')}`);
  if (m.inProgress !== undefined) {
    const p = m.inProgress;
    out.push(
      `An ${p.operation.toLowerCase()} ${p.fromVersion} → ${p.toVersion} is running${p.step === undefined ? '' : ` (step ${p.step})`}: ` +
        `setting spec.version back to ${p.fromVersion} aborts it.`,
    );
  }

  const possible = m.candidates.filter((c) => c.result.ok);
  const refused = m.candidates.filter((c) => !c.result.ok);
  const single = m.candidates.length === 1 && m.candidates[0]?.kind === 'requested';
  if (possible.length > 0) {
    out.push('', single ? 'Plan:' : 'Possible now:');
    for (const c of possible) {
      out.push('', `${candidateTitle(c, m)}:`, ...describePlan(c.result).map((l) => `  ${l}`));
      const changes = c.result.ok && c.result.operation !== 'None';
      if (changes) out.push(`  start it: ${computeApplyHint(m.name, c.target)}`);
      if (changes && c.target.endsWith('.x')) out.push(`  exact steps for one patch: ${program} plan --to ${c.target.slice(0, -2)}.<patch>`);
    }
  }
  if (refused.length > 0) {
    out.push('', single ? 'Not possible:' : possible.length === 0 ? 'No version is possible now:' : 'Not possible now:');
    for (const c of refused) out.push(`  ${candidateTitle(c, m)}: ${describePlan(c.result).join(' ')}`);
  }
  if (m.notes.length > 0) out.push('', ...m.notes.map((n) => `Note: ${n}`));
  return out;
}
