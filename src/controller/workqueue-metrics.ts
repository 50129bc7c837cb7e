/**
 * client-go / controller-runtime work queue metrics (same names, label `name`), so existing
 * dashboards work unchanged.
 */
import type { Gauge, Registry } from 'prom-client';
import { ensureCounter, ensureGauge, ensureHistogram } from './metrics.js';

/** What one queue reports. Times are seconds. */
export interface WorkqueueMetrics {
  added(): void;
  depth(n: number): void;
  queued(seconds: number): void;
  worked(seconds: number): void;
  retried(): void;
  /** The queue is gone: stop reporting its in-flight work. */
  close(): void;
}

/** Ages in seconds of the items being processed right now, read at scrape time. */
export type InFlightAges = () => number[];

export const noopWorkqueueMetrics: WorkqueueMetrics = {
  added: () => undefined,
  depth: () => undefined,
  queued: () => undefined,
  worked: () => undefined,
  retried: () => undefined,
  close: () => undefined,
};

// controller-runtime: prometheus.ExponentialBuckets(10e-9, 10, 12) — 10 ns … ~1000 s.
const BUCKETS = Array.from({ length: 12 }, (_, i) => 1e-8 * Math.pow(10, i));

/**
 * The in-flight gauges are computed at scrape time from every live queue on the registry (instead
 * of client-go's 500 ms update loop: no timer to own). Keyed weakly by the injected registry.
 */
const inFlightByRegistry = new WeakMap<Registry, Map<string, InFlightAges>>();

function inFlightSources(registry: Registry): Map<string, InFlightAges> {
  const known = inFlightByRegistry.get(registry);
  if (known !== undefined) return known;
  const sources = new Map<string, InFlightAges>();
  inFlightByRegistry.set(registry, sources);
  const scraped = (name: string, help: string, fold: (ages: number[]) => number): void => {
    ensureGauge<'name'>(registry, {
      name,
      help,
      labelNames: ['name'],
      collect(this: Gauge<'name'>) {
        this.reset();
        for (const [queue, ages] of sources) this.set({ name: queue }, fold(ages()));
      },
    });
  };
  scraped(
    'workqueue_unfinished_work_seconds',
    'How many seconds of work has been done that is in progress and has not been observed by work_duration. Large values indicate stuck threads.',
    (ages) => ages.reduce((a, b) => a + b, 0),
  );
  scraped(
    'workqueue_longest_running_processor_seconds',
    'How many seconds has the longest running processor for workqueue been running.',
    (ages) => ages.reduce((a, b) => Math.max(a, b), 0),
  );
  return sources;
}

export function workqueueMetrics(registry: Registry, name: string, inFlight: InFlightAges): WorkqueueMetrics {
  const labels = { name };
  const labelNames = ['name'] as const;
  const depth = ensureGauge(registry, { name: 'workqueue_depth', help: 'Current depth of workqueue', labelNames });
  const adds = ensureCounter(registry, {
    name: 'workqueue_adds_total',
    help: 'Total number of adds handled by workqueue',
    labelNames,
  });
  const queueLatency = ensureHistogram(registry, {
    name: 'workqueue_queue_duration_seconds',
    help: 'How long in seconds an item stays in workqueue before being requested',
    labelNames,
    buckets: BUCKETS,
  });
  const workDuration = ensureHistogram(registry, {
    name: 'workqueue_work_duration_seconds',
    help: 'How long in seconds processing an item from workqueue takes.',
    labelNames,
    buckets: BUCKETS,
  });
  const retries = ensureCounter(registry, {
    name: 'workqueue_retries_total',
    help: 'Total number of retries handled by workqueue',
    labelNames,
  });
  // Zero-initialise so the series exist before the first event, as client-go does.
  depth.set(labels, 0);
  adds.inc(labels, 0);
  retries.inc(labels, 0);
  const sources = inFlightSources(registry);
  sources.set(name, inFlight);
  return {
    added: () => adds.inc(labels),
    depth: (n) => depth.set(labels, n),
    queued: (s) => queueLatency.observe(labels, s),
    worked: (s) => workDuration.observe(labels, s),
    retried: () => retries.inc(labels),
    close: () => {
      if (sources.get(name) === inFlight) sources.delete(name);
    },
  };
}
