import { afterEach, describe, expect, it } from 'vitest';
import { formatAgentDesired, parseAgentObserved, type AgentDesired, type AgentObserved } from '../api/agent.js';
import { FakeClock } from '../controller/fake-clock.js';
import type { ListResult, ListWatchSource, WatchEvent } from '../controller/list-watch.js';
import type { ApplyOptions, JsonObject, KubeClient } from '../kube/client.js';
import { captureLogs } from '../testing/log-lines.js';
import { NodeAgent } from './agent.js';
import type { AgentConfigMap } from './configmap.js';
import { MemoryDisk } from './memory-disk.js';
import { computeSha256 } from './snapshot.js';

const M = '/etc/kubernetes/manifests';
const B = '/etc/kubernetes/selfhost/backup';
const NAME = 'selfhost-agent-cp-1';
const PATH = `/api/v1/namespaces/kube-system/configmaps/${NAME}`;
const ORIGINAL = 'kind: Pod\nmetadata: {name: etcd}\n';
const PREPARED = `${ORIGINAL}# port sharing\n`;

const desiredText = (state: 'Prepared' | 'Retired' | 'Original'): string =>
  formatAgentDesired({
    manifests: [
      {
        path: `${M}/etcd.yaml`,
        state,
        originalSha256: computeSha256(ORIGINAL),
        ...(state === 'Prepared' ? { content: PREPARED } : {}),
        writtenSha256: [computeSha256(PREPARED)],
      },
    ],
  } satisfies AgentDesired);

interface Watcher {
  signal: AbortSignal;
  onEvent: (e: WatchEvent<AgentConfigMap>) => void;
  onDone: (err?: unknown) => void;
}

/** The API server as far as the agent sees it: its ConfigMap, get/apply, list/watch. */
class FakeApi implements KubeClient {
  cm: AgentConfigMap | undefined;
  rv = 100;
  down = false;
  /** The next this-many applies fail (the API is up for reads). */
  failApplies = 0;
  calls: string[] = [];
  applies: { path: string; body: JsonObject; options: ApplyOptions | undefined; at: number }[] = [];
  watchers: Watcher[] = [];
  onApply: (() => void) | undefined;

  constructor(readonly clock: FakeClock) {}

  private unreachable(): Error {
    return new Error('connect ECONNREFUSED 10.96.0.1:443');
  }

  private emit(type: 'ADDED' | 'MODIFIED'): void {
    for (const w of this.watchers) if (!w.signal.aborted && this.cm) w.onEvent({ type, object: structuredClone(this.cm) });
  }

  private put(data: Record<string, string>, labels: Record<string, string> = {}): void {
    const type = this.cm === undefined ? 'ADDED' : 'MODIFIED';
    const old = this.cm;
    this.cm = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: NAME, namespace: 'kube-system', resourceVersion: String(++this.rv), labels: { ...old?.metadata?.labels, ...labels } },
      data: { ...old?.data, ...data },
    };
    this.emit(type);
  }

  /** The operator writes desired.json. */
  setDesired(text: string): void {
    this.put({ 'desired.json': text });
  }

  goDown(): void {
    this.down = true;
    for (const w of this.watchers.splice(0)) if (!w.signal.aborted) w.onDone(this.unreachable());
  }

  observed(): AgentObserved | undefined {
    const text = this.cm?.data?.['observed.json'];
    return text === undefined ? undefined : parseAgentObserved(text);
  }

  get(path: string): Promise<JsonObject | undefined> {
    this.calls.push(`GET ${path}`);
    if (this.down) return Promise.reject(this.unreachable());
    return Promise.resolve(this.cm === undefined ? undefined : (structuredClone(this.cm) as JsonObject));
  }

  apply(path: string, body: JsonObject, options?: ApplyOptions): Promise<JsonObject> {
    this.calls.push(`APPLY ${path}`);
    this.applies.push({ path, body, options, at: this.clock.now() });
    if (this.down) return Promise.reject(this.unreachable());
    if (this.failApplies > 0) {
      this.failApplies--;
      return Promise.reject(new Error('APPLY: HTTP 500: etcdserver: leader changed'));
    }
    this.onApply?.();
    const b = body as { data: Record<string, string>; metadata: { labels: Record<string, string> } };
    this.put(b.data, b.metadata.labels);
    return Promise.resolve(structuredClone(this.cm) as JsonObject);
  }

  list(): Promise<JsonObject[]> {
    return Promise.reject(new Error('the agent does not list through the client'));
  }

  create(): Promise<JsonObject> {
    return Promise.reject(new Error('the agent does not create'));
  }

  replace(): Promise<JsonObject> {
    return Promise.reject(new Error('the agent does not replace'));
  }

  delete(): Promise<boolean> {
    return Promise.reject(new Error('the agent does not delete'));
  }

  // The informer's side (see source()).
  listConfigMaps(): Promise<ListResult<AgentConfigMap>> {
    this.calls.push('LIST');
    if (this.down) return Promise.reject(this.unreachable());
    return Promise.resolve({ items: this.cm ? [structuredClone(this.cm)] : [], resourceVersion: String(this.rv) });
  }

  watch(_rv: string, signal: AbortSignal, onEvent: Watcher['onEvent'], onDone: Watcher['onDone']): void {
    this.calls.push('WATCH');
    if (this.down) {
      queueMicrotask(() => onDone(this.unreachable()));
      return;
    }
    this.watchers.push({ signal, onEvent, onDone });
  }
}

