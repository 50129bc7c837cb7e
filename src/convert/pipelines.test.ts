import { describe, expect, it } from 'vitest';
import { mainContainerOf } from './container.js';
import { PIPELINES, runPipeline, SOURCE_NORMALISATION } from './pipelines.js';
import { RefusalError } from './refusal.js';
import { simpleTemplate } from './testdata/helpers.js';

describe('runPipeline', () => {
  it('wraps a bug with the manifest, component and step', () => {
    const { template, ctx } = simpleTemplate('kube-scheduler', []);
    const broken = function brokenStep(): never {
      throw new TypeError('boom');
    };
    expect(() => runPipeline(template, ctx, [broken])).toThrow(
      /kube-scheduler\.yaml: kube-scheduler: step brokenStep failed: boom/,
    );
    try {
      runPipeline(template, ctx, [broken]);
    } catch (error) {
      expect(error instanceof Error && error.cause).toBeInstanceOf(TypeError);
    }
  });

  it('passes refusals through untouched', () => {
    const { template, ctx } = simpleTemplate('kube-scheduler', ['positional']);
    expect(() => runPipeline(template, ctx, PIPELINES['kube-scheduler'])).toThrow(RefusalError);
  });

  it('a main container missing from the template is a bug', () => {
    const { template, ctx } = simpleTemplate('kube-scheduler', []);
    expect(() => mainContainerOf(template, { ...ctx, mainContainer: 'nope' })).toThrow(/no container named nope/);
  });

  it('every pipeline starts by stripping and ends by labelling; normalisation is a subset', () => {
    for (const steps of Object.values(PIPELINES)) {
      expect(steps[0]?.name).toBe('stripStaticPodFields');
      expect(steps.at(-1)?.name).toBe('labelForSelfHost');
      // The gate may wrap the command, so it comes after the last step that reads the flags.
      const tail = steps.slice(-3).map((m) => m.name);
      expect(tail.includes('addHandoverGate') ? tail : tail.slice(1)).toEqual(
        tail.includes('addHandoverGate') ? ['sortFlags', 'addHandoverGate', 'labelForSelfHost'] : ['sortFlags', 'labelForSelfHost'],
      );
    }
    for (const step of SOURCE_NORMALISATION) expect(PIPELINES.etcd).toContain(step);
  });
});
