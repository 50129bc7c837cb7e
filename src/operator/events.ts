/**
 * Kubernetes Events (events.k8s.io/v1) about the ControlPlane, deduplicated like client-go's
 * tools/events recorder: a repeat of the same event within a series updates that Event's
 * `series {count, lastObservedTime}` instead of creating another object.
 *
 * Events are best-effort: a write that fails is logged once and dropped (no retry loop), and
 * nothing here ever throws into the reconcile that emitted it.
 */
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { Clock, Timer } from '../controller/clock.js';
import { isConflict, type JsonObject, type KubeClient } from '../kube/client.js';

export type EventType = 'Normal' | 'Warning';

/** What the event is about. Cluster-scoped objects (the ControlPlane) have no namespace. */
export interface EventRegarding {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
  uid?: string;
}

export interface EventInput {
  type: EventType;
  /** Why (CamelCase, e.g. `PivotFailed`). */
  reason: string;
  /** What was done or failed (CamelCase, e.g. `Pivot`). */
  action: string;
  /** Human-readable detail. */
  note: string;
  regarding: EventRegarding;
}

export interface EventRecorderOptions {
  client: Pick<KubeClient, 'create' | 'apply'>;
  /** Monotonic time for series windows and write spacing. */
  clock: Pick<Clock, 'now' | 'setTimeout'>;
  /** Wall time for eventTime and lastObservedTime; default `new Date(clock.now())`. */
  wallClock?: () => Date;
  logger: Logger;
  /** reportingInstance: who in particular (e.g. the pod name). */
  identity: string;
  /** Series remembered at most (least recently emitted forgotten first). Default 4096. */
  maxSeries?: number;
  /** A repeat later than this after the last one starts a new Event. Default 6 min (client-go). */
  seriesWindowMs?: number;
  /** Minimum spacing of series updates of one Event; repeats in between are coalesced. Default 10 s. */
  seriesUpdateIntervalMs?: number;
}

export const REPORTING_CONTROLLER = 'selfhost.dev/operator';
/** Where events about cluster-scoped objects go (the API server requires `default` for them). */
export const CLUSTER_SCOPED_EVENT_NAMESPACE = 'default';
/** The API server's limits: note ≤ 1024 bytes, reason/action/reportingInstance ≤ 128. */
export const MAX_NOTE_BYTES = 1024;
export const MAX_SHORT_FIELD_BYTES = 128;
const DNS_SUBDOMAIN_MAX = 253;
const HASH_HEX = 16;

/** metav1.MicroTime: RFC 3339 with exactly six fractional digits (Dates carry milliseconds). */
export function microTime(d: Date): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/**
 * Cuts s to at most maxBytes of UTF-8 (the API server counts bytes, not characters) without
 * splitting a character; a cut note ends in `…` so readers know there was more.
 */
export function truncateUtf8(s: string, maxBytes: number, marker = ''): string {
  if (Buffer.byteLength(s) <= maxBytes) return s;
  const budget = maxBytes - Buffer.byteLength(marker);
  let used = 0;
  let out = '';
  for (const ch of s) {
    const n = Buffer.byteLength(ch);
    if (used + n > budget) break;
    used += n;
    out += ch;
  }
  return out + marker;
}

/** Per (regarding, type, reason, action, note): one Event and what of it was written. */
interface Series {
  readonly name: string;
  readonly namespace: string;
  /** The Event as created (no series). */
  readonly body: JsonObject;
  readonly reason: string;
  count: number;
  lastObservedTime: string;
  lastObservedAt: number;
  /** The count the last write carried (attempted: failed writes are not retried). */
  written: number;
  lastWriteAt: number | undefined;
  writing: Promise<void> | undefined;
  timer: Timer | undefined;
}

export class EventRecorder {
  private readonly client: EventRecorderOptions['client'];
  private readonly clock: EventRecorderOptions['clock'];
  private readonly wallClock: () => Date;
  private readonly logger: Logger;
  private readonly identity: string;
  private readonly maxSeries: number;
  private readonly windowMs: number;
  private readonly intervalMs: number;
  /** LRU: Map iteration order is insertion order, so a touch re-inserts at the end. */
  private readonly cache = new Map<string, Series>();
  /** Series with a write running or armed (evicted or ended ones too, until written). */
  private readonly pending = new Set<Series>();
  private closed = false;

  constructor(options: EventRecorderOptions) {
    this.client = options.client;
    this.clock = options.clock;
    this.wallClock = options.wallClock ?? (() => new Date(options.clock.now()));
    this.logger = options.logger;
    this.identity = truncateUtf8(options.identity, MAX_SHORT_FIELD_BYTES);
    this.maxSeries = options.maxSeries ?? 4096;
    this.windowMs = options.seriesWindowMs ?? 6 * 60_000;
    this.intervalMs = options.seriesUpdateIntervalMs ?? 10_000;
  }

  /** Records an event; returns at once (the write happens in the background). Never throws. */
  emit(input: EventInput): void {
    try {
      if (this.closed) {
        this.logger.debug({ reason: input.reason }, 'event recorder closed; event dropped');
        return;
      }
      this.schedule(this.observe(input));
    } catch (err) {
      this.logger.warn({ err, reason: input.reason }, 'could not record event');
    }
  }

