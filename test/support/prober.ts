/**
 * An API prober for disruption measurements (after OpenShift's upgrade disruption monitors):
 * it samples the apiserver at a fixed rate (10 Hz by default) over two kinds of connection at
 * once: a fresh TCP+TLS connection per request ("fresh", catches a listener that refuses new
 * connections) and one reused keep-alive connection ("reused", catches a server that drops
 * established connections). Each sample records when it started, whether it succeeded, its
 * latency and its error. The report gives totals, failures per mode and the longest gap without
 * a successful response. The prober stops by itself after `maxDurationMs`.
 */
import { Agent as HttpAgent, request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest, type RequestOptions } from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';

export type ProbeMode = 'fresh' | 'reused';
export const PROBE_MODES: readonly ProbeMode[] = ['fresh', 'reused'];

export interface ProbeSample {
  mode: ProbeMode;
  /** When the request was sent (ms since the epoch). */
  at: number;
  ok: boolean;
  latencyMs: number;
  /** HTTP status, when a response came. */
  status?: number;
  /** Why it failed: "HTTP 503", "ECONNREFUSED", "timeout", ... */
  error?: string;
  /** True when the request went over an already open connection. */
  reusedConnection: boolean;
}

export interface Gap {
  ms: number;
  /** Last success before the gap (or the prober's start), ms since the epoch. */
  from: number;
  /** First success after the gap (or the prober's end). */
  to: number;
}

export interface ModeReport {
  total: number;
  failures: number;
  /** Failures by error text. */
  errors: Record<string, number>;
  /** Connections opened (samples not sent over a reused connection). */
  connections: number;
  longestGap: Gap;
  latencyMs: { p50: number; p99: number; max: number };
}

export interface ProbeReport {
  path: string;
  startedAt: number;
  durationMs: number;
  stoppedBy: 'stop' | 'maxDuration';
  total: number;
  failures: number;
  modes: Record<ProbeMode, ModeReport>;
  /** Longest time during which neither mode got a successful response. */
  longestGap: Gap;
  samples: ProbeSample[];
}

export interface ProberOptions {
  /** What to GET (default /readyz: answers 200 only when the apiserver and its etcd are ready). */
  path?: string;
  /** Samples per second per mode (default 10). */
  hz?: number;
  /** Per-request timeout (default 2000 ms). */
  timeoutMs?: number;
  /** The prober stops by itself after this long (default 10 min). */
  maxDurationMs?: number;
}

export interface ApiProber {
  /** Stops sampling, waits for requests in flight and reports. Idempotent. */
  stop(): Promise<ProbeReport>;
  /** Resolves with the report once the prober has stopped (by stop() or by maxDurationMs). */
  readonly done: Promise<ProbeReport>;
  /** Samples so far. */
  samples(): readonly ProbeSample[];
}

/** Starts probing the current cluster of `kc` with its credentials (token or client cert). */
export async function startProber(kc: KubeConfig, options: ProberOptions = {}): Promise<ApiProber> {
  const { path = '/readyz', hz = 10, timeoutMs = 2000, maxDurationMs = 10 * 60_000 } = options;
  const server = kc.getCurrentCluster()?.server;
  if (!server) throw new Error('prober: the kubeconfig has no current cluster');
  const url = new URL(path, server);
  const tls: RequestOptions = {};
  await kc.applyToHTTPSOptions(tls); // ca, cert/key, Authorization header
  const secure = url.protocol === 'https:';
  const send = secure ? httpsRequest : httpRequest;
  const keepAlive = secure
    ? new HttpsAgent({ keepAlive: true, maxSockets: 1 })
    : new HttpAgent({ keepAlive: true, maxSockets: 1 });

  const samples: ProbeSample[] = [];
  const inFlight = new Map<ProbeMode, Promise<void>>();
  const startedAt = Date.now();

  const probe = (mode: ProbeMode): Promise<void> =>
    new Promise((resolve) => {
      const at = Date.now();
      let settled = false;
      const finish = (s: Omit<ProbeSample, 'mode' | 'at' | 'latencyMs' | 'reusedConnection'>): void => {
        if (settled) return;
        settled = true;
        samples.push({ mode, at, latencyMs: Date.now() - at, reusedConnection: req.reusedSocket, ...s });
        resolve();
      };
      // Callbacks run asynchronously, after `req` is initialised.
      const req: ClientRequest = send(url, {
        ...tls,
        method: 'GET',
        headers: { ...tls.headers, accept: 'application/json' },
        // fresh: a throwaway agent, so a new connection that is closed afterwards.
        agent: mode === 'fresh' ? false : keepAlive,
        timeout: timeoutMs,
      }, (res: IncomingMessage) => {
        res.resume();
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          finish(status >= 200 && status < 300 ? { ok: true, status } : { ok: false, status, error: `HTTP ${status}` });
        });
        res.on('error', (err: Error) => finish({ ok: false, error: errorText(err) }));
      });
      req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'timeout' })));
      req.on('error', (err: Error) => finish({ ok: false, error: errorText(err) }));
      req.end();
    });

  const tick = (): void => {
    for (const mode of PROBE_MODES) {
      if (inFlight.has(mode)) continue; // a slow request spans ticks; its latency shows the stall
      const p = probe(mode).finally(() => inFlight.delete(mode));
      inFlight.set(mode, p);
    }
  };
  tick();
  const timer = setInterval(tick, Math.max(1, Math.round(1000 / hz)));

  let resolveDone: (r: ProbeReport) => void = () => undefined;
  const done = new Promise<ProbeReport>((r) => (resolveDone = r));
  let stopping: Promise<ProbeReport> | undefined;
  const stopWith = (stoppedBy: ProbeReport['stoppedBy']): Promise<ProbeReport> => {
    stopping ??= (async () => {
      clearInterval(timer);
      clearTimeout(bound);
      const endedAt = Date.now();
      await Promise.all(inFlight.values());
      keepAlive.destroy();
      const report = buildReport(path, startedAt, endedAt, stoppedBy, samples);
      resolveDone(report);
      return report;
    })();
    return stopping;
  };
  const bound = setTimeout(() => void stopWith('maxDuration'), maxDurationMs);
  return { stop: () => stopWith('stop'), done, samples: () => samples };
}

