/**
 * The node agent's loop: level-based reconcile of this node's static manifests against
 * desired.json, reporting observed.json. See README.md for the exact rules.
 *
 * Each pass: read desired (informer cache once synced, else a GET, else the last one seen), scan
 * the disk, act, rescan if anything changed, and write observed.json if its text changed. Passes
 * run every intervalMs and whenever the ConfigMap changes. The API is expected to be down while
 * etcd and the apiserver hand over, so API errors only delay the next pass (backoff); the agent
 * keeps acting on the last desired state it saw and never exits on its own.
 */
import type { Logger } from 'pino';
import {
  AGENT_FIELD_MANAGER,
  agentConfigMapName,
  type AgentConflict,
  type AgentDesired,
  type AgentObserved,
  type ObservedCheckpoint,
} from '../api/agent.js';
import { Backoff, type BackoffOptions } from '../controller/backoff.js';
import { realClock, type Clock } from '../controller/clock.js';
import { Informer } from '../controller/informer.js';
import type { ListWatchSource } from '../controller/list-watch.js';
import type { KubeClient } from '../kube/client.js';
import {
  agentConfigMapPath,
  computeConfigMapView,
  computeDesiredInput,
  computeObservedApply,
  type AgentConfigMap,
  type AgentConfigMapView,
} from './configmap.js';
import type { DiskOps } from './disk.js';
import { executeAgentPlan } from './execute.js';
import {
  computeCheckpointPlan,
  computeObservedCheckpoints,
  executeCheckpointPlan,
  scanCheckpoints,
  type CheckpointPaths,
} from './checkpoints.js';
import { computeAgentPlan } from './plan.js';
import { computeAgentObserved, formatAgentObserved } from './report.js';
import { computeSha256, scanDisk } from './snapshot.js';

type AgentDesiredCheckpoints = AgentDesired['checkpoints'];

export interface NodeAgentOptions {
  node: string;
  namespace: string;
  manifestDir: string;
  backupDir: string;
  /** Disk rescan period. */
  intervalMs: number;
  client: KubeClient;
  /** Watches this node's ConfigMap (kubeListWatch with a name field selector in production). */
  source: ListWatchSource<AgentConfigMap>;
  disk: DiskOps;
  logger: Logger;
  clock?: Clock;
  random?: () => number;
  /** Delays after failed passes. Default 500 ms doubling to 10 s, jitter 0.5. */
  backoff?: BackoffOptions;
  /** Checkpoints (reboot survival): where they live, and the supervisor binary to install. */
  checkpoints?: { paths: CheckpointPaths; source: () => Promise<Uint8Array> };
}

export interface PassResult {
  /** Disk actions done. */
  changed: number;
  /** Whether observed.json was written. */
  reported: boolean;
  observed: AgentObserved;
}

export class NodeAgent {
  private readonly opts: NodeAgentOptions;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly path: string;
  private readonly key: string;
  private readonly backoff: Backoff;
  private readonly informer: Informer<AgentConfigMap>;
  /** The ConfigMap as last read; undefined until the first successful read. */
  private lastSeen: AgentConfigMapView | undefined;
  /** sha256 of the desired.json text last fully acted on. */
  private actedSha = '';
  /** Our last write, to tell "the cache has not caught up yet" from "someone changed it". */
  private lastApplied: { text: string; beforeResourceVersion: string | undefined } | undefined;
  private lastConflicts = '[]';
  private sourceSha256: string | undefined;
  private kicked = false;
  private wake: (() => void) | undefined;

  constructor(opts: NodeAgentOptions) {
    this.opts = opts;
    this.clock = opts.clock ?? realClock();
    this.logger = opts.logger;
    this.path = agentConfigMapPath(opts.namespace, opts.node);
    this.key = `${opts.namespace}/${agentConfigMapName(opts.node)}`;
    this.backoff = new Backoff(opts.backoff ?? { initialMs: 500, maxMs: 10_000, jitter: 0.5 }, opts.random);
    this.informer = new Informer<AgentConfigMap>({
      name: 'agent-configmap',
      source: opts.source,
      queue: { add: () => this.kick() },
      logger: opts.logger,
      clock: this.clock,
      ...(opts.random === undefined ? {} : { random: opts.random }),
      // The disk is rescanned every intervalMs anyway, which re-reads the cache.
      resyncMs: 0,
    });
  }

