import type { KubernetesObject } from '@kubernetes/client-node';
import { load, loadAll } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import type { ListWatchSource, WatchEvent } from '../controller/list-watch.js';
import type { LiveConnection } from './live-connect.js';
import { runStatusWith, type StatusDeps } from './status.js';
import { controlPlane, controlPlanePods, fakeClient, node, NOW, type FakeWorld } from './testdata/live-world.js';
import { memoryIo } from './testing.js';

/** A list-watch the test drives: each watch() call is recorded so the test can send events or end it. */
function scriptedSource(world: FakeWorld): ListWatchSource<KubernetesObject> & {
  watches: { onEvent: (e: WatchEvent<KubernetesObject>) => void; onDone: (err?: unknown) => void }[];
  lists: number;
} {
  const source = {
    watches: [] as { onEvent: (e: WatchEvent<KubernetesObject>) => void; onDone: (err?: unknown) => void }[],
    lists: 0,
    list() {
      source.lists++;
      if (world.down !== undefined) return Promise.reject(new Error(world.down));
      return Promise.resolve({ items: world.controlPlane === undefined ? [] : [world.controlPlane as unknown as KubernetesObject], resourceVersion: String(source.lists) });
    },
    watch(_rv: string, _signal: AbortSignal, onEvent: (e: WatchEvent<KubernetesObject>) => void, onDone: (err?: unknown) => void) {
      source.watches.push({ onEvent, onDone });
    },
  };
  return source;
}

function healthyWorld(): FakeWorld {
  return {
    controlPlane: controlPlane({ phase: 'SelfHosted', version: 'v1.37.1', conditions: [{ type: 'Ready', status: 'True', reason: 'AsExpected', message: 'ok', lastTransitionTime: '2026-05-01T11:00:00Z' }] }),
    nodes: [node('cp1')],
    pods: controlPlanePods('cp1', 'self-hosted', 'v1.37.1'),
  };
}

function deps(world: FakeWorld, extra: Partial<StatusDeps> = {}): StatusDeps & { source: ReturnType<typeof scriptedSource>; stop: AbortController; choices: unknown[] } {
  const source = scriptedSource(world);
  const stop = new AbortController();
  const choices: unknown[] = [];
  const conn: LiveConnection = { client: fakeClient(world), watchControlPlane: () => source };
  return {
    source,
    stop,
    choices,
    connect: (choice) => {
      choices.push(choice);
      return conn;
    },
    now: () => NOW,
    signal: stop.signal,
    refreshMs: 5,
    retryMs: 1,
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
    ...extra,
  };
}

