// @ts-check
import { builtinModules } from 'node:module';
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import { importX } from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      '**/dist/**',
      '**/node_modules/**',
      '.infra/**',
      'packages/proto/src/gen/**',
      'test/bench/results/**',
    ],
  },
  js.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['*.ts', '*.mjs', 'scripts/*.mjs'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    plugins: { 'import-x': importX },
    settings: {
      'import-x/resolver-next': [
        createTypeScriptImportResolver({ conditionNames: ['source', 'types', 'import', 'default'] }),
      ],
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-import-type-side-effects': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', ignoreRestSiblings: true }],
      // Async functions often implement an interface (activities, fixtures) without awaiting.
      '@typescript-eslint/require-await': 'off',
      'import-x/no-cycle': 'error',
      'import-x/no-self-import': 'error',
      // A package's public face is its index: no reaching into another package's sources.
      'no-restricted-imports': ['error', { patterns: ['@beacon/*/src/*', '**/packages/*/src/*'] }],
    },
  },
  {
    // Workflow code runs in Temporal's deterministic sandbox, where Node's modules do not exist;
    // the domain package is imported by workflows, so it lives by the same rule.
    files: [
      'workflows/src/workflows/**/*.ts',
      'workflows/src/domain/**/*.ts',
      '**/test/**/workflows/*.ts',
      'packages/domain/src/**/*.ts',
    ],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: builtinModules.map((name) => ({
            name,
            message: 'workflow code may not import Node built-ins',
          })),
          patterns: [{ group: ['node:*'], message: 'workflow code may not import Node built-ins' }],
        },
      ],
    },
  },
  {
    files: ['**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
  {
    files: ['**/*.test.ts'],
    rules: {
      // Tests assert on values whose type the fixture gives loosely.
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  prettier,
);
