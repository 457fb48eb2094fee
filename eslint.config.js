import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.local/**', 'coverage/**', 'test/fixtures/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-syntax': [
        'error',
        { selector: 'TSEnumDeclaration', message: 'Use a string union or an `as const` object, not a TS enum' },
        { selector: 'ExportDefaultDeclaration', message: 'Use named exports only' },
      ],
    },
  },
  {
    // Workflow code is replayed: it may import only @temporalio/workflow, pure modules and types.
    files: ['src/workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.map((name) => ({ name, message: 'Node built-ins are not deterministic; keep them out of workflows' })),
          patterns: [
            { group: ['@temporalio/*', '!@temporalio/workflow'], message: 'Workflows may import only @temporalio/workflow (types excepted)', allowTypeImports: true },
            { group: ['execa', 'mongodb', '**/store/mongo-store.js', '**/runner/run.js'], message: 'Workflows must not reach processes or the database', allowTypeImports: true },
          ],
        },
      ],
    },
  },
  {
    files: ['eslint.config.js', 'vitest.config.ts'],
    rules: { 'no-restricted-syntax': 'off' },
  },
);
