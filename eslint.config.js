import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'coverage/**', 'node_modules/**', '.cluster/**', '.cache/**'] },
  js.configs.recommended,
  ...tseslint.configs.strict,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-non-null-assertion': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'error',
    },
  },
  {
    // The package's index loads every generated API and model (~30 MiB RSS): product code takes
    // runtime values from src/kube/client-node.ts, types from anywhere.
    files: ['src/**/*.ts'],
    ignores: ['**/*.test.ts', '**/*.bench.ts', 'src/**/testdata/**'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        { paths: [{ name: '@kubernetes/client-node', allowTypeImports: true, message: 'Import runtime values from src/kube/client-node.ts (it says why).' }] },
      ],
    },
  },
  {
    files: ['hack/**/*.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
    rules: { 'no-console': 'off' },
  },
  {
    files: ['src/cli/**/*.ts', 'hack/**/*.ts', 'test/**/*.ts', 'e2e/**/*.ts', '**/*.test.ts', '**/*.bench.ts'],
    rules: { 'no-console': 'off' },
  },
);
