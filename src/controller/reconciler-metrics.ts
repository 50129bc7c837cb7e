/** controller-runtime's reconcile metrics (same names and labels, so its dashboards work). */
import type { Registry } from 'prom-client';
import { ensureCounter, ensureGauge, ensureHistogram } from './metrics.js';

export type ReconcileOutcome = 'success' | 'error' | 'requeue' | 'requeue_after';

export interface ReconcilerMetrics {
  reconciled(outcome: ReconcileOutcome, seconds: number): void;
  activeWorkers(delta: number): void;
}

// controller-runtime's buckets for controller_runtime_reconcile_time_seconds.
const BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.25, 1.5,
  1.75, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5, 6, 7, 8, 9, 10, 15, 20, 25, 30, 40, 50, 60,
];

const OUTCOMES: readonly ReconcileOutcome[] = ['success', 'error', 'requeue', 'requeue_after'];

export function reconcilerMetrics(registry: Registry, controller: string, workers: number): ReconcilerMetrics {
  const total = ensureCounter(registry, {
    name: 'controller_runtime_reconcile_total',
    help: 'Total number of reconciliations per controller',
    labelNames: ['controller', 'result'] as const,
  });
  const errors = ensureCounter(registry, {
    name: 'controller_runtime_reconcile_errors_total',
    help: 'Total number of reconciliation errors per controller',
    labelNames: ['controller'] as const,
  });
  const time = ensureHistogram(registry, {
    name: 'controller_runtime_reconcile_time_seconds',
    help: 'Length of time per reconciliation per controller',
    labelNames: ['controller'] as const,
    buckets: BUCKETS,
  });
  const active = ensureGauge(registry, {
    name: 'controller_runtime_active_workers',
    help: 'Number of currently used workers per controller',
    labelNames: ['controller'] as const,
  });
  const max = ensureGauge(registry, {
    name: 'controller_runtime_max_concurrent_reconciles',
    help: 'Maximum number of concurrent reconciles per controller',
    labelNames: ['controller'] as const,
  });
  // controller-runtime initialises every series so rates work from the first scrape.
  for (const result of OUTCOMES) total.inc({ controller, result }, 0);
  errors.inc({ controller }, 0);
  active.set({ controller }, 0);
  max.set({ controller }, workers);
  return {
    reconciled: (outcome, seconds) => {
      total.inc({ controller, result: outcome });
      if (outcome === 'error') errors.inc({ controller });
      time.observe({ controller }, seconds);
    },
    activeWorkers: (delta) => active.inc({ controller }, delta),
  };
}
