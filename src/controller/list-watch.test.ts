import type { KubernetesObject } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { transformSource, type ListWatchSource, type WatchEvent } from './list-watch.js';

const obj = (name: string, rv: string, extra = 'big'): KubernetesObject & { extra?: string } => ({ metadata: { name, resourceVersion: rv }, extra });

describe('transformSource', () => {
  const inner: ListWatchSource<KubernetesObject> = {
    list: async () => ({ items: [obj('a', '1'), obj('b', '2')], resourceVersion: '2' }),
    watch(rv, _signal, onEvent, onDone) {
      onEvent({ type: 'ADDED', object: obj('c', '3') });
      onEvent({ type: 'MODIFIED', object: obj('a', '4') });
      onEvent({ type: 'DELETED', object: obj('b', '5') });
      onEvent({ type: 'BOOKMARK', object: { metadata: { resourceVersion: '6' } } });
      onDone(rv === 'fail' ? new Error('boom') : undefined);
    },
  };
  // Drops `extra`, as a cache transform drops fields nobody reads.
  const slim = (o: KubernetesObject): KubernetesObject => ({ metadata: { ...o.metadata } });
  const source = transformSource(inner, slim);

  it('transforms every listed item and keeps the resourceVersion', async () => {
    expect(await source.list(new AbortController().signal)).toEqual({
      items: [{ metadata: { name: 'a', resourceVersion: '1' } }, { metadata: { name: 'b', resourceVersion: '2' } }],
      resourceVersion: '2',
    });
  });

  it.each<[string, unknown]>([
    ['a watch that ends normally', undefined],
    ['a failed watch', new Error('boom')],
  ])('transforms ADDED, MODIFIED and DELETED objects, passes BOOKMARKs and the end of %s through', (_name, end) => {
    const events: WatchEvent<KubernetesObject>[] = [];
    const ends: unknown[] = [];
    source.watch(end === undefined ? '2' : 'fail', new AbortController().signal, (e) => events.push(e), (err) => ends.push(err));
    expect(events).toEqual([
      { type: 'ADDED', object: { metadata: { name: 'c', resourceVersion: '3' } } },
      { type: 'MODIFIED', object: { metadata: { name: 'a', resourceVersion: '4' } } },
      { type: 'DELETED', object: { metadata: { name: 'b', resourceVersion: '5' } } },
      { type: 'BOOKMARK', object: { metadata: { resourceVersion: '6' } } },
    ]);
    expect(ends).toEqual([end]);
  });
});