function errorText(err: Error): string {
  const code = (err as Error & { code?: unknown }).code;
  return typeof code === 'string' ? code : err.message;
}

/** Builds the report; exported for unit-style checks of the arithmetic. */
export function buildReport(
  path: string,
  startedAt: number,
  endedAt: number,
  stoppedBy: ProbeReport['stoppedBy'],
  samples: ProbeSample[],
): ProbeReport {
  const sorted = [...samples].sort((a, b) => a.at - b.at);
  const modes = Object.fromEntries(
    PROBE_MODES.map((mode) => {
      const mine = sorted.filter((s) => s.mode === mode);
      const failed = mine.filter((s) => !s.ok);
      const errors: Record<string, number> = {};
      for (const s of failed) errors[s.error ?? 'unknown'] = (errors[s.error ?? 'unknown'] ?? 0) + 1;
      const latencies = mine.map((s) => s.latencyMs).sort((a, b) => a - b);
      const report: ModeReport = {
        total: mine.length,
        failures: failed.length,
        errors,
        connections: mine.filter((s) => !s.reusedConnection).length,
        longestGap: longestGap(mine, startedAt, endedAt),
        latencyMs: { p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99), max: latencies.at(-1) ?? 0 },
      };
      return [mode, report];
    }),
  ) as Record<ProbeMode, ModeReport>;
  return {
    path,
    startedAt,
    durationMs: endedAt - startedAt,
    stoppedBy,
    total: sorted.length,
    failures: sorted.filter((s) => !s.ok).length,
    modes,
    longestGap: longestGap(sorted, startedAt, endedAt),
    samples: sorted,
  };
}

/**
 * The longest interval without a successful response: between consecutive successes (by the time
 * each answer arrived), from the start to the first success, and from the last success to the end.
 */
function longestGap(samples: ProbeSample[], startedAt: number, endedAt: number): Gap {
  const successes = samples.filter((s) => s.ok).map((s) => s.at + s.latencyMs).sort((a, b) => a - b);
  let best: Gap = { ms: 0, from: startedAt, to: startedAt };
  let prev = startedAt;
  for (const t of [...successes, endedAt]) {
    if (t - prev > best.ms) best = { ms: t - prev, from: prev, to: t };
    prev = Math.max(prev, t);
  }
  return best;
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? 0;
}

/** One line per mode, for logs: "fresh 150 samples, 0 failed, longest gap 112 ms, p99 9 ms; ...". */
export function summarize(report: ProbeReport): string {
  const parts = PROBE_MODES.map((m) => {
    const r = report.modes[m];
    const errs = Object.entries(r.errors).map(([e, n]) => `${e}×${n}`).join(', ');
    return `${m}: ${r.total} samples, ${r.failures} failed${errs ? ` (${errs})` : ''}, longest gap ${r.longestGap.ms} ms, p99 ${r.latencyMs.p99} ms, ${r.connections} connections`;
  });
  return `${report.path} over ${(report.durationMs / 1000).toFixed(1)} s (${report.stoppedBy}): ${parts.join('; ')}; longest gap without any success ${report.longestGap.ms} ms`;
}
