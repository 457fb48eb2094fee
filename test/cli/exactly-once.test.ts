/**
 * The CLI's side of exactly-once: a workflow id is an idempotency key, a `query` whose store is
 * down exits 4 at once, and `sessions verify` reports and repairs what a crash left behind.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { cli, cliFixture, parseJson, startWorker } from './helpers.js';

let fx: Awaited<ReturnType<typeof cliFixture>>;
beforeAll(async () => {
  fx = await cliFixture();
});
afterAll(async () => {
  await fx?.close();
});

test('a workflow id is an idempotency key: the same request gets the earlier result, another is refused naming --workflow-id', async () => {
  const taskQueue = `cli-${randomUUID()}`;
  const worker = await startWorker(taskQueue, fx.dbName);
  try {
    const env = fx.env(taskQueue);
    const id = `idem-${randomUUID()}`;
    const first = await cli(['--json', 'query', 'once only', '--workflow-id', id], env);
    expect(first.code, first.stderr).toBe(0);
    const again = await cli(['--json', 'query', 'once only', '--workflow-id', id], env);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain(`workflow ${id} already ran this request`);
    expect(parseJson<{ sessionId: string }>(again).sessionId).toBe(parseJson<{ sessionId: string }>(first).sessionId);
    const runs = await fx.store.runsOfStep(`${id}/0`);
    expect(runs).toHaveLength(1);

    const other = await cli(['query', 'a new prompt', '--workflow-id', id], env);
    expect(other.code).toBe(2);
    expect(other.stderr).toContain('--workflow-id');
    expect(await fx.store.runsOfStep(`${id}/0`)).toHaveLength(1);

    const empty = await cli(['query', 'x', '--workflow-id', ''], env);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain('--workflow-id');

    const verify = await cli(['sessions', 'verify'], env);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    expect(verify.stdout).toMatch(/sessions consistent/);
  } finally {
    await worker.stop();
  }
});

test('a command whose store is down exits 4 before starting anything', async () => {
  const started = Date.now();
  const r = await cli(['query', 'hi'], { ...fx.env(), MONGODB_URI: 'mongodb://127.0.0.1:1/?directConnection=true' });
  expect(r.code).toBe(4);
  expect(r.stderr).toMatch(/MongoDB unavailable/);
  // Only what the CLI waited for, not a step's retries (tests never assert durations tightly).
  expect(Date.now() - started).toBeLessThan(30_000);
});

test('sessions verify finds what a crash left behind and --repair settles it', async () => {
  const sessionId = randomUUID();
  const runId = `crash-${sessionId}`;
  const now = new Date();
  const iso = now.toISOString();
  await fx.store.upsertSession({ sessionId, status: 'active' });
  await fx.store.appendMessages(sessionId, runId, [{ seq: 1, raw: JSON.stringify({ type: 'assistant', message: { content: [{ type: 'text', text: 'half' }] } }) }]);
  await fx.store.recordRun({
    runId, sessionId, mode: 'query', promptDigest: 'a'.repeat(64), status: 'running', failureType: null, subtype: null, costUsd: 0, cumulativeCostUsd: 0,
    usageByModel: {}, numTurns: 0, messageCount: 0, exitCode: null, startedAt: now, finishedAt: null, durationMs: 0, stepKey: `crash/${sessionId}`, attempt: 1,
    day: iso.slice(0, 10), month: iso.slice(0, 7), tags: [], model: null, pipeline: null, workflowId: null,
  });
  const env = fx.env();
  const found = await cli(['--json', 'sessions', 'verify'], env);
  expect(found.code).toBe(1);
  const report = parseJson<{ problems: { sessionId: string; kind: string }[] }>(found);
  expect(report.problems.filter((p) => p.sessionId === sessionId).map((p) => p.kind)).toEqual(expect.arrayContaining(['runStuckRunning', 'failedRunMessages']));
  const repaired = await cli(['sessions', 'verify', '--repair'], env);
  expect(repaired.code, repaired.stdout + repaired.stderr).toBe(0);
  const after = await cli(['--json', 'sessions', 'verify'], env);
  expect(after.code, after.stdout).toBe(0);
  const run = await fx.store.getRun(runId);
  expect(run).toMatchObject({ status: 'failed', failureType: 'Crashed', estimated: true });
  expect((await fx.store.getSession(sessionId))!.messageCount).toBe(0);
});