/** ListWatchSource's list() under its own name, since KubeClient also has a list(). */
function source(api: FakeApi): ListWatchSource<AgentConfigMap> {
  return { list: () => api.listConfigMaps(), watch: (rv, s, e, d) => api.watch(rv, s, e, d) };
}


const running: AbortController[] = [];
afterEach(() => {
  for (const c of running.splice(0)) c.abort();
});

function start(api: FakeApi, disk: MemoryDisk, withCheckpoints = false) {
  const { logger, lines } = captureLogs();
  const agent = new NodeAgent({
    node: 'cp-1',
    namespace: 'kube-system',
    manifestDir: M,
    backupDir: B,
    intervalMs: 2000,
    client: api,
    source: source(api),
    disk,
    logger,
    clock: api.clock,
    random: () => 0,
    backoff: { initialMs: 500, maxMs: 4000, jitter: 0 },
    ...(withCheckpoints
      ? { checkpoints: { paths: { manifestDir: M, binPath: '/etc/kubernetes/selfhost/bin/gx', runDir: '/run/selfhost/checkpoints' }, source: () => Promise.resolve(Buffer.from('gx')) } }
      : {}),
  });
  const stop = new AbortController();
  running.push(stop);
  let finished = false;
  const done = agent.run(stop.signal).then(() => {
    finished = true;
  });
  const logged = (msg: string): number => lines.filter((l) => l['msg'] === msg).length;
  return { agent, stop, done, lines, logged, finished: () => finished };
}

function setup(desired: string | undefined, files: Record<string, string> = { [`${M}/etcd.yaml`]: ORIGINAL }) {
  const clock = new FakeClock(0);
  const api = new FakeApi(clock);
  if (desired !== undefined) api.setDesired(desired);
  const disk = new MemoryDisk(files);
  return { clock, api, disk };
}

