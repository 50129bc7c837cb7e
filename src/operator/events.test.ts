import { describe, expect, it } from 'vitest';
import { FakeClock, flushMicrotasks } from '../controller/fake-clock.js';
import { KubeError, type JsonObject } from '../kube/client.js';
import { captureLogs } from '../testing/log-lines.js';
import { EventRecorder, microTime, truncateUtf8, type EventInput, type EventRecorderOptions } from './events.js';

const START = Date.UTC(2026, 10, 25, 10, 0, 0);
const EVENTS = '/apis/events.k8s.io/v1/namespaces/default/events';

interface Call {
  verb: 'create' | 'apply';
  path: string;
  body: JsonObject;
}

/** A KubeClient that records writes; `fail` decides per call, `hold` keeps writes pending. */
class FakeClient {
  calls: Call[] = [];
  fail: (call: Call) => Error | undefined = () => undefined;
  hold: Promise<void> | undefined;

  private async record(call: Call): Promise<JsonObject> {
    this.calls.push(call);
    await this.hold;
    const err = this.fail(call);
    if (err !== undefined) throw err;
    return call.body;
  }

  create = (path: string, body: JsonObject) => this.record({ verb: 'create', path, body });
  apply = (path: string, body: JsonObject) => this.record({ verb: 'apply', path, body });
}

function setup(opts: Partial<EventRecorderOptions> = {}) {
  const clock = new FakeClock(START);
  const client = new FakeClient();
  const { logger, lines: logs } = captureLogs();
  const recorder = new EventRecorder({ client, clock, logger, identity: 'selfhost-operator-abc', ...opts });
  const warnings = () => logs.filter((l) => l['level'] === 40);
  return { clock, client, recorder, logs, warnings };
}

const cp = { apiVersion: 'selfhost.dev/v1alpha1', kind: 'ControlPlane', name: 'cluster', uid: 'uid-1' };
const pivotFailed: EventInput = {
  type: 'Warning',
  reason: 'PivotFailed',
  action: 'Pivot',
  note: 'etcd on cp-1 did not become healthy',
  regarding: cp,
};

describe('microTime', () => {
  it.each([
    [Date.UTC(2026, 10, 25, 10, 0, 0, 0), '2026-11-25T10:00:00.000000Z'],
    [Date.UTC(2026, 10, 25, 10, 0, 0, 123), '2026-11-25T10:00:00.123000Z'],
    [Date.UTC(1999, 0, 1, 23, 59, 59, 999), '1999-01-01T23:59:59.999000Z'],
  ])('%i → %s', (ms, want) => {
    expect(microTime(new Date(ms))).toBe(want);
  });
});

describe('truncateUtf8', () => {
  it.each<{ name: string; s: string; max: number; marker?: string; want: string }>([
    { name: 'short enough', s: 'abc', max: 3, want: 'abc' },
    { name: 'cut', s: 'abcdef', max: 4, want: 'abcd' },
    { name: 'cut with marker', s: 'abcdef', max: 4, marker: '…', want: 'a…' },
    { name: 'never splits a character', s: 'ééé', max: 5, want: 'éé' },
    { name: 'never splits a surrogate pair', s: '😀😀', max: 6, want: '😀' },
  ])('$name', ({ s, max, marker, want }) => {
    const got = truncateUtf8(s, max, marker);
    expect(got).toBe(want);
    expect(Buffer.byteLength(got)).toBeLessThanOrEqual(max);
  });
});

