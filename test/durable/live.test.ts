/**
 * Operating live work through the library: a cancelled pipeline is its own outcome, run helpers detach or
 * cancel on an AbortSignal, and a conversation keeps its session by key in the store (re-opened, forked).
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { createClient, RunDetachedError } from '../../src/client/index.js';
import { progressQuery } from '../../src/workflows/definitions.js';
import { promptCounts, recordHistory, setupDurable, waitFor, type Durable } from '../helpers/durable.js';

let d: Durable;
beforeAll(async () => {
  d = await setupDurable();
}, 120_000);
afterAll(async () => {
  await d?.close();
});

async function clientFor(taskQueue: string) {
  return await createClient({ client: d.temporal, taskQueue, store: d.store });
}

test('a cancelled pipeline: status and step cancelled, the ledger entry Cancelled with its spend', async () => {
  const w = await d.startWorker();
  const client = await clientFor(w.config.taskQueue);
  const run = await client.startPipeline({
    name: 'cancel-me',
    steps: [
      { name: 'first', mode: 'query', prompt: 'quick one' },
      { name: 'slow', mode: 'resume', prompt: '[[slow 300x300]] a long answer' },
      { name: 'never', mode: 'resume', prompt: 'not reached' },
    ],
  });
  await waitFor('the slow step to run', async () => {
    const live = await run.liveProgress();
    return live.currentStep === 'slow' && (live.running?.messages ?? 0) > 0;
  });
  const outcome = await client.cancelRun(run.workflowId);
  expect(outcome).toMatchObject({ status: 'cancelled', requested: true, stopped: true });
  expect(outcome.cancelledRuns).toHaveLength(1);
  const ledger = await d.store.runsOfWorkflows([run.workflowId]);
  const cancelled = ledger.find((r) => r.failureType === 'Cancelled')!;
  expect(cancelled.status).toBe('failed');
  // Its spend: the CLI's figure or the estimate from the tokens streamed before the cancellation.
  expect(cancelled.costUsd).toBeGreaterThanOrEqual(0);
  expect(outcome.spendUsd).toBeGreaterThan(0);
  expect(outcome.spendUsd).toBeCloseTo(ledger.reduce((s, r) => s + r.costUsd, 0), 10);

  const progress = await d.temporal.workflow.getHandle(run.workflowId).query(progressQuery);
  expect(progress.status).toBe('cancelled');
  expect(progress.steps.map((s) => s.state)).toEqual(['done', 'cancelled', 'skipped']);
  expect(progress.steps[1]!.failureType).toBe('Cancelled');
  const result = await client.runResult(run.workflowId);
  expect(result).toMatchObject({ kind: 'pipeline', status: 'cancelled' });
  await recordHistory(run.workflowId, 'session-pipeline-cancelled');
}, 300_000);

test('run helpers: an abort detaches (the run goes on) or, with cancelOnAbort, cancels and waits', async () => {
  const w = await d.startWorker();
  const client = await clientFor(w.config.taskQueue);
  const detach = new AbortController();
  const detached = client.query('[[slow 200x20]] take your time', { signal: detach.signal, workflowId: `detach-${Date.now()}` });
  setTimeout(() => detach.abort(), 500);
  const err = await detached.catch((e: unknown) => e);
  expect(err).toBeInstanceOf(RunDetachedError);
  const id = (err as RunDetachedError).workflowId;
  // The run went on and completed.
  const done = await client.attachPipeline(id).result();
  expect(done.status).toBe('completed');

  const stop = new AbortController();
  const stopped = client.query('[[slow 300x300]] a long one', { signal: stop.signal, cancelOnAbort: true, workflowId: `stop-${Date.now()}` });
  await waitFor('the step to run', async () => (await client.listRuns({ status: 'running' })).some((r) => r.workflowId.startsWith('stop-') && r.currentStep));
  stop.abort();
  const cancelErr = (await stopped.catch((e: unknown) => e)) as { type?: string; message: string };
  expect(cancelErr.type).toBe('Cancelled');
  expect(cancelErr.message).toMatch(/cancelled after spending \$\d+\.\d{4}/);
}, 300_000);

test('a conversation keeps its session by key: re-opened after close, forked, or new when asked', async () => {
  const w = await d.startWorker();
  const client = await clientFor(w.config.taskQueue);
  const key = `alice-${Date.now()}`;
  const conv = client.conversation(key);
  const first = await conv.send('Hello, my name is Alice');
  const second = await conv.send('What is my name?');
  expect(second.sessionId).toBe(first.sessionId);
  await conv.close();
  await d.temporal.workflow.getHandle(conv.workflowId).result();

  // The same handle after close: a new workflow run, the same session, the history intact.
  const third = await conv.send('Back again');
  expect(third).toMatchObject({ sessionId: first.sessionId, turn: 3 });
  expect(promptCounts(d.stub, 'Hello, my name is Alice')).toEqual([1, 2, 3]);

  // A fork: a new session branched from the current one; the conversation continues there.
  const forked = await conv.send('Try another way', { fork: true });
  expect(forked.sessionId).not.toBe(first.sessionId);
  expect((await d.store.getSession(forked.sessionId))!.lineage.parentSessionId).toBe(first.sessionId);
  const after = await conv.send('Go on');
  expect(after.sessionId).toBe(forked.sessionId);
  expect(await d.store.getConversation(key)).toMatchObject({ key, sessionId: forked.sessionId, exchanges: 5 });
  await conv.close();
  await d.temporal.workflow.getHandle(conv.workflowId).result();
  await recordHistory(conv.workflowId, 'conversation-record');

  const fresh = await client.conversation(key, { newSession: true }).send('Start over');
  expect(fresh.sessionId).not.toBe(forked.sessionId);
  expect(fresh.turn).toBe(6);
  expect((await d.store.getConversation(key))!.sessionId).toBe(fresh.sessionId);
  await client.conversation(key).close();
}, 300_000);