describe('NodeAgent', () => {
  it('acts on desired.json, then reports what is on disk, with field manager selfhost-agent', async () => {
    const { clock, api, disk } = setup(desiredText('Prepared'));
    let diskAtApply: string[] = [];
    api.onApply = () => {
      diskAtApply = [...disk.files.keys()].sort().map((p) => `${p}=${disk.text(p)}`);
    };
    start(api, disk);
    await clock.advance(0);

    expect(disk.log).toEqual([`write ${B}/etcd.yaml`, `write ${M}/etcd.yaml`]);
    expect(api.applies).toHaveLength(1);
    expect(diskAtApply).toEqual([`${M}/etcd.yaml=${PREPARED}`, `${B}/etcd.yaml=${ORIGINAL}`]);
    expect(api.applies[0]?.path).toBe(PATH);
    expect(api.applies[0]?.options).toEqual({ fieldManager: 'selfhost-agent', force: true });
    expect(api.observed()).toEqual({
      node: 'cp-1',
      desiredSha256: computeSha256(desiredText('Prepared')),
      manifests: [{ path: `${M}/etcd.yaml`, sha256: computeSha256(PREPARED), content: PREPARED }],
      backups: [{ path: `${M}/etcd.yaml`, sha256: computeSha256(ORIGINAL), content: ORIGINAL }],
      conflicts: [],
    });
    expect(api.cm?.metadata?.labels).toEqual({ 'app.kubernetes.io/managed-by': 'selfhost', 'selfhost.dev/node': 'cp-1' });
  });

  it('makes no API request and no disk write while nothing changes', async () => {
    const { clock, api, disk } = setup(desiredText('Prepared'));
    start(api, disk);
    await clock.advance(0);
    const calls = api.calls.length;
    const writes = disk.log.length;
    await clock.advance(60_000);
    expect(api.calls.slice(calls)).toEqual([]);
    expect(disk.log).toHaveLength(writes);
    expect(api.applies).toHaveLength(1);
  });

  it('a restarted agent does not rewrite an identical report', async () => {
    const { clock, api, disk } = setup(desiredText('Retired'));
    const first = start(api, disk);
    await clock.advance(0);
    first.stop.abort();
    await first.done;
    expect(api.applies).toHaveLength(1);
    start(api, disk);
    await clock.advance(10_000);
    expect(api.applies).toHaveLength(1);
  });

  it('acts at once when the operator changes desired.json (watch), not at the next rescan', async () => {
    const { clock, api, disk } = setup(desiredText('Prepared'));
    start(api, disk);
    await clock.advance(0);
    api.setDesired(desiredText('Retired'));
    await clock.advance(0);
    expect(disk.text(`${M}/etcd.yaml`)).toBeUndefined();
    expect(api.observed()?.desiredSha256).toBe(computeSha256(desiredText('Retired')));
    api.setDesired(desiredText('Original'));
    await clock.advance(0);
    expect(disk.text(`${M}/etcd.yaml`)).toBe(ORIGINAL);
    expect(disk.text(`${B}/etcd.yaml`)).toBe(ORIGINAL); // backups are kept
    expect(api.applies).toHaveLength(3);
  });

  it('repairs disk drift at the next rescan', async () => {
    const { clock, api, disk } = setup(desiredText('Retired'));
    const agent = start(api, disk);
    await clock.advance(0);
    disk.files.set(`${M}/etcd.yaml`, Buffer.from(ORIGINAL)); // someone put it back
    await clock.advance(1999);
    expect(disk.text(`${M}/etcd.yaml`)).toBe(ORIGINAL);
    await clock.advance(1);
    expect(disk.text(`${M}/etcd.yaml`)).toBeUndefined();
    expect(agent.logged('retired the manifest (removed it from the manifest directory)')).toBe(2);
    expect(api.applies).toHaveLength(1); // the report is the same as before
  });

  it('retries a failed report with backoff, without redoing the disk work', async () => {
    const { clock, api, disk } = setup(desiredText('Prepared'));
    api.failApplies = 2;
    const agent = start(api, disk);
    await clock.advance(0);
    expect(disk.log).toHaveLength(2);
    await clock.advance(10_000);
    expect(api.applies.map((a) => a.at)).toEqual([0, 500, 1500]);
    expect(api.observed()?.desiredSha256).toBe(computeSha256(desiredText('Prepared')));
    expect(disk.log).toHaveLength(2);
    expect(agent.logged('pass failed; retrying')).toBe(2);
    expect(agent.logged('pass succeeded again')).toBe(1);
  });

  it('started while the API is down: changes nothing but temp files, retries with backoff, never exits', async () => {
    const { clock, api, disk } = setup(desiredText('Retired'), { [`${M}/etcd.yaml`]: ORIGINAL, [`${M}/.selfhost-etcd.yaml.1.tmp`]: 'half' });
    api.down = true;
    const agent = start(api, disk);
    await clock.advance(0);
    expect(disk.log).toEqual([]); // waiting (one interval at most) for the first list
    await clock.advance(2000);
    expect(disk.log).toEqual([`remove ${M}/.selfhost-etcd.yaml.1.tmp`]);
    await clock.advance(30_000);
    expect(agent.finished()).toBe(false);
    expect(disk.text(`${M}/etcd.yaml`)).toBe(ORIGINAL);
    const gets = api.calls.filter((c) => c.startsWith('GET')).length;
    expect(gets).toBeGreaterThanOrEqual(8); // 0, .5, 1.5, 3.5, 7.5, 11.5, ... capped at 4 s
    expect(gets).toBeLessThanOrEqual(10);
    api.down = false;
    await clock.advance(4000);
    expect(disk.text(`${M}/etcd.yaml`)).toBeUndefined();
    expect(api.observed()?.desiredSha256).toBe(computeSha256(desiredText('Retired')));
  });

  it('keeps acting on the last desired.json it saw while the API is down', async () => {
    const { clock, api, disk } = setup(desiredText('Retired'));
    const agent = start(api, disk);
    await clock.advance(0);
    api.goDown();
    disk.files.set(`${M}/etcd.yaml`, Buffer.from(ORIGINAL));
    await clock.advance(2000);
    expect(disk.text(`${M}/etcd.yaml`)).toBeUndefined();
    expect(agent.finished()).toBe(false);
  });

  it('reports a malformed desired.json as a conflict and changes no manifest', async () => {
    const { clock, api, disk } = setup('{"manifests": [');
    start(api, disk);
    await clock.advance(0);
    expect(disk.log).toEqual([]);
    expect(api.observed()?.conflicts).toEqual([{ path: 'desired.json', message: expect.stringMatching(/^desired\.json: not JSON/) as unknown as string }]);
    expect(api.observed()?.desiredSha256).toBe('');
  });

  it('reports desiredSha256 "" and touches nothing when there is no desired.json', async () => {
    const { clock, api, disk } = setup(undefined);
    start(api, disk);
    await clock.advance(0);
    expect(disk.log).toEqual([]);
    expect(api.observed()).toMatchObject({ desiredSha256: '', conflicts: [], backups: [] });
    expect(api.observed()?.manifests.map((m) => m.path)).toEqual([`${M}/etcd.yaml`]);
  });

  it('reports a disk failure and does not claim the desired state until it is done', async () => {
    const { clock, api, disk } = setup(desiredText('Prepared'));
    disk.failWith = (op, path) => (op === 'writeAtomic' && path === `${M}/etcd.yaml` ? new Error('EROFS: read-only file system') : undefined);
    start(api, disk);
    await clock.advance(0);
    expect(api.observed()).toMatchObject({
      desiredSha256: '',
      conflicts: [{ path: `${M}/etcd.yaml`, message: expect.stringMatching(/write failed: EROFS/) as unknown as string }],
    });
    disk.failWith = undefined;
    await clock.advance(2000);
    expect(api.observed()).toMatchObject({ desiredSha256: computeSha256(desiredText('Prepared')), conflicts: [] });
  });

  it('stops cleanly when its signal aborts', async () => {
    const { clock, api, disk } = setup(desiredText('Prepared'));
    const agent = start(api, disk);
    await clock.advance(0);
    agent.stop.abort();
    await agent.done;
    expect(api.watchers.every((w) => w.signal.aborted)).toBe(true);
    expect(clock.pendingTimers()).toBe(0);
    expect(agent.logged('agent stopped')).toBe(1);
  });
});

