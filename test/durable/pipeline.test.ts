import { WorkflowFailedError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { calculateCost } from '../../src/runner/session.js';
import { parseText } from '../../src/runner/parser.js';
import { COST_SEARCH_ATTRIBUTE } from '../../src/workflows/definitions.js';
import { failureTypeOf } from '../../src/model/causes.js';
import { lastPromptsWith, promptCounts, recordHistory, setupDurable, waitFor, type Durable } from '../helpers/durable.js';

let d: Durable;
beforeAll(async () => {
  d = await setupDurable();
});
afterAll(async () => {
  await d?.close();
});

async function storedLines(sessionId: string): Promise<string[]> {
  const loaded = await d.store.loadSession(sessionId);
  if (!loaded.found) throw new Error(`session ${sessionId} not stored`);
  const lines: string[] = [];
  for await (const m of loaded.session.messages()) lines.push(m.raw);
  return lines;
}

describe('sessionPipeline', () => {
  test('the documentation workflow: one query and two resumes share one session, history grows, store exact', async () => {
    const w = await d.startWorker();
    const marker = `docs-${Date.now()}`;
    const run = await w.client.startPipeline({
      name: 'documentation',
      tags: ['project:docs', 'type:documentation'],
      description: 'Generate docs',
      defaults: { maxTurns: 10, allowedTools: ['Read', 'Glob', 'Grep'] },
      steps: [
        { name: 'analyze', mode: 'query', prompt: `${marker} Analyze the code in lib/my_module.ex and identify public functions` },
        { name: 'generate', mode: 'resume', prompt: 'Now generate @moduledoc and @doc for each function' },
        { name: 'review', mode: 'resume', prompt: 'Review the documentation for completeness and add examples' },
      ],
    });
    const result = await run.result();
    await recordHistory(run.workflowId, 'session-pipeline-documentation');

    expect(result.status).toBe('completed');
    expect(result.stepsDone).toBe(3);
    const ids = new Set(result.steps.map((s) => s.sessionId));
    expect(ids.size).toBe(1);
    const sessionId = result.steps[0]!.sessionId!;

    // The stub saw the conversation grow: 1, then 2, then 3 user prompts.
    expect(promptCounts(d.stub, marker)).toEqual([1, 2, 3]);
    expect(lastPromptsWith(d.stub, marker)).toHaveLength(3);

    // The store holds every message of the three runs once, and the costs add up.
    const lines = await storedLines(sessionId);
    expect(lines.length).toBe(result.steps.reduce((s, x) => s + x.messageCount, 0));
    expect(new Set(lines).size).toBe(lines.length);
    const meta = (await d.store.getSession(sessionId))!;
    expect(meta.messageCount).toBe(lines.length);
    expect(meta.runCount).toBe(3);
    expect(meta.tags).toEqual(expect.arrayContaining(['project:docs', 'type:documentation']));
    expect(meta.totalCostUsd).toBeCloseTo(result.totalCostUsd, 10);
    expect(result.totalCostUsd).toBeGreaterThan(0);
    // The session helper over the stored messages agrees: per-run spend summed, not the cumulative figure.
    const parsed = parseText(lines.join('\n'));
    expect(calculateCost(parsed)).toBeCloseTo(result.totalCostUsd, 10);
    const report = await d.store.costReport({ by: 'pipeline' });
    expect(report.rows.find((r) => r.key === 'documentation')?.costUsd).toBeCloseTo(result.totalCostUsd, 10);

    // Visible and filterable in the Temporal UI: memo and custom search attributes.
    const description = await d.temporal.workflow.getHandle(run.workflowId).describe();
    expect(description.memo).toMatchObject({ name: 'documentation', tags: ['project:docs', 'type:documentation'] });
    expect(description.typedSearchAttributes.get(COST_SEARCH_ATTRIBUTE)).toBeCloseTo(result.totalCostUsd, 10);
    const listed = await waitFor('the pipeline to be listed by tag', async () => {
      const ids: string[] = [];
      for await (const wf of d.temporal.workflow.list({ query: `ClaudeTags = 'project:docs' AND ClaudePipeline = 'documentation'` })) ids.push(wf.workflowId);
      return ids.includes(run.workflowId) ? ids : false;
    });
    expect(listed).toContain(run.workflowId);

    // Progress stays readable after the end.
    const progress = await run.progress();
    expect(progress.steps.map((s) => s.state)).toEqual(['done', 'done', 'done']);
  });

  test('continue resumes the most recent session of the scope', async () => {
    const w = await d.startWorker();
    const scope = w.config.workDir;
    const first = await w.client.query('My name is Alice', { scope, tags: ['story:continue'] });
    const next = await w.client.continue('What is my name?', { scope });
    expect(next.sessionId).toBe(first.sessionId);
    expect(lastPromptsWith(d.stub, 'What is my name?')).toEqual(['My name is Alice', 'What is my name?']);
  });

  test('budget: the pipeline stops before a step once its budget is spent', async () => {
    const w = await d.startWorker();
    const result = await w.client.runPipeline({
      name: 'budget',
      budgetUsd: 0.001,
      steps: [
        { mode: 'query', prompt: 'first step within budget' },
        { mode: 'resume', prompt: 'second step is never run' },
      ],
    });
    expect(result.status).toBe('stopped');
    expect(result.steps.map((s) => s.state)).toEqual(['done', 'skipped']);
    expect(result.stoppedReason).toMatch(/budget/);
    expect(promptCounts(d.stub, 'second step is never run')).toEqual([]);
  });

  test('max turns: a step that hits its turn limit stops the pipeline, or goes on by its policy', async () => {
    const w = await d.startWorker();
    const stopped = await w.client.runPipeline({
      steps: [
        { mode: 'query', prompt: '[[tools 3]] loop a while', options: { maxTurns: 1, allowedTools: ['Bash'] } },
        { mode: 'resume', prompt: 'not reached' },
      ],
    });
    expect(stopped.status).toBe('stopped');
    expect(stopped.steps[0]!.status).toBe('max_turns');
    expect(stopped.steps[1]!.state).toBe('skipped');

    const goesOn = await w.client.runPipeline({
      steps: [
        { mode: 'query', prompt: '[[tools 3]] loop again', options: { maxTurns: 1, allowedTools: ['Bash'] }, onLimit: 'continue' },
        { mode: 'resume', prompt: 'then summarise' },
      ],
    });
    expect(goesOn.status).toBe('completed');
    expect(goesOn.steps.map((s) => s.status)).toEqual(['max_turns', 'success']);
  });

  test('401 is not retried: the pipeline fails with ClaudeAuthError after one attempt', async () => {
    const w = await d.startWorker();
    const run = await w.client.startPipeline({ steps: [{ mode: 'query', prompt: '[[error 401]] unauthorised' }] });
    const err = await run.result().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect(failureTypeOf(err)).toBe('ClaudeAuthError');
    const runs = await d.store.runsOfStep(`${run.workflowId}/0`);
    expect(runs.map((r) => [r.attempt, r.status, r.failureType])).toEqual([[1, 'failed', 'ClaudeAuthError']]);
    expect(promptCounts(d.stub, '[[error 401]] unauthorised')).toHaveLength(1);
  });

  test('529 is retried by Temporal and then succeeds; the failed attempt stays in the ledger', async () => {
    const w = await d.startWorker();
    const run = await w.client.startPipeline({
      steps: [{ mode: 'query', prompt: '[[error 529 x1]] overloaded once' }],
      tuning: { initialRetryIntervalMs: 100 },
    });
    const result = await run.result();
    await recordHistory(run.workflowId, 'session-pipeline-retry');
    expect(result.status).toBe('completed');
    const runs = await d.store.runsOfStep(`${run.workflowId}/0`);
    expect(runs.map((r) => [r.attempt, r.status, r.failureType])).toEqual([
      [1, 'failed', 'Overloaded'],
      [2, 'success', null],
    ]);
    // The retried query started the conversation over: the stub saw the prompt alone both times.
    expect(promptCounts(d.stub, 'overloaded once')).toEqual([1, 1]);
    const lines = await storedLines(result.steps[0]!.sessionId!);
    expect(lines.length).toBe(result.steps[0]!.messageCount);
  });

  test('bad input is rejected before anything starts, naming the field', async () => {
    const w = await d.startWorker();
    await expect(w.client.startPipeline({ steps: [{ mode: 'fork', prompt: 'x' }] })).rejects.toThrow(/steps\[0\]\.sessionId/);
    await expect(w.client.startPipeline({ steps: [{ mode: 'query', prompt: 'x', options: { maxTurns: -1 } }] })).rejects.toThrow(
      /steps\[0\]\.options\.maxTurns/,
    );
    await expect(w.client.startPipeline({ steps: [], tags: ['ok'] })).rejects.toThrow(/steps/);
  });

  test('resume of an unknown session fails with SessionNotFound and writes nothing', async () => {
    const w = await d.startWorker();
    const unknown = '00000000-0000-4000-8000-000000000000';
    const err = await w.client.resume(unknown, 'hello?').catch((e: unknown) => e);
    expect(failureTypeOf(err)).toBe('SessionNotFound');
    expect(await d.store.getSession(unknown)).toBeNull();
  });
});
