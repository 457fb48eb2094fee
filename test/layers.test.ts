import { ESLint } from 'eslint';
import { expect, test } from 'vitest';
import { PROJECT_ROOT } from '../src/paths.js';

const eslint = new ESLint({ cwd: PROJECT_ROOT });

/** Lines of `code` that the layer rule rejects when it lives at `file` (relative to the root). */
async function rejectedLines(file: string, code: string): Promise<number[]> {
  const [result] = await eslint.lintText(code, { filePath: `${PROJECT_ROOT}/${file}` });
  return result!.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.line);
}

test('the model imports nothing of the project', async () => {
  const code = [
    "import { runClaude } from '../runner/run.js';",
    "import { startStack } from '../../stack/stack.js';",
    "import { invalidInput } from '../failures.js';",
    "import { z } from 'zod';",
    'export const probe = [runClaude, startStack, invalidInput, z];',
    '',
  ].join('\n');
  expect(await rejectedLines('src/model/validation/probe.ts', code)).toEqual([1, 2]);
});

test('the store and the runner stand on the model, not on each other', async () => {
  const store = ["import { type RunRequest } from '../runner/index.js';", "import { roundUsd } from '../model/formats.js';", 'export const probe = (r: RunRequest) => roundUsd(Number(r));', ''].join('\n');
  expect(await rejectedLines('src/store/probe.ts', store)).toEqual([1]);
  const runner = ["import { type SessionStore } from '../store/types.js';", "import { type RunRequest } from '../model/run.js';", 'export type Probe = [SessionStore, RunRequest];', ''].join('\n');
  expect(await rejectedLines('src/runner/probe.ts', runner)).toEqual([1]);
});

test('the worker does not import the client', async () => {
  const code = ["import { createClient } from '../client/index.js';", "import { createActivities } from '../activities/index.js';", 'export const probe = [createClient, createActivities];', ''].join('\n');
  expect(await rejectedLines('src/worker/probe.ts', code)).toEqual([1]);
});

test('workflows import the model and only the types of activities', async () => {
  const code = [
    "import type { Activities } from '../activities/index.js';",
    "import { createActivities } from '../activities/index.js';",
    "import { createClient } from '../client/index.js';",
    "import { type SessionStore } from '../store/types.js';",
    "import { roundUsd } from '../model/formats.js';",
    "import { validateRunRequest } from '../model/validation/run-request.js';",
    "import { type PipelineInput } from '../model/index.js';",
    'export const probe = [createActivities, createClient, roundUsd, validateRunRequest] as unknown as [Activities, SessionStore, PipelineInput];',
    '',
  ].join('\n');
  expect(await rejectedLines('src/workflows/probe.ts', code)).toEqual([2, 3, 4, 6]);
});

test('the client does not reach the runner or the worker; it opens the store for its callers', async () => {
  const code = [
    "import { runClaude } from '../runner/run.js';",
    "import { createClaudeTemporalWorker } from '../worker/worker.js';",
    "import { createMongoStore } from '../store/mongo-store.js';",
    "import { sessionPipeline } from '../workflows/index.js';",
    'export const probe = [runClaude, createClaudeTemporalWorker, createMongoStore, sessionPipeline];',
    '',
  ].join('\n');
  expect(await rejectedLines('src/client/probe.ts', code)).toEqual([1, 2]);
});

test('the CLI starts workflows only through the client', async () => {
  const code = [
    "import { sessionPipeline } from '../workflows/index.js';",
    "import { Client } from '@temporalio/client';",
    "import { runClaude } from '../runner/run.js';",
    "import { createClient } from '../client/index.js';",
    'export const probe = [sessionPipeline, Client, runClaude, createClient];',
    '',
  ].join('\n');
  expect(await rejectedLines('src/cli/commands/probe.ts', code)).toEqual([1, 2, 3]);
});

/** Lines of `code` at `file` that a layer rule rejects, static imports and `import()` alike. */
async function rejectedImports(file: string, code: string): Promise<number[]> {
  const [result] = await eslint.lintText(code, { filePath: `${PROJECT_ROOT}/${file}` });
  return result!.messages.filter((m) => m.ruleId === 'no-restricted-imports' || m.ruleId === 'no-restricted-syntax').map((m) => m.line);
}

test('the CLI reaches the store through the client, and only the worker and demo commands run a worker, dynamic imports included', async () => {
  const code = [
    "import { createMongoStore } from '../../store/mongo-store.js';",
    "export const store = () => import('../../store/mongo-store.js');",
    "export const worker = () => import('../../worker/worker.js');",
    "export const workflows = () => import('../../workflows/index.js');",
    "export const temporal = () => import('@temporalio/client');",
    "export const runner = () => import('../../runner/run.js');",
    "export const sessions = () => import('../../client/sessions.js');",
    "export const model = () => import('../../model/defaults.js');",
    "export const stack = () => import('../../stack/stack.js');",
    'export const probe = createMongoStore;',
    '',
  ].join('\n');
  expect(await rejectedImports('src/cli/commands/probe.ts', code)).toEqual([1, 2, 3, 4, 5, 6]);
  expect(await rejectedImports('src/cli/probe.ts', code)).toEqual([1, 2, 3, 4, 5, 6]);
  expect(await rejectedImports('src/cli/commands/worker.ts', code)).toEqual([1, 2, 4, 5, 6]);
  expect(await rejectedImports('src/cli/commands/demo.ts', code)).toEqual([1, 2, 4, 5, 6]);
});

test('the stack and the stub are for the CLI, the demo and tests only', async () => {
  const code = ["import { startStack } from '../stack/stack.js';", "import { startStub } from '../stub/server.js';", 'export const probe = [startStack, startStub];', ''].join('\n');
  for (const folder of ['runner', 'store', 'activities', 'worker', 'client']) {
    expect(await rejectedLines(`src/${folder}/probe.ts`, code)).toEqual([1, 2]);
  }
  expect(await rejectedLines('src/cli/probe.ts', "import { startStack } from '../stack/stack.js';\nexport const probe = startStack;\n")).toEqual([]);
});
