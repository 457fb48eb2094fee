import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { cleanupSessions } from '../../src/workflows/index.js';
import { promptCounts, setupDurable, waitFor, type Durable } from '../helpers/durable.js';

let d: Durable;
beforeAll(async () => {
  d = await setupDurable();
});
afterAll(async () => {
  await d?.close();
});

const DAY = 86_400_000;

/** Makes a session look unused for `days` (its runs keep their real dates). */
async function age(sessionId: string, days: number): Promise<void> {
  await d.mongo.db(d.dbName).collection('sessions').updateOne({ _id: sessionId } as never, { $set: { updatedAt: new Date(Date.now() - days * DAY) } });
}

async function messageCount(sessionId: string): Promise<number> {
  return d.mongo.db(d.dbName).collection('messages').countDocuments({ sessionId });
}

test('a cleanup racing a running step on a session it would delete: the running session loses nothing', async () => {
  const w = await d.startWorker();
  const marker = `race-${randomUUID()}`;
  const first = await w.client.query(`${marker} start a conversation`);
  await age(first.sessionId, 60);
  const before = await messageCount(first.sessionId);

  // The resume streams slowly, so the cleanup lands while it is running.
  const run = await w.client.startPipeline({ name: 'race', steps: [{ mode: 'resume', sessionId: first.sessionId, prompt: `${marker} go on [[slow 300x30]]` }] });
  await waitFor('the resume to be running', async () => (await d.mongo.db(d.dbName).collection('runs').countDocuments({ sessionId: first.sessionId, status: 'running' })) > 0);
  await waitFor('the resume to store messages', async () => (await messageCount(first.sessionId)) > before);
  const totalBefore = (await d.store.costReport({ by: 'total' })).total;
  const cleanup = await d.store.cleanupOldSessions({ maxAgeDays: 0 });
  // The books: the cleanup changed no total (what it deleted kept its ledger entries).
  expect((await d.store.costReport({ by: 'total' })).total).toEqual(totalBefore);
  expect(cleanup.sessionIds).not.toContain(first.sessionId);
  expect(cleanup.skippedBusy).toBeGreaterThanOrEqual(1);

  const result = await run.result();
  expect(result.status).toBe('completed');
  const meta = (await d.store.getSession(first.sessionId))!;
  expect(meta.runCount).toBe(2);
  expect(await messageCount(first.sessionId)).toBe(before + result.steps[0]!.messageCount);
  expect(await d.store.loadTranscript(first.sessionId)).not.toBeNull();
});

test('the cleanup workflow archives, logs and points to its record; restore brings the session back resumable on another worker', async () => {
  const w = await d.startWorker();
  const marker = `arch-${randomUUID()}`;
  const first = await w.client.query(`${marker} remember the number 7`);
  await age(first.sessionId, 60);
  const costsBefore = await d.store.costReport({ by: 'day' });

  const workflowId = `cleanup-${randomUUID()}`;
  const result = await d.temporal.workflow.execute(cleanupSessions, {
    taskQueue: w.config.taskQueue,
    workflowId,
    args: [{ maxAgeDays: 30, archive: 'gridfs' }],
  });
  if (result.dryRun) throw new Error('not a dry run');
  expect(result.sessionIds).toContain(first.sessionId);
  expect(await d.store.getSession(first.sessionId)).toBeNull();
  expect(await d.store.costReport({ by: 'day' })).toEqual(costsBefore);

  const record = (await d.store.getDeletionRecord(result.logId))!;
  expect(record).toMatchObject({ trigger: { kind: 'workflow', name: workflowId }, dryRun: false, criteria: { maxAgeDays: 30, archive: 'gridfs' } });
  expect(record.sessionIds).toContain(first.sessionId);
  const ref = result.archiveRefs[result.sessionIds.indexOf(first.sessionId)]!;
  expect(record.archiveRefs).toContain(ref);

  const restored = await d.store.restoreSession(ref);
  expect(restored).toMatchObject({ sessionId: first.sessionId, restored: true, transcript: true });
  expect(await d.store.costReport({ by: 'day' })).toEqual(costsBefore);

  // A worker that never saw the session (its own CLAUDE_CONFIG_DIR) resumes it from the restored transcript.
  const other = await d.startWorker();
  const resumed = await other.client.resume(first.sessionId, `${marker} what was the number?`);
  expect(resumed.status).toBe('success');
  expect(promptCounts(d.stub, marker)).toEqual([1, 2]);
  expect((await d.store.getSession(first.sessionId))!.runCount).toBe(2);
});
