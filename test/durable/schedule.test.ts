import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { createMongoStore } from '../../src/store/mongo-store.js';
import { recordHistory, setupDurable, waitFor, type Durable } from '../helpers/durable.js';

let d: Durable;
beforeAll(async () => {
  d = await setupDurable();
});
afterAll(async () => {
  await d?.close();
});

const message = (sessionId: string, text: string) => [
  { type: 'system', subtype: 'init', session_id: sessionId, model: 'claude-sonnet-4-5' },
  { type: 'assistant', session_id: sessionId, message: { role: 'assistant', model: 'claude-sonnet-4-5', content: [{ type: 'text', text }] } },
  { type: 'result', subtype: 'success', session_id: sessionId, total_cost_usd: 0.01, is_error: false, num_turns: 1 },
];

test('the cleanup schedule: created twice is one schedule; triggered, it deletes old sessions and keeps tagged ones', async () => {
  const w = await d.startWorker();
  const scheduleId = `cleanup-${randomUUID()}`;
  const first = await w.client.ensureCleanupSchedule({ scheduleId, maxAgeDays: 30, keepTags: ['keep'] });
  const second = await w.client.ensureCleanupSchedule({ scheduleId, maxAgeDays: 30, keepTags: ['keep'], cron: '0 4 * * *' });
  expect([first.created, second.created]).toEqual([true, false]);
  const schedules: string[] = [];
  for await (const s of d.temporal.schedule.list()) if (s.scheduleId === scheduleId) schedules.push(s.scheduleId);
  expect(schedules).toHaveLength(1);
  const described = await d.temporal.schedule.getHandle(scheduleId).describe();
  // The server turns cron into calendars; the update moved the hour from 3 to 4.
  expect(JSON.stringify(described.spec.calendars)).toContain('"hour":[{"start":4')
  expect(described.policies.overlap).toBe('SKIP');

  // Sessions last updated 60 days ago, written through a store whose clock is set back.
  const past = createMongoStore({ client: d.mongo, dbName: d.dbName, now: () => new Date(Date.now() - 60 * 86_400_000) });
  const [oldA, oldB, oldKept, recent] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
  await past.saveSession(oldA, message(oldA, 'old a'));
  await past.saveSession(oldB, message(oldB, 'old b'), { tags: ['other'] });
  await past.saveSession(oldKept, message(oldKept, 'old but kept'), { tags: ['keep'] });
  await d.store.saveSession(recent, message(recent, 'recent'));

  await d.temporal.schedule.getHandle(scheduleId).trigger();
  await waitFor('the old sessions to be deleted', async () => (await d.store.getSession(oldA)) === null && (await d.store.getSession(oldB)) === null);
  expect(await d.store.getSession(oldKept)).not.toBeNull();
  expect(await d.store.getSession(recent)).not.toBeNull();

  const recentActions = await waitFor('the action to be recorded', async () => {
    const desc = await d.temporal.schedule.getHandle(scheduleId).describe();
    return desc.info.recentActions.length > 0 ? desc.info.recentActions : false;
  });
  const workflowId = recentActions[0]!.action.workflow.workflowId;
  const result = await d.temporal.workflow.getHandle(workflowId).result();
  expect(result).toMatchObject({ deletedCount: 2, dryRun: false });
  expect([...result.sessionIds].sort()).toEqual([oldA, oldB].sort());
  // The result points to the run's deletion-log record, which names the schedule.
  expect(await d.store.getDeletionRecord(result.logId)).toMatchObject({ trigger: { kind: 'schedule', name: scheduleId }, count: 2, criteria: { maxAgeDays: 30, keepTags: ['keep'] } });
  // Their ledger entries stay: the costs still count them.
  expect((await d.store.costReport({ by: 'total' })).total.sessions).toBe(4);
  await recordHistory(workflowId, 'cleanup-sessions');
  await d.temporal.schedule.getHandle(scheduleId).delete();
});
