import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];

/**
 * The layers of src/: each folder and the folders it may import (lower layers need not be
 * listed twice: a folder may import what its allowed folders may). DEVELOPERS.md draws this.
 * `paths` is src/paths.ts (Node paths of the package and its tools); `processes` is src/processes.ts
 * (whether a process runs).
 */
export const LAYERS = {
  model: [],
  runner: ['model', 'processes'],
  store: ['model'],
  activities: ['model', 'runner', 'store'],
  worker: ['model', 'runner', 'store', 'activities', 'paths'],
  // Plus `import type` of activities (the proxies' types), below.
  workflows: ['model'],
  // The store too: the client opens it for its callers (`client/sessions.ts`), who never reach the driver.
  client: ['model', 'workflows', 'store'],
  // The CLI reaches Temporal and the store through the client; it runs the local stack. Only the `worker`
  // and `demo` commands also run a worker (CLI_WORKER_COMMANDS).
  cli: ['model', 'client', 'stack', 'console'],
  console: ['model', 'client'],
  stack: ['paths', 'processes'],
  stub: [],
};
const FOLDERS = [...Object.keys(LAYERS), 'paths', 'processes'];

/** The CLI commands that run a worker in their process. */
const CLI_WORKER_COMMANDS = ['src/cli/commands/worker.ts', 'src/cli/commands/demo.ts'];

/** Imports of `folder` that the layers forbid: `../<other>/...` (any depth) of a folder it may not use. */
function layerPattern(folder, { allowTypeImports = [], alsoAllowed = [] } = {}) {
  const allowed = new Set([folder, ...LAYERS[folder], ...alsoAllowed]);
  const denied = FOLDERS.filter((f) => !allowed.has(f));
  const re = (names) => `^(\\.\\./)+(${names.join('|')})(/|\\.js$)`;
  const what = LAYERS[folder].length ? `only ${LAYERS[folder].join(', ')}` : 'nothing of the project';
  const message = `${folder}/ may import ${what} (see LAYERS in eslint.config.js)`;
  const strict = denied.filter((f) => !allowTypeImports.includes(f));
  return [
    ...(strict.length ? [{ regex: re(strict), message }] : []),
    ...(allowTypeImports.length ? [{ regex: re(allowTypeImports), message: `${message}; types of ${allowTypeImports.join(', ')} only`, allowTypeImports: true }] : []),
  ];
}

/**
 * `no-restricted-imports` does not see `import()`: the same layer rule for dynamic imports (the CLI
 * loads heavy modules on use), as `no-restricted-syntax` selectors.
 */
function dynamicImportSelectors(folder, options = {}) {
  return layerPattern(folder, options).map(({ regex, message }) => ({
    selector: `ImportExpression[source.value=/${regex.replaceAll('/', '\\/')}/]`,
    message: `${message} (dynamic import)`,
  }));
}

/** Selectors of `no-restricted-syntax` for every file (a later setting of the rule replaces this one). */
const BASE_SYNTAX = [
  { selector: 'TSEnumDeclaration', message: 'Use a string union or an `as const` object, not a TS enum' },
  { selector: 'ExportDefaultDeclaration', message: 'Use named exports only' },
];

const noNodeBuiltins = (why) => nodeBuiltins.map((name) => ({ name, message: why }));

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.local/**', 'coverage/**', 'test/fixtures/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-syntax': ['error', ...BASE_SYNTAX],
    },
  },
  // One entry per layer: a later `no-restricted-imports` for the same file replaces an earlier one.
  ...['runner', 'store', 'activities', 'worker', 'client', 'console', 'stack', 'stub'].map((folder) => ({
    files: [`src/${folder}/**/*.ts`],
    rules: { 'no-restricted-imports': ['error', { patterns: layerPattern(folder) }] },
  })),
  {
    // The shared vocabulary: pure, dependency-free (zod aside), so workflows can use it.
    files: ['src/model/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: noNodeBuiltins('The model is pure: no Node built-ins'),
          patterns: [
            ...layerPattern('model'),
            { group: ['@temporalio/*', 'mongodb', 'execa', 'commander', 'yaml'], message: 'The model is pure: no Temporal, database, process or CLI packages' },
          ],
        },
      ],
    },
  },
  {
    // Workflow code is replayed: it may import only @temporalio/workflow, the model and types.
    files: ['src/workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: noNodeBuiltins('Node built-ins are not deterministic; keep them out of workflows'),
          patterns: [
            ...layerPattern('workflows', { allowTypeImports: ['activities'] }),
            { group: ['@temporalio/*', '!@temporalio/workflow'], message: 'Workflows may import only @temporalio/workflow (types excepted)', allowTypeImports: true },
            { group: ['execa', 'mongodb'], message: 'Workflows must not reach processes or the database', allowTypeImports: true },
            { regex: '(^|/)model/(index\\.js$|validation/)|^zod$', message: 'Workflows import the model modules they use; the barrel and validation/ bring zod into the bundle', allowTypeImports: true },
          ],
        },
      ],
    },
  },
  // The CLI reaches Temporal and the store through the client only; two commands run a worker.
  ...[
    { files: ['src/cli/**/*.ts'], ignores: CLI_WORKER_COMMANDS, alsoAllowed: [] },
    { files: CLI_WORKER_COMMANDS, alsoAllowed: ['worker'] },
  ].map(({ files, ignores, alsoAllowed }) => ({
    files,
    ...(ignores ? { ignores } : {}),
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [...layerPattern('cli', { alsoAllowed }), { group: ['@temporalio/client'], message: 'The CLI reaches Temporal through the client' }] },
      ],
      'no-restricted-syntax': [
        'error',
        ...BASE_SYNTAX,
        ...dynamicImportSelectors('cli', { alsoAllowed }),
        { selector: 'ImportExpression[source.value=/^@temporalio\\/client$/]', message: 'The CLI reaches Temporal through the client (dynamic import)' },
      ],
    },
  })),
  {
    files: ['eslint.config.js', 'vitest.config.ts'],
    rules: { 'no-restricted-syntax': 'off' },
  },
);