describe('EventRecorder', () => {
  it('creates an events.k8s.io/v1 Event in default for the cluster-scoped ControlPlane', async () => {
    const { client, recorder } = setup();
    recorder.emit(pivotFailed);
    await flushMicrotasks();
    expect(client.calls).toHaveLength(1);
    const [call] = client.calls;
    expect(call?.verb).toBe('create');
    expect(call?.path).toBe(EVENTS);
    expect(call?.body).toEqual({
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      metadata: { name: expect.stringMatching(/^cluster\.[0-9a-f]{16}$/) as unknown, namespace: 'default' },
      eventTime: '2026-11-25T10:00:00.000000Z',
      reportingController: 'selfhost.dev/operator',
      reportingInstance: 'selfhost-operator-abc',
      action: 'Pivot',
      reason: 'PivotFailed',
      regarding: cp,
      note: 'etcd on cp-1 did not become healthy',
      type: 'Warning',
    });
  });

  it('writes an event about a namespaced object into its namespace', async () => {
    const { client, recorder } = setup();
    recorder.emit({ ...pivotFailed, regarding: { apiVersion: 'apps/v1', kind: 'DaemonSet', namespace: 'kube-system', name: 'etcd' } });
    await flushMicrotasks();
    expect(client.calls[0]?.path).toBe('/apis/events.k8s.io/v1/namespaces/kube-system/events');
    expect(client.calls[0]?.body['regarding']).toEqual({ apiVersion: 'apps/v1', kind: 'DaemonSet', namespace: 'kube-system', name: 'etcd' });
  });

  it('uses the injected wall clock for eventTime', async () => {
    const { client, recorder } = setup({ wallClock: () => new Date(Date.UTC(2027, 0, 2, 3, 4, 5, 6)) });
    recorder.emit(pivotFailed);
    await flushMicrotasks();
    expect(client.calls[0]?.body['eventTime']).toBe('2027-01-02T03:04:05.006000Z');
  });

  it('a repeat updates the same Event’s series by server-side apply of the whole Event', async () => {
    const { clock, client, recorder } = setup();
    recorder.emit(pivotFailed);
    await clock.advance(30_000);
    recorder.emit(pivotFailed);
    await flushMicrotasks();
    expect(client.calls.map((c) => c.verb)).toEqual(['create', 'apply']);
    const [create, apply] = client.calls;
    const name = (create?.body['metadata'] as { name: string }).name;
    expect(apply?.path).toBe(`${EVENTS}/${name}`);
    expect(apply?.body).toEqual({
      ...create?.body,
      series: { count: 2, lastObservedTime: '2026-11-25T10:00:30.000000Z' },
    });
  });

  it('coalesces repeats within the update interval into one write with the latest count', async () => {
    const { clock, client, recorder } = setup({ seriesUpdateIntervalMs: 10_000 });
    recorder.emit(pivotFailed);
    await flushMicrotasks();
    for (let i = 0; i < 4; i++) {
      await clock.advance(1000);
      recorder.emit(pivotFailed);
    }
    await flushMicrotasks();
    expect(client.calls).toHaveLength(1); // still inside the interval after the create
    await clock.advance(6000); // 10 s after the create
    expect(client.calls.map((c) => [c.verb, c.body['series']])).toEqual([
      ['create', undefined],
      ['apply', { count: 5, lastObservedTime: '2026-11-25T10:00:04.000000Z' }],
    ]);
    await clock.advance(60_000);
    expect(client.calls).toHaveLength(2); // nothing new to write
  });

  it('waits for a running write before the next one', async () => {
    const { clock, client, recorder } = setup({ seriesUpdateIntervalMs: 0 });
    let release = (): void => undefined;
    client.hold = new Promise((resolve) => (release = resolve));
    recorder.emit(pivotFailed);
    recorder.emit(pivotFailed);
    recorder.emit(pivotFailed);
    await clock.advance(5000);
    expect(client.calls.map((c) => c.verb)).toEqual(['create']);
    client.hold = undefined;
    release();
    await flushMicrotasks();
    expect(client.calls.map((c) => [c.verb, (c.body['series'] as { count: number } | undefined)?.count])).toEqual([
      ['create', undefined],
      ['apply', 3],
    ]);
  });

  it.each<{ name: string; other: EventInput }>([
    { name: 'type', other: { ...pivotFailed, type: 'Normal' } },
    { name: 'reason', other: { ...pivotFailed, reason: 'UpgradeFailed' } },
    { name: 'action', other: { ...pivotFailed, action: 'Upgrade' } },
    { name: 'note', other: { ...pivotFailed, note: 'etcd on cp-2 did not become healthy' } },
    { name: 'regarding uid', other: { ...pivotFailed, regarding: { ...cp, uid: 'uid-2' } } },
    { name: 'regarding name', other: { ...pivotFailed, regarding: { ...cp, name: 'other' } } },
  ])('a different $name is a different Event', async ({ other }) => {
    const { client, recorder } = setup();
    recorder.emit(pivotFailed);
    recorder.emit(other);
    await flushMicrotasks();
    expect(client.calls.map((c) => c.verb)).toEqual(['create', 'create']);
    const names = client.calls.map((c) => (c.body['metadata'] as { name: string }).name);
    expect(new Set(names).size).toBe(2);
  });

  it.each<{ name: string; gapsMs: number[]; want: string[] }>([
    { name: 'repeats within the window continue the series', gapsMs: [5 * 60_000, 5 * 60_000], want: ['create', 'apply', 'apply'] },
    { name: 'a repeat at the window’s edge continues it', gapsMs: [6 * 60_000], want: ['create', 'apply'] },
    { name: 'a repeat after the window starts a new Event', gapsMs: [6 * 60_000 + 1], want: ['create', 'create'] },
  ])('$name', async ({ gapsMs, want }) => {
    const { clock, client, recorder } = setup();
    recorder.emit(pivotFailed);
    for (const gap of gapsMs) {
      await clock.advance(gap);
      recorder.emit(pivotFailed);
    }
    await clock.advance(60_000);
    expect(client.calls.map((c) => c.verb)).toEqual(want);
    const creates = client.calls.filter((c) => c.verb === 'create').map((c) => (c.body['metadata'] as { name: string }).name);
    expect(new Set(creates).size).toBe(creates.length);
  });

  it('names are deterministic per key and first occurrence', async () => {
    const names = async (startOffset: number) => {
      const { clock, client, recorder } = setup();
      await clock.advance(startOffset);
      recorder.emit(pivotFailed);
      await flushMicrotasks();
      return (client.calls[0]?.body['metadata'] as { name: string }).name;
    };
    expect(await names(0)).toBe(await names(0));
    expect(await names(0)).not.toBe(await names(1));
  });

  it('forgets the least recently emitted series beyond maxSeries', async () => {
    const { client, recorder } = setup({ maxSeries: 2 });
    const a = { ...pivotFailed, note: 'a' };
    const b = { ...pivotFailed, note: 'b' };
    const c = { ...pivotFailed, note: 'c' };
    recorder.emit(a);
    recorder.emit(b);
    recorder.emit(a); // a is now the most recent; b is next to go
    recorder.emit(c);
    recorder.emit(a); // remembered: a series update
    recorder.emit(b); // forgotten: a new Event
    await recorder.flush();
    expect(client.calls.map((x) => [x.verb, x.body['note']])).toEqual([
      ['create', 'a'],
      ['create', 'b'],
      ['create', 'c'],
      ['create', 'b'],
      ['apply', 'a'],
    ]);
    expect(client.calls[4]?.body['series']).toMatchObject({ count: 3 });
  });

  it.each<{ name: string; note: string; wantBytes: number; truncated: boolean }>([
    { name: 'at the limit', note: 'x'.repeat(1024), wantBytes: 1024, truncated: false },
    { name: 'one byte over', note: 'x'.repeat(1025), wantBytes: 1024, truncated: true },
    { name: 'multi-byte characters', note: 'é'.repeat(600), wantBytes: 1023, truncated: true },
  ])('keeps the note within 1024 bytes: $name', async ({ note, wantBytes, truncated }) => {
    const { client, recorder } = setup();
    recorder.emit({ ...pivotFailed, note });
    await flushMicrotasks();
    const written = client.calls[0]?.body['note'] as string;
    expect(Buffer.byteLength(written)).toBe(wantBytes);
    expect(written.endsWith('…')).toBe(truncated);
  });

  it('a failed create is logged once, never thrown, and not retried', async () => {
    const { clock, client, recorder, warnings } = setup();
    client.fail = () => new KubeError(500, 'InternalError', 'POST events: HTTP 500: boom');
    expect(() => recorder.emit(pivotFailed)).not.toThrow();
    await clock.advance(10 * 60_000);
    expect(client.calls).toHaveLength(1);
    expect(warnings()).toHaveLength(1);
    expect(warnings()[0]).toMatchObject({ msg: 'could not write event', reason: 'PivotFailed', err: { message: 'POST events: HTTP 500: boom' } });
  });

  it('a repeat after a failed create recreates the Event whole by apply', async () => {
    const { clock, client, recorder } = setup();
    client.fail = (c) => (c.verb === 'create' ? new Error('connection refused') : undefined);
    recorder.emit(pivotFailed);
    await clock.advance(1000);
    recorder.emit(pivotFailed);
    await clock.advance(60_000);
    expect(client.calls.map((c) => c.verb)).toEqual(['create', 'apply']);
    expect(client.calls[1]?.body).toMatchObject({ reason: 'PivotFailed', note: pivotFailed.note, series: { count: 2 } });
  });

  it('an AlreadyExists on create is success (an earlier attempt landed)', async () => {
    const { client, recorder, warnings } = setup();
    client.fail = () => new KubeError(409, 'AlreadyExists', 'exists');
    recorder.emit(pivotFailed);
    await flushMicrotasks();
    expect(warnings()).toEqual([]);
  });

  it('a failed series update is logged once and the next repeat writes again', async () => {
    const { clock, client, recorder, warnings } = setup();
    client.fail = (c) => (c.verb === 'apply' && c.body['series'] !== undefined && (c.body['series'] as { count: number }).count === 2 ? new Error('timeout') : undefined);
    recorder.emit(pivotFailed);
    await clock.advance(1000);
    recorder.emit(pivotFailed);
    await clock.advance(60_000);
    expect(warnings()).toHaveLength(1);
    recorder.emit(pivotFailed);
    await clock.advance(60_000);
    expect(client.calls.map((c) => [c.verb, (c.body['series'] as { count: number } | undefined)?.count])).toEqual([
      ['create', undefined],
      ['apply', 2],
      ['apply', 3],
    ]);
  });

  it('emit never throws, even when the wall clock does', () => {
    const { recorder, warnings } = setup({
      wallClock: () => {
        throw new Error('no time');
      },
    });
    expect(() => recorder.emit(pivotFailed)).not.toThrow();
    expect(warnings()).toHaveLength(1);
  });

  it('close() writes coalesced updates now and drops later events', async () => {
    const { clock, client, recorder } = setup({ seriesUpdateIntervalMs: 60_000 });
    recorder.emit(pivotFailed);
    await clock.advance(1000);
    recorder.emit(pivotFailed);
    await recorder.close();
    expect(client.calls.map((c) => c.verb)).toEqual(['create', 'apply']);
    recorder.emit(pivotFailed);
    await clock.advance(120_000);
    expect(client.calls).toHaveLength(2);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('truncates reason, action and reportingInstance to the API’s 128 bytes', async () => {
    const { client, recorder } = setup({ identity: 'i'.repeat(200) });
    recorder.emit({ ...pivotFailed, reason: 'R'.repeat(200), action: 'A'.repeat(200) });
    await flushMicrotasks();
    expect(client.calls[0]?.body).toMatchObject({ reason: 'R'.repeat(128), action: 'A'.repeat(128), reportingInstance: 'i'.repeat(128) });
  });
});
