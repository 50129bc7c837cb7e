/**
 * Get-or-create for prom-client metrics on an injected Registry: several queues, controllers or
 * electors may share one registry, and prom-client refuses to register a name twice.
 */
import {
  Counter,
  Gauge,
  Histogram,
  type CounterConfiguration,
  type GaugeConfiguration,
  type HistogramConfiguration,
  type Registry,
} from 'prom-client';

type Ctor<M> = new (...args: never[]) => M;

function existing<M>(registry: Registry, name: string, kind: Ctor<M>): M | undefined {
  const found = registry.getSingleMetric(name);
  if (found === undefined) return undefined;
  if (!(found instanceof kind)) {
    throw new Error(`metric ${name} is already registered with another type`);
  }
  return found;
}

export function ensureCounter<T extends string>(
  registry: Registry,
  config: Omit<CounterConfiguration<T>, 'registers'>,
): Counter<T> {
  return (existing(registry, config.name, Counter) as Counter<T> | undefined) ??
    new Counter<T>({ ...config, registers: [registry] });
}

export function ensureGauge<T extends string>(
  registry: Registry,
  config: Omit<GaugeConfiguration<T>, 'registers'>,
): Gauge<T> {
  return (existing(registry, config.name, Gauge) as Gauge<T> | undefined) ??
    new Gauge<T>({ ...config, registers: [registry] });
}

export function ensureHistogram<T extends string>(
  registry: Registry,
  config: Omit<HistogramConfiguration<T>, 'registers'>,
): Histogram<T> {
  return (existing(registry, config.name, Histogram) as Histogram<T> | undefined) ??
    new Histogram<T>({ ...config, registers: [registry] });
}