describe('NodeAgent: checkpoints', () => {
  const CHECKPOINT = 'kind: Pod\nmetadata: {name: selfhost-checkpoint-etcd}\n';
  const MARKER = '/run/selfhost/checkpoints/etcd.standby';
  const withCheckpoint = (standby: boolean): string =>
    formatAgentDesired({ manifests: [], checkpoints: [{ component: 'etcd', content: CHECKPOINT, standby }] });

  it('installs the supervisor, refreshes the marker on the API word of each pass, writes the checkpoint, and reports it apart', async () => {
    const { clock, api, disk } = setup(withCheckpoint(true));
    start(api, disk, true);
    await clock.advance(0);
    // (the report's own write wakes a second pass, which only refreshes the marker)
    expect(disk.log.slice(0, 3)).toEqual(['write /etc/kubernetes/selfhost/bin/gx', `write ${MARKER}`, `write ${M}/selfhost-checkpoint-etcd.yaml`]);
    expect(new Set(disk.log.slice(3))).toEqual(new Set([`write ${MARKER}`]));
    expect(disk.modes.get('/etc/kubernetes/selfhost/bin/gx')).toBe(0o755);
    const observed = api.observed();
    expect(observed?.manifests.map((f) => f.path)).toEqual([`${M}/etcd.yaml`]);
    expect(observed?.checkpoints).toEqual([{ component: 'etcd', sha256: computeSha256(CHECKPOINT), active: false, standby: true }]);
    // Every pass re-reads with a GET (a cache proves nothing about the API now) and touches the marker.
    disk.log.length = 0;
    const gets = api.calls.filter((c) => c.startsWith('GET')).length;
    await clock.advance(2000);
    expect(api.calls.filter((c) => c.startsWith('GET')).length).toBe(gets + 1);
    expect(disk.log).toEqual([`write ${MARKER}`]);
    // The API goes away: the marker is left to age, so the checkpoint may take over.
    api.goDown();
    disk.log.length = 0;
    await clock.advance(2000);
    await clock.advance(4000);
    expect(disk.log).toEqual([]);
  });

  it('removes the marker when the real pod is gone, and everything when no checkpoint is wanted', async () => {
    const { clock, api, disk } = setup(withCheckpoint(true));
    start(api, disk, true);
    await clock.advance(0);
    api.setDesired(withCheckpoint(false));
    await clock.advance(0);
    expect(disk.text(MARKER)).toBeUndefined();
    expect(disk.text(`${M}/selfhost-checkpoint-etcd.yaml`)).toBe(CHECKPOINT);
    api.setDesired(formatAgentDesired({ manifests: [], checkpoints: [] }));
    await clock.advance(0);
    expect(disk.text(`${M}/selfhost-checkpoint-etcd.yaml`)).toBeUndefined();
    expect(disk.text('/etc/kubernetes/selfhost/bin/gx')).toBeUndefined();
    expect(api.observed()?.checkpoints).toEqual([]);
  });
});
