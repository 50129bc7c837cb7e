import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

// The README's reference example must be the sample the tests validate.
describe('README', () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  it('shows deploy/samples/controlplane.yaml verbatim', () => {
    const sample = readFileSync(new URL('../deploy/samples/controlplane.yaml', import.meta.url), 'utf8');
    expect(readme).toContain('```yaml\n' + sample.trimEnd() + '\n```');
  });
  it('names the test command CI runs', () => {
    expect(readme).toContain('make test');
    expect(readFileSync(new URL('../.ci/run', import.meta.url), 'utf8')).toContain('make test');
  });
});
