/**
 * selfhost's own metrics (the controller core adds controller-runtime's and client-go's names on
 * the same registry). Everything is get-or-create on the injected Registry, so two OperatorMetrics
 * on one registry share their series instead of failing to register.
 */
import type { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { COMPONENT_MODES, PHASES } from '../api/enums.js';
import type { CheckpointStatus, ComponentName, ComponentStatus, Phase, StepAction } from '../api/types.js';
import { ensureCounter, ensureGauge, ensureHistogram } from '../controller/metrics.js';
import type { RequestObserver } from '../kube/client.js';

/** How a step ended, as the metrics label it. */
export type StepResult = 'success' | 'failure';

type StepLabel = 'component' | 'action' | 'result';

/**
 * Steps wait for workloads to roll out and turn healthy: seconds for a kube-proxy DaemonSet on one
 * node, up to the default 30-minute health timeout (and beyond, into +Inf) for etcd on many.
 */
export const STEP_BUCKETS: readonly number[] = [1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 900, 1200, 1800];

/**
 * KubeClient's HTTP methods as the verbs that sent them. PATCH is only ever server-side apply there;
 * a list is a GET like a get, and the observer sees no difference (fine for a request counter).
 */
const VERBS: Readonly<Record<string, string>> = {
  GET: 'get',
  PATCH: 'apply',
  POST: 'create',
  PUT: 'update',
  DELETE: 'delete',
};

export function verbOf(method: string): string {
  return VERBS[method.toUpperCase()] ?? method.toLowerCase();
}

/** client-go's label for a request that got no HTTP response at all (the observer reports 0). */
export function codeOf(code: number): string {
  return code > 0 ? String(code) : '<error>';
}

export class OperatorMetrics {
  private readonly phase: Gauge<'phase'>;
  private readonly components: Gauge<'mode'>;
  private readonly stepDuration: Histogram<StepLabel>;
  private readonly steps: Counter<StepLabel>;
  private readonly requests: Counter<'verb' | 'code'>;
  private readonly checkpoints: Gauge<'node' | 'component' | 'state'>;

  constructor(registry: Registry) {
    this.phase = ensureGauge<'phase'>(registry, {
      name: 'selfhost_controlplane_phase',
      help: 'The ControlPlane phase: 1 for the current phase, 0 for the others.',
      labelNames: ['phase'],
    });
    this.components = ensureGauge<'mode'>(registry, {
      name: 'selfhost_components',
      help: 'Number of components in each mode (StaticPod, SelfHosted, Absent).',
      labelNames: ['mode'],
    });
    this.stepDuration = ensureHistogram<StepLabel>(registry, {
      name: 'selfhost_step_duration_seconds',
      help: 'How long plan steps took, from start until healthy or failed.',
      labelNames: ['component', 'action', 'result'],
      buckets: [...STEP_BUCKETS],
    });
    this.steps = ensureCounter<StepLabel>(registry, {
      name: 'selfhost_steps_total',
      help: 'Plan steps finished, by component, action and result.',
      labelNames: ['component', 'action', 'result'],
    });
    this.requests = ensureCounter<'verb' | 'code'>(registry, {
      name: 'selfhost_apiserver_requests_total',
      help: 'Requests the operator sent to the API server, by verb and HTTP status code.',
      labelNames: ['verb', 'code'],
    });
    this.checkpoints = ensureGauge<'node' | 'component' | 'state'>(registry, {
      name: 'selfhost_checkpoint',
      help: 'Node-local checkpoints of the last known good pods: 1 for the state each is in (active: it runs the component now; dormant: standing by; unsaved: not yet written to the node).',
      labelNames: ['node', 'component', 'state'],
    });
    // Every phase and mode series exists from the start, so dashboards and alerts (e.g. on
    // phase="Degraded" == 1) never see a missing series instead of a 0.
    this.setPhase(undefined);
    this.setComponents([]);
  }

  /** undefined (status not written yet): every phase 0. */
  setPhase(phase: Phase | undefined): void {
    for (const p of PHASES) this.phase.set({ phase: p }, p === phase ? 1 : 0);
  }

  setComponents(statuses: readonly ComponentStatus[]): void {
    for (const mode of COMPONENT_MODES) {
      this.components.set({ mode }, statuses.filter((s) => s.mode === mode).length);
    }
  }

  /** One series per node, component and state; checkpoints that went away lose their series. */
  setCheckpoints(statuses: readonly CheckpointStatus[]): void {
    this.checkpoints.reset();
    for (const c of statuses) {
      const state = c.active ? 'active' : c.saved ? 'dormant' : 'unsaved';
      for (const s of ['active', 'dormant', 'unsaved']) this.checkpoints.set({ node: c.node, component: c.component, state: s }, s === state ? 1 : 0);
    }
  }

  observeStep(component: ComponentName, action: StepAction, result: StepResult, seconds: number): void {
    const labels = { component, action, result };
    this.stepDuration.observe(labels, seconds);
    this.steps.inc(labels);
  }

  /** For `kubeClient(kc, metrics.requestObserver())`. */
  requestObserver(): RequestObserver {
    return (method, _path, code) => this.requests.inc({ verb: verbOf(method), code: codeOf(code) });
  }
}