  /** Runs passes until signal aborts; never throws for API or disk errors. */
  async run(signal: AbortSignal): Promise<void> {
    this.informer.start();
    this.logger.info(
      { manifestDir: this.opts.manifestDir, backupDir: this.opts.backupDir, intervalMs: this.opts.intervalMs },
      'agent started',
    );
    try {
      await this.waitForFirstSync(signal);
      while (!signal.aborted) {
        let delayMs = this.opts.intervalMs;
        try {
          await this.reconcile(signal);
          if (this.backoff.count > 0) this.logger.info({ failures: this.backoff.count }, 'pass succeeded again');
          this.backoff.reset();
        } catch (err) {
          if (signal.aborted) break;
          delayMs = this.backoff.fail();
          this.logger.warn({ err, delayMs, failures: this.backoff.count }, 'pass failed; retrying');
        }
        await this.waitForWork(delayMs, signal);
      }
    } finally {
      await this.informer.stop();
      this.logger.info('agent stopped');
    }
  }

  /**
   * One level-based pass. Acts on disk with the last desired state it knows even when the API is
   * unreachable, then throws that API error (the report cannot be written).
   */
  async reconcile(signal?: AbortSignal): Promise<PassResult> {
    let readError: unknown;
    // A standby marker may be refreshed only on the API's word in this very pass (a cache read
    // proves nothing about the API now), so with standby checkpoints the pass reads with a GET.
    const previous = computeDesiredInput(this.lastSeen);
    const fresh = previous.kind === 'ok' && (previous.desired.checkpoints ?? []).some((c) => c.standby);
    try {
      this.lastSeen = await this.readConfigMap(signal, fresh);
    } catch (err) {
      readError = err;
    }
    const cm = this.lastSeen;
    const input = computeDesiredInput(cm);
    const { manifestDir, backupDir, disk, logger } = this.opts;

    const before = await scanDisk(disk, manifestDir, backupDir);
    // Unknown or malformed desired: only our own leftover temp files are cleaned up.
    const plan = computeAgentPlan(input.kind === 'ok' ? input.desired : undefined, before);
    const result = await executeAgentPlan(plan, disk, logger);
    const cp = await this.reconcileCheckpoints(input.kind === 'ok' ? input.desired.checkpoints : undefined, readError === undefined && cm !== undefined);
    const after = result.done + cp.done > 0 ? await scanDisk(disk, manifestDir, backupDir) : before;

    if (input.kind === 'absent') this.actedSha = '';
    else if (input.kind === 'ok' && result.failures.length === 0 && cp.failures.length === 0) this.actedSha = input.sha256;
    const conflicts = [...(input.kind === 'malformed' ? [input.conflict] : []), ...plan.conflicts, ...result.failures, ...cp.failures];
    const observed = computeAgentObserved({
      node: this.opts.node,
      desiredSha256: this.actedSha,
      snapshot: after,
      conflicts,
      ...(cp.observed === undefined ? {} : { checkpoints: cp.observed }),
    });
    this.logConflicts(observed.conflicts);

    if (readError !== undefined || cm === undefined) {
      throw new Error(`reading ConfigMap ${this.key}: ${readError instanceof Error ? readError.message : String(readError)}`, {
        cause: readError,
      });
    }
    const reported = await this.report(cm, formatAgentObserved(observed), observed, signal);
    return { changed: result.done, reported, observed };
  }

