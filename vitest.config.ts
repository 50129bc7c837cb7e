import { defineConfig } from 'vitest/config';
import { E2eFileOrder } from './e2e/file-order.js';

// Projects: unit (no cluster, seconds); integration (tier sim: real etcd, kube-apiserver,
// controller-manager and scheduler on loopback, kwok nodes).
// e2e (tier node) joins with the test bed. A tier that cannot start fails the run.
export default defineConfig({
  test: {
    // Tier node: the smoke test first, the golden path last (e2e/file-order.ts).
    sequence: { sequencer: E2eFileOrder },
    projects: [
      {
        test: {
          name: 'unit',
          include: ['src/**/*.test.ts'],
          environment: 'node',
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['test/integration/global-setup.ts'],
          // Every file prints the sim components' log tails when one of its tests fails.
          setupFiles: ['test/integration/setup-logs.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
          // One apiserver is shared; files run one after another.
          fileParallelism: false,
        },
      },
      {
        // The Dockerfile's image against `make image`'s (make image-dockerfile-test; root, buildah).
        test: {
          name: 'image',
          include: ['test/image/**/*.test.ts'],
          environment: 'node',
          testTimeout: 120_000,
          hookTimeout: 300_000,
        },
      },
      {
        // make e2e-kind (hack/kind-e2e.sh): the specs shared with tier node against a kind cluster
        // the script created; no global setup (no tier node).
        test: {
          name: 'e2e-kind',
          include: ['e2e/**/*.kind.ts'],
          environment: 'node',
          testTimeout: 600_000,
          hookTimeout: 900_000,
          fileParallelism: false,
        },
      },
      {
        // make e2e-ha: tier ha (hack/ha), three control-plane nodes; each file starts and stops it.
        test: {
          name: 'e2e-ha',
          include: ['e2e/**/*.ha.ts'],
          environment: 'node',
          testTimeout: 600_000,
          hookTimeout: 900_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['e2e/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['e2e/global-setup.ts'],
          testTimeout: 600_000,
          hookTimeout: 900_000,
          fileParallelism: false,
        },
      },
    ],
    coverage: {
      provider: 'v8',
      include: ['src/**/*.ts'],
      exclude: ['src/**/*.test.ts', 'src/**/testdata/**', 'src/cli/main.ts', 'src/api/gen-crd.ts'],
      reporter: ['text-summary', 'text'],
      thresholds: { lines: 90 },
    },
  },
});
