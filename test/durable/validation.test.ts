/**
 * Input refused at the door, on the real stack through the library: long
 * prompts reach the CLI whole (stdin), bad ones are refused before anything
 * runs, long pipelines continue as new, what only the worker can check fails
 * before anything is written, and a worker that cannot run claude never starts.
 */
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { WorkflowFailedError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import { MAX_PIPELINE_STEPS, MAX_PROMPT_BYTES } from '../../src/model/defaults.js';
import { temporalCliPath } from '../../src/paths.js';
import { createClaudeTemporalWorker } from '../../src/worker/worker.js';
import { failureTypeOf, innermostMessage } from '../../src/model/causes.js';
import { lastPromptsWith, setupDurable, waitFor, type Durable, type TestWorker } from '../helpers/durable.js';
import { worldCounts } from '../helpers/nothing-changed.js';

let d: Durable;
let w: TestWorker;
beforeAll(async () => {
  d = await setupDurable();
  w = await d.startWorker();
});
afterAll(async () => {
  await d?.close();
});

const counts = () => worldCounts(d.mongo, d.dbName, d.temporal, w.config.taskQueue);

/** The rejection of `promise`: its type and field. */
async function refusal(promise: Promise<unknown>): Promise<{ type?: string; field?: string; message: string }> {
  const err = (await promise.then(
    () => {
      throw new Error('expected a refusal');
    },
    (e: unknown) => e,
  )) as { type?: string; message: string; evidence?: { field?: string } };
  return { type: err.type, field: err.evidence?.field, message: err.message };
}

describe('prompts', () => {
  test('a 200 KB prompt, past the kernel limit of one argument, reaches the API whole', async () => {
    const marker = `long-${Date.now()}`;
    const prompt = `${marker} ${'x'.repeat(200_000)}`;
    const r = await w.client.query(prompt, { workflowId: `long-prompt-${Date.now()}` });
    expect(r.status).toBe('success');
    expect(lastPromptsWith(d.stub, marker)).toEqual([prompt]);
  });

  test('a NUL byte, a blank or an over-long prompt and a bad model are refused before anything is written', async () => {
    const before = await counts();
    const cases: [Promise<unknown>, string][] = [
      [w.client.query('hello\u0000world'), 'prompt'],
      [w.client.query('   '), 'prompt'],
      [w.client.query('x'.repeat(MAX_PROMPT_BYTES + 1)), 'prompt'],
      [w.client.query('hi', { model: '$x' }), 'model'],
      [w.client.query('hi', { maxTurns: 0 }), 'maxTurns'],
      [w.client.query('hi', { workflowId: '' }), 'workflowId'],
      [w.client.startPipeline({ steps: [{ mode: 'query', prompt: 'a\u0000' }] }), 'steps[0].prompt'],
      [w.client.exploreAlternatives({ sessionId: '11111111-1111-4111-8111-111111111111', prompts: ['ok', 'bad\u0000'] }), 'prompts[1]'],
      [w.client.ensureCleanupSchedule({ cron: '0 3 31 2 *', scheduleId: `never-${Date.now()}` }), 'cron'],
      [w.client.ensureCleanupSchedule({ scheduleId: '' }), 'scheduleId'],
    ];
    for (const [promise, field] of cases) expect(await refusal(promise), field).toMatchObject({ type: 'InvalidInput', field });
    expect(await counts()).toEqual(before);
  });
});

describe('pipeline limits', () => {
  test(`more than ${MAX_PIPELINE_STEPS} steps is refused`, async () => {
    const steps = Array.from({ length: MAX_PIPELINE_STEPS + 1 }, (_, i) => ({ mode: 'query' as const, prompt: `p${i}` }));
    expect(await refusal(w.client.startPipeline({ steps }))).toMatchObject({ type: 'InvalidInput', field: 'steps', message: expect.stringMatching(/at most 500 steps/) });
  });

  test('a long pipeline continues as new and its reports carry over', async () => {
    const workflowId = `can-${Date.now()}`;
    const marker = `can-${Date.now()}`;
    const run = await w.client.startPipeline(
      {
        name: 'rolling',
        tuning: { continueAsNewAfterSteps: 2 },
        steps: [
          { name: 'one', mode: 'query', prompt: `${marker} one` },
          { name: 'two', mode: 'resume', prompt: 'two' },
          { name: 'three', mode: 'resume', prompt: 'three' },
        ],
      },
      { workflowId },
    );
    const result = await run.result();
    expect(result).toMatchObject({ status: 'completed', stepsDone: 3, stepsTotal: 3 });
    expect(result.steps.map((s) => s.state)).toEqual(['done', 'done', 'done']);
    expect(new Set(result.steps.map((s) => s.sessionId)).size).toBe(1);
    // The third step resumed the session of the first run: the API saw the three prompts.
    expect(lastPromptsWith(d.stub, marker)).toHaveLength(3);
    // Two runs: the first continued as new. (Visibility lags behind: wait for it to catch up.)
    const statuses = async () => {
      const runs: string[] = [];
      for await (const e of d.temporal.workflow.list({ query: `WorkflowId = '${workflowId}'` })) runs.push(e.status.name);
      return runs.sort().join(',');
    };
    await waitFor('both runs in visibility', async () => (await statuses()) === 'COMPLETED,CONTINUED_AS_NEW');
    if (process.env.RECORD_HISTORIES === '1') await recordFirstRun(workflowId, 'session-pipeline-continue-as-new');
  });
});

describe('what only the worker can check fails before anything is written', () => {
  test('a working directory missing on the worker, and bypassPermissions as root', async () => {
    const before = await counts();
    const cases: [Parameters<typeof w.client.startPipeline>[0], string][] = [[{ scope: '/nonexistent/dir/of/the/user', steps: [{ mode: 'query', prompt: 'hi' }] }, 'cwd']];
    if (process.getuid?.() === 0) cases.push([{ steps: [{ mode: 'query', prompt: 'hi', options: { permissionMode: 'bypassPermissions' } }] }, 'permissionMode']);
    for (const [input, field] of cases) {
      const run = await w.client.startPipeline(input, { workflowId: `worker-check-${field}-${Date.now()}` });
      const err = await run.result().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(WorkflowFailedError);
      expect(failureTypeOf(err)).toBe('InvalidInput');
      expect(innermostMessage(err)).toMatch(new RegExp(`^Invalid ${field}`));
      // No session for the step: the report says so rather than naming one that does not exist.
      expect((await run.progress()).steps[0]!.sessionId).toBeNull();
    }
    const after = await counts();
    expect(after.collections).toEqual(before.collections);
  });

  test('a failed run reports the session it ran in, which is stored', async () => {
    const run = await w.client.startPipeline({ steps: [{ mode: 'query', prompt: '[[error 400]] refused by the API' }] }, { workflowId: `failed-run-${Date.now()}` });
    await expect(run.result()).rejects.toThrow();
    const sessionId = (await run.progress()).steps[0]!.sessionId;
    expect(sessionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(await d.store.getSession(sessionId!)).toMatchObject({ sessionId, status: 'failed' });
  });
});

describe('a worker that cannot run claude refuses to start', () => {
  test('CLAUDE_PATH missing, or not a claude', async () => {
    const dir = path.join((await d.workerConfig()).workDir, '..', 'bins');
    await mkdir(dir, { recursive: true });
    const notClaude = path.join(dir, 'not-claude');
    await writeFile(notClaude, '#!/bin/sh\necho hello\n', { mode: 0o755 });
    for (const claudePath of ['/nonexistent/claude', notClaude, dir]) {
      const config = await d.workerConfig({ claudePath });
      const err = await refusal(createClaudeTemporalWorker(config, { store: d.store, connection: d.nativeConnection, workflowBundle: d.bundle }));
      expect(err, claudePath).toMatchObject({ type: 'InvalidInput', field: 'CLAUDE_PATH' });
      expect(err.message).toContain(claudePath);
    }
  });
});

/** The first run of a workflow that continued as new, saved for the replay tests. */
async function recordFirstRun(workflowId: string, name: string): Promise<void> {
  const { stdout: described } = await promisify(execFile)(temporalCliPath(), ['workflow', 'list', '--query', `WorkflowId = '${workflowId}' AND ExecutionStatus = 'ContinuedAsNew'`, '--address', inject('temporalAddress'), '--output', 'json']);
  const runId = (JSON.parse(described) as { execution: { runId: string } }[])[0]!.execution.runId;
  const { stdout } = await promisify(execFile)(temporalCliPath(), ['workflow', 'show', '--workflow-id', workflowId, '--run-id', runId, '--address', inject('temporalAddress'), '--output', 'json'], {
    maxBuffer: 64 * 1024 * 1024,
  });
  await writeFile(path.join(import.meta.dirname, '..', 'histories', `${name}.json`), stdout);
}