  /** The checkpoint part of a pass: plan, act, and what to report (undefined without checkpoints). */
  private async reconcileCheckpoints(
    desired: AgentDesiredCheckpoints,
    apiAnswered: boolean,
  ): Promise<{ done: number; failures: AgentConflict[]; observed?: ObservedCheckpoint[] }> {
    const cfg = this.opts.checkpoints;
    if (cfg === undefined) return { done: 0, failures: [] };
    const { disk, logger } = this.opts;
    try {
      this.sourceSha256 ??= computeSha256(await cfg.source());
      const scanned = await scanCheckpoints(disk, cfg.paths);
      const actions = computeCheckpointPlan({ desired, disk: scanned, sourceSha256: this.sourceSha256, apiAnswered });
      const result = await executeCheckpointPlan(actions, disk, cfg.paths, cfg.source, () => new Date(this.clock.now()), logger);
      const after = result.done > 0 ? await scanCheckpoints(disk, cfg.paths) : scanned;
      return { ...result, observed: computeObservedCheckpoints(after) };
    } catch (err) {
      logger.error({ err }, 'checkpoints: scanning failed');
      return { done: 0, failures: [{ path: cfg.paths.runDir, message: `checkpoints: ${err instanceof Error ? err.message : String(err)}` }] };
    }
  }

  private async readConfigMap(signal: AbortSignal | undefined, fresh = false): Promise<AgentConfigMapView> {
    if (!fresh && this.informer.hasSynced()) return computeConfigMapView(this.informer.get(this.key));
    return computeConfigMapView(await this.opts.client.get(this.path, signal));
  }

  /** Writes observed.json when its text differs from the ConfigMap's; true when it wrote. */
  private async report(cm: AgentConfigMapView, text: string, observed: AgentObserved, signal?: AbortSignal): Promise<boolean> {
    if (cm.observed === text) return false;
    // Our previous write is not in the cache yet: the ConfigMap we compare with is the one it replaced.
    if (this.lastApplied?.text === text && this.lastApplied.beforeResourceVersion === cm.resourceVersion) return false;
    await this.opts.client.apply(
      this.path,
      computeObservedApply(this.opts.namespace, this.opts.node, text),
      { fieldManager: AGENT_FIELD_MANAGER, force: true },
      signal,
    );
    this.lastApplied = { text, beforeResourceVersion: cm.resourceVersion };
    this.logger.info(
      { desiredSha256: observed.desiredSha256, manifests: observed.manifests.length, backups: observed.backups.length, conflicts: observed.conflicts.length },
      'reported observed state',
    );
    return true;
  }

  /** Conflicts are re-evaluated every pass; log them only when they change. */
  private logConflicts(conflicts: AgentConflict[]): void {
    const text = JSON.stringify(conflicts);
    if (text === this.lastConflicts) return;
    this.lastConflicts = text;
    if (conflicts.length > 0) this.logger.warn({ conflicts }, 'refusing to act on some desired manifests');
    else this.logger.info('no conflicts');
  }

  /**
   * Gives the informer up to one interval to list, so the first pass reads the cache instead of
   * racing it with a GET; the list's own "changed" signal is then covered by that first pass.
   */
  private async waitForFirstSync(signal: AbortSignal): Promise<void> {
    const timeout = new AbortController();
    const onAbort = (): void => timeout.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    const timer = this.clock.setTimeout(onAbort, this.opts.intervalMs);
    await this.informer.whenSynced(signal.aborted ? signal : timeout.signal);
    timer.cancel();
    signal.removeEventListener('abort', onAbort);
    this.kicked = false;
  }

  private kick(): void {
    this.kicked = true;
    this.wake?.();
  }

  /** Sleeps ms, or less when the ConfigMap changed (meanwhile or during the sleep). */
  private async waitForWork(ms: number, signal: AbortSignal): Promise<void> {
    if (!this.kicked) {
      // One controller per wait, linked to the long-lived signal by a listener removed afterwards
      // (composite signals from AbortSignal.any would pile up on it over days of passes).
      const woken = new AbortController();
      const onAbort = (): void => woken.abort();
      signal.addEventListener('abort', onAbort, { once: true });
      this.wake = onAbort;
      await this.clock.sleep(ms, signal.aborted ? signal : woken.signal);
      this.wake = undefined;
      signal.removeEventListener('abort', onAbort);
    }
    this.kicked = false;
  }
}
