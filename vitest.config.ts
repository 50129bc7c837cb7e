import { defineConfig } from 'vitest/config';

// Projects: unit (no cluster, seconds). integration (tier sim) and e2e (tier node) join
// when the test bed lands; each must fail loudly when its tier cannot start.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['src/**/*.test.ts'],
          environment: 'node',
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
