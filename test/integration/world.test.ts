/** The world snapshot (test/support/world.ts): intact when untouched, precise about every change. */
import { ApiextensionsV1Api, ApiException, CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { describe, expect, inject, it } from 'vitest';
import { captureLogsOnFailure } from '../support/failure-logs.js';
import { kubeConfigFrom } from '../support/kube.js';
import { waitFor } from '../support/wait.js';
import { createWorld, diffValues } from '../support/world.js';

captureLogsOnFailure();
const kc = kubeConfigFrom(inject('kubeconfig'));
const core = kc.makeApiClient(CoreV1Api);
const custom = kc.makeApiClient(CustomObjectsApi);
const ext = kc.makeApiClient(ApiextensionsV1Api);

describe('world snapshot', () => {
  it('is intact when nothing touched it, and names every loss and change otherwise', async () => {
    const world = await createWorld(kc, { configMaps: 4, customObjects: 3 });
    const ns = world.namespace;
    expect(world.objects.map((o) => o.kind)).toEqual([
      'Namespace', 'CustomResourceDefinition', 'ConfigMap', 'ConfigMap', 'ConfigMap', 'ConfigMap', 'Secret', 'Thing', 'Thing', 'Thing',
    ]);
    expect(await world.verify()).toEqual([]);
    await world.expectIntact();

    // An operation that loses, replaces and changes things.
    const cm0 = world.objects.find((o) => o.name === 'cm-0');
    await core.patchNamespacedConfigMap({ namespace: ns, name: 'cm-0', body: [{ op: 'replace', path: '/data/key-1', value: 'tampered' }] });
    await core.deleteNamespacedConfigMap({ namespace: ns, name: 'cm-1' });
    const secret = await core.readNamespacedSecret({ namespace: ns, name: 'secret-0' });
    await core.deleteNamespacedSecret({ namespace: ns, name: 'secret-0' });
    await core.createNamespacedSecret({ namespace: ns, body: { metadata: { name: 'secret-0' }, type: 'Opaque', data: secret.data ?? {} } });
    const [group, version] = world.customApiVersion.split('/');
    await custom.patchNamespacedCustomObject({
      group: group ?? '', version: version ?? '', namespace: ns, plural: 'things', name: 'thing-2',
      body: [{ op: 'replace', path: '/spec/count', value: 42 }],
    });

    const problems = await world.verify();
    const has = (re: RegExp) => expect(problems.some((p) => re.test(p)), `${re} in\n${problems.join('\n')}`).toBe(true);
    has(new RegExp(`^ConfigMap ${ns}/cm-0: resourceVersion \\d+ → \\d+$`));
    const before = (cm0?.content as Record<string, string>)['key-1'];
    expect(problems).toContain(`ConfigMap ${ns}/cm-0: data.key-1: ${JSON.stringify(before)} → "tampered"`);
    expect(problems).toContain(`ConfigMap ${ns}/cm-1: missing (404)`);
    has(new RegExp(`^Secret ${ns}/secret-0: replaced \\(uid \\S+ → \\S+\\)$`));
    expect(problems).toContain(`Thing ${ns}/thing-2: spec.count: 2 → 42`);
    // Untouched objects are not mentioned.
    expect(problems.filter((p) => /cm-2|cm-3|thing-0|thing-1|Namespace|CustomResourceDefinition/.test(p))).toEqual([]);
    await expect(world.expectIntact()).rejects.toThrow(/world world-\w+: \d+ difference\(s\) from the snapshot:\n {2}- /);

    await world.cleanup();
    await waitFor('world CRD gone', async () => {
      try {
        await ext.readCustomResourceDefinition({ name: world.crdName });
        return undefined;
      } catch (err) {
        return err instanceof ApiException && err.code === 404 ? true : undefined;
      }
    });
    const nsNow = await core.readNamespace({ name: ns }).catch(() => undefined);
    expect(nsNow === undefined || nsNow.metadata?.deletionTimestamp !== undefined).toBe(true);
    expect(await world.verify()).toContain(`CustomResourceDefinition ${world.crdName}: missing (404)`);
  });

  it('diffs nested values readably', () => {
    const out: string[] = [];
    diffValues('spec', { a: 1, b: { c: 'x', d: [1, 2] }, gone: true }, { a: 1, b: { c: 'y', d: [1] }, extra: 'n' }, out);
    expect(out).toEqual([
      'spec.b.c: "x" → "y"',
      'spec.b.d[1]: removed (2)',
      'spec.gone: removed (true)',
      'spec.extra: added ("n")',
    ]);
  });
});
