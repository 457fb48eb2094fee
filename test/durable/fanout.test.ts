import { afterAll, beforeAll, expect, test } from 'vitest';
import { conversationStateQuery } from '../../src/workflows/definitions.js';
import { lastPromptsWith, promptCounts, recordHistory, setupDurable, type Durable } from '../helpers/durable.js';

let d: Durable;
beforeAll(async () => {
  d = await setupDurable();
});
afterAll(async () => {
  await d?.close();
});

test('alternatives: three parallel forks, three new ids, lineage to the base, the base unchanged', async () => {
  const w = await d.startWorker();
  const base = await w.client.query('Design a REST API for users', { tags: ['story:alternatives'] });
  const before = (await d.store.getSession(base.sessionId))!;

  const prompts = ['Use PostgreSQL for the database', 'Use MongoDB for the database', 'Use a hybrid approach with both SQL and NoSQL'];
  const handle = await w.client.startExploreAlternatives({ sessionId: base.sessionId, prompts, concurrency: 3, options: { maxTurns: 3 } });
  const result = await handle.result();
  await recordHistory(handle.workflowId, 'explore-alternatives');

  expect(result.branches.map((b) => b.status)).toEqual(['completed', 'completed', 'completed']);
  const ids = result.branches.map((b) => b.sessionId);
  expect(new Set(ids).size).toBe(3);
  expect(ids).not.toContain(base.sessionId);
  for (const [i, b] of result.branches.entries()) {
    expect(b.prompt).toBe(prompts[i]);
    expect(b.costUsd).toBeGreaterThan(0);
    expect(b.summary).toContain(prompts[i]!.slice(0, 20));
    // Each fork carried the base conversation: two user prompts.
    expect(lastPromptsWith(d.stub, prompts[i]!)).toEqual(['Design a REST API for users', prompts[i]]);
    const meta = (await d.store.getSession(b.sessionId!))!;
    expect(meta.lineage.parentSessionId).toBe(base.sessionId);
    expect(meta.tags).toContain('story:alternatives'); // inherited from the base
    expect(meta.lineage.rootSessionId).toBe(base.sessionId);
    // A fork's own spend is its run only, never the base's again.
    expect(meta.totalCostUsd).toBeCloseTo(b.costUsd, 10);
  }
  const lineage = await d.store.getLineage(base.sessionId);
  expect(lineage.tree.children.map((c) => c.sessionId).sort()).toEqual([...ids].sort());

  const after = (await d.store.getSession(base.sessionId))!;
  expect(after.messageCount).toBe(before.messageCount);
  expect(after.totalCostUsd).toBe(before.totalCostUsd);
  expect(result.totalCostUsd).toBeCloseTo(result.branches.reduce((s, b) => s + b.costUsd, 0), 10);
});

test('alternatives: one failing branch does not fail the others', async () => {
  const w = await d.startWorker();
  const base = await w.client.query('Base for a partly failing fan-out');
  const result = await w.client.exploreAlternatives({
    sessionId: base.sessionId,
    prompts: ['fine branch one', '[[error 400]] broken branch', 'fine branch two'],
  });
  expect(result.branches.map((b) => b.status)).toEqual(['completed', 'failed', 'completed']);
  expect(result.branches[1]!.failureType).toBe('ClaudeBadRequest');
  expect(result.branches[1]!.sessionId).toBeNull();
});

test('conversation: updates answered in order, continue-as-new keeps the session', async () => {
  const w = await d.startWorker();
  const key = `user-${Date.now()}`;
  // A low threshold so the conversation rolls over during the test.
  const conv = w.client.conversation(key, { continueAsNewAfterEvents: 20, tags: ['story:conversation'] });

  const first = await conv.send('Hello, my name is Alice');
  const firstRunId = (await d.temporal.workflow.getHandle(conv.workflowId).describe()).runId;
  const second = await conv.send('What is my name?');
  const [third, fourth] = await Promise.all([conv.send('Third message'), conv.send('Fourth message')]);

  expect(first.turn).toBe(1);
  expect(second.turn).toBe(2);
  expect([third.turn, fourth.turn].sort()).toEqual([3, 4]);
  for (const r of [second, third, fourth]) expect(r.sessionId).toBe(first.sessionId);
  // The stub saw the history grow by one prompt per turn.
  expect(promptCounts(d.stub, 'Hello, my name is Alice')).toEqual([1, 2, 3, 4]);

  const state = await d.temporal.workflow.getHandle(conv.workflowId).query(conversationStateQuery);
  expect(state.sessionId).toBe(first.sessionId);
  expect(state.turns).toBe(4);
  expect(state.generation).toBeGreaterThanOrEqual(1);
  expect((await d.temporal.workflow.getHandle(conv.workflowId).describe()).runId).not.toBe(firstRunId);

  await conv.close();
  const final = await d.temporal.workflow.getHandle(conv.workflowId).result();
  expect(final.turns).toBe(4);
  await recordHistory(conv.workflowId, 'conversation');
  const meta = (await d.store.getSession(first.sessionId))!;
  expect(meta.runCount).toBe(4);
});