async function until(what: string, cond: () => boolean): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('selfhost status', () => {
  it('prints the view once and exits 0; the kubeconfig flags reach the connection', async () => {
    const io = memoryIo();
    const d = deps(healthyWorld());
    expect(await runStatusWith(['--kubeconfig', '/k', '--context', 'c'], io, 'kubectl selfhost', d)).toBe(0);
    expect(io.stdout.join('\n')).toMatch(/^ControlPlane cluster {2}SelfHosted/);
    expect(io.stdout.join('\n')).toMatch(/^cp1 +v1\.37\.1 +etcd +self-hosted +3\.7\.0 +yes$/m);
    expect(d.choices).toEqual([{ path: '/k', context: 'c' }]);
  });

  it.each(['json', 'yaml'])('-o %s prints the model as a document', async (format) => {
    const io = memoryIo();
    expect(await runStatusWith(['-o', format], io, 'selfhost', deps(healthyWorld()))).toBe(0);
    const text = io.stdout.join('\n');
    const doc = (format === 'json' ? JSON.parse(text) : load(text)) as Record<string, unknown>;
    expect(doc).toMatchObject({ name: 'cluster', found: true, phase: 'SelfHosted', version: 'v1.37.1', observedAt: NOW.toISOString() });
    expect((doc['nodes'] as { components: { component: string; mode: string }[] }[])[0]?.components[0]).toMatchObject({ component: 'etcd', mode: 'self-hosted' });
  });

  it('--name picks another ControlPlane; a missing one exits 1', async () => {
    const io = memoryIo();
    const d = deps(healthyWorld());
    expect(await runStatusWith(['--name', 'other'], io, 'selfhost', d)).toBe(1);
    expect(io.stdout.join('\n')).toMatch(/^ControlPlane "other" \(selfhost\.dev\/v1alpha1\) not found/);
  });

  it.each<[string[], RegExp]>([
    [['-o', 'wide'], /-o\/--output: Unsupported value: "wide": supported values: json, yaml/],
    [['cluster'], /unexpected argument "cluster": name the ControlPlane with --name/],
    [['--watch=yes'], /--watch/],
    [['--nope'], /allowed options: --name, --output, --watch, --help, --kubeconfig, --context/],
  ])('bad usage %j exits 2', async (argv, want) => {
    const io = memoryIo();
    expect(await runStatusWith(argv, io, 'kubectl selfhost', deps(healthyWorld()))).toBe(2);
    expect(io.stderr.join('\n')).toMatch(want);
    expect(io.stderr.join('\n')).toMatch(/usage: kubectl selfhost status/);
  });

  it('--help prints the usage with the program name; exit 0', async () => {
    const io = memoryIo();
    expect(await runStatusWith(['--help'], io, 'kubectl selfhost', deps(healthyWorld()))).toBe(0);
    expect(io.stdout.join('\n')).toMatch(/^usage: kubectl selfhost status \[--name NAME\]/);
  });

  it('a kubeconfig that cannot be loaded is bad usage (2); an API that does not answer is a failure (1)', async () => {
    const bad = memoryIo();
    const d = deps(healthyWorld(), {
      connect: () => {
        throw new Error('--context: Invalid value: "x": the kubeconfig has contexts a, b');
      },
    });
    expect(await runStatusWith(['--context', 'x'], bad, 'selfhost', d)).toBe(2);
    expect(bad.stderr).toEqual(['selfhost status: --context: Invalid value: "x": the kubeconfig has contexts a, b']);
    const down = memoryIo();
    expect(await runStatusWith([], down, 'selfhost', deps({ ...healthyWorld(), down: 'connect ECONNREFUSED 127.0.0.1:6443' }))).toBe(1);
    expect(down.stderr.join('\n')).toMatch(/^selfhost status: GET .*: connect ECONNREFUSED 127\.0\.0\.1:6443$/);
  });

  it('--watch redraws on every change of the ControlPlane, rides out an API outage, and ends with 0 when interrupted', async () => {
    const world = healthyWorld();
    const io = memoryIo();
    const d = deps(world);
    const run = runStatusWith(['--watch'], io, 'selfhost', d);
    await until('the first frame', () => io.stdout.length > 0 && d.source.watches.length === 1);
    expect(io.stdout.join('\n')).toMatch(/SelfHosted/);

    // The operator writes a new phase: the watch sees the ControlPlane change; one more frame.
    world.controlPlane = controlPlane({ ...world.controlPlane?.status, phase: 'Upgrading', step: '1/5 etcd' }, { version: 'v1.37.2' });
    d.source.watches[0]?.onEvent({ type: 'MODIFIED', object: world.controlPlane as unknown as KubernetesObject });
    await until('the second frame', () => io.stdout.join('\n').includes('Upgrading'));
    const frames = io.stdout.join('\n').split('\n\nControlPlane cluster');
    expect(frames).toHaveLength(2);
    expect(frames[1]).toMatch(/^ {2}Upgrading {2}step 1\/5 etcd/);

    // The apiserver goes away (a handover): the watch breaks, the list fails, stderr says so once.
    world.down = 'connect ECONNREFUSED';
    d.source.watches[0]?.onDone(new Error('stream reset'));
    await until('the outage reported', () => io.stderr.length > 0 && d.source.lists >= 3);
    expect(io.stderr[0]).toMatch(/^the API does not answer since 2026-05-01T12:00:00\.000Z: connect ECONNREFUSED; retrying$/);
    expect(io.stderr).toHaveLength(1);

    // Back: a new watch, the new state drawn.
    world.controlPlane = controlPlane({ phase: 'SelfHosted', version: 'v1.37.2' }, { version: 'v1.37.2' });
    delete world.down;
    await until('a new watch', () => d.source.watches.length === 2);
    await until('the third frame', () => io.stdout.join('\n').split('\n\nControlPlane cluster').length === 3);

    d.stop.abort();
    expect(await run).toBe(0);
  });

  it('--watch on a terminal clears it for each frame and shows the outage under the last one', async () => {
    const world = healthyWorld();
    const io = memoryIo();
    let clears = 0;
    const d = deps(world, { clearScreen: () => clears++, refreshMs: 1_000_000 });
    const run = runStatusWith(['-w'], io, 'selfhost', d);
    await until('the first frame', () => io.stdout.length === 1 && d.source.watches.length === 1);
    expect(clears).toBe(1);
    world.down = 'connect ECONNREFUSED';
    d.source.watches[0]?.onEvent({ type: 'MODIFIED', object: world.controlPlane as unknown as KubernetesObject });
    await until('the outage on screen', () => io.stdout.length === 2);
    expect(clears).toBe(2);
    expect(io.stdout[1]).toMatch(/^ControlPlane cluster {2}SelfHosted[\s\S]*\n\n! the API does not answer since .*: GET .*: connect ECONNREFUSED; retrying$/);
    expect(io.stderr).toEqual([]);
    d.stop.abort();
    expect(await run).toBe(0);
  });

  it('--watch -o yaml appends whole YAML documents', async () => {
    const world = healthyWorld();
    const io = memoryIo();
    const d = deps(world);
    const run = runStatusWith(['--watch', '-o', 'yaml'], io, 'selfhost', d);
    await until('the first frame', () => io.stdout.length > 0 && d.source.watches.length === 1);
    world.controlPlane = controlPlane({ phase: 'Upgrading' }, { version: 'v1.37.2' });
    d.source.watches[0]?.onEvent({ type: 'MODIFIED', object: world.controlPlane as unknown as KubernetesObject });
    await until('the second frame', () => io.stdout.length === 3);
    d.stop.abort();
    expect(await run).toBe(0);
    expect(loadAll(io.stdout.join('\n')).map((doc) => (doc as { phase: string }).phase)).toEqual(['SelfHosted', 'Upgrading']);
  });

  it('--watch waits for a ControlPlane that does not exist yet', async () => {
    const world: FakeWorld = { nodes: [node('cp1')], pods: [] };
    const io = memoryIo();
    const d = deps(world);
    const run = runStatusWith(['--watch', '-o', 'json'], io, 'selfhost', d);
    await until('the first frame', () => io.stdout.length > 0 && d.source.watches.length === 1);
    expect(JSON.parse(io.stdout.join('\n'))).toMatchObject({ found: false });
    const created = controlPlane({ phase: 'SelfHosted' });
    world.controlPlane = created;
    d.source.watches[0]?.onEvent({ type: 'ADDED', object: created as unknown as KubernetesObject });
    await until('the second frame', () => io.stdout.length === 3);
    expect(JSON.parse(io.stdout[2] ?? '')).toMatchObject({ found: true, phase: 'SelfHosted' });
    d.stop.abort();
    expect(await run).toBe(0);
  });
});