  /** Writes every coalesced series update now and waits for all writes to settle. */
  async flush(): Promise<void> {
    while (this.pending.size > 0) {
      for (const s of this.pending) {
        // Defensive: an entry with nothing to wait for would make this loop spin forever.
        if (s.timer === undefined && s.writing === undefined) this.pending.delete(s);
        if (s.timer !== undefined) {
          s.timer.cancel();
          s.timer = undefined;
          this.write(s);
        }
      }
      await Promise.all([...this.pending].map((s) => s.writing));
    }
  }

  /** Stops accepting events and flushes (on shutdown, so the last counts reach the API). */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
  }

  private observe(input: EventInput): Series {
    const type = input.type;
    const reason = truncateUtf8(input.reason, MAX_SHORT_FIELD_BYTES);
    const action = truncateUtf8(input.action, MAX_SHORT_FIELD_BYTES);
    const note = truncateUtf8(input.note, MAX_NOTE_BYTES, '…');
    const r = input.regarding;
    const key = JSON.stringify([r.apiVersion, r.kind, r.namespace ?? '', r.name, r.uid ?? '', type, reason, action, note]);
    const now = this.clock.now();
    const wall = microTime(this.wallClock());

    const known = this.cache.get(key);
    this.cache.delete(key);
    if (known !== undefined && now - known.lastObservedAt <= this.windowMs) {
      known.count++;
      known.lastObservedTime = wall;
      known.lastObservedAt = now;
      this.cache.set(key, known);
      return known;
    }

    // Deterministic per key and first occurrence: a retried create hits the same name (409, fine)
    // and a series that ended and began again gets a fresh Event.
    const hash = createHash('sha256').update(`${key}\n${wall}`).digest('hex').slice(0, HASH_HEX);
    const name = `${r.name.slice(0, DNS_SUBDOMAIN_MAX - HASH_HEX - 1)}.${hash}`;
    const namespace = r.namespace ?? CLUSTER_SCOPED_EVENT_NAMESPACE;
    const regarding: JsonObject = { apiVersion: r.apiVersion, kind: r.kind, name: r.name };
    if (r.namespace !== undefined) regarding['namespace'] = r.namespace;
    if (r.uid !== undefined) regarding['uid'] = r.uid;
    const body: JsonObject = {
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      metadata: { name, namespace },
      eventTime: wall,
      reportingController: REPORTING_CONTROLLER,
      reportingInstance: this.identity,
      action,
      reason,
      regarding,
      note,
      type,
    };
    const series: Series = {
      name,
      namespace,
      body,
      reason,
      count: 1,
      lastObservedTime: wall,
      lastObservedAt: now,
      written: 0,
      lastWriteAt: undefined,
      writing: undefined,
      timer: undefined,
    };
    this.cache.set(key, series);
    // Forgetting a series only means its next repeat starts a new Event; a pending update of the
    // forgotten one is still written (it stays in `pending`).
    for (const oldest of this.cache.keys()) {
      if (this.cache.size <= this.maxSeries) break;
      this.cache.delete(oldest);
    }
    return series;
  }

  /**
   * One write per Event at a time, spaced by the update interval: repeats in between only bump
   * the count, and the next write carries the latest one (a hot error loop costs one PATCH per
   * interval, not one per repeat).
   */
  private schedule(s: Series): void {
    if (s.writing !== undefined || s.timer !== undefined || s.written >= s.count) return;
    const delay = s.lastWriteAt === undefined ? 0 : s.lastWriteAt + this.intervalMs - this.clock.now();
    if (delay <= 0) {
      this.write(s);
      return;
    }
    this.pending.add(s);
    s.timer = this.clock.setTimeout(() => {
      s.timer = undefined;
      this.write(s);
    }, delay);
  }

  private write(s: Series): void {
    const count = s.count;
    this.pending.add(s);
    s.writing = this.send(s, count).finally(() => {
      s.writing = undefined;
      s.written = count;
      s.lastWriteAt = this.clock.now();
      this.pending.delete(s);
      this.schedule(s);
    });
  }

  /**
   * The first occurrence is a POST. Repeats are a server-side apply of the whole Event plus
   * `series`: the immutable fields go again unchanged (which the API server accepts), and if the
   * Event is gone (the API server's event TTL, or a create that failed) the apply recreates it
   * complete instead of failing like a patch of just `series` would.
   */
  private async send(s: Series, count: number): Promise<void> {
    const collection = `/apis/events.k8s.io/v1/namespaces/${s.namespace}/events`;
    try {
      if (count === 1) {
        await this.client.create(collection, s.body);
      } else {
        const series = { count, lastObservedTime: s.lastObservedTime };
        await this.client.apply(`${collection}/${s.name}`, { ...s.body, series });
      }
    } catch (err) {
      if (count === 1 && isConflict(err)) return; // an earlier attempt of this very create landed
      this.logger.warn({ err, event: s.name, reason: s.reason, count }, 'could not write event');
    }
  }
}
