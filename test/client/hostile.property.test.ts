/**
 * Property tests on the real stack through the library: for every field of a
 * pipeline, of the one-step calls, of the cleanup Schedule and of store
 * searches, generated hostile values are refused with `InvalidInput` naming
 * the field, and nothing changes (every collection's documents, the task
 * queue's workflows, the Schedules).
 */
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createClient, type ClaudeTemporalClient } from '../../src/client/index.js';
import { createMongoStore, type MongoSessionStore } from '../../src/store/mongo-store.js';
import { basePipeline, hostile, spoiledPipelineField } from '../helpers/hostile.js';
import { openWorld, type World, type WorldCounts } from '../helpers/nothing-changed.js';

let world: World;
let client: ClaudeTemporalClient;
let store: MongoSessionStore;
let before: WorldCounts;
const dbName = `hostile_${randomUUID().slice(0, 8)}`;
const taskQueue = `hostile-${randomUUID()}`;

beforeAll(async () => {
  world = await openWorld();
  const { mongo, temporal } = world;
  client = await createClient({ client: temporal, taskQueue });
  store = createMongoStore({ client: mongo, dbName });
  await store.ensureIndexes();
  // One real session, so searches and reports have something they must not change.
  await store.upsertSession({ sessionId: randomUUID(), tags: ['kept'], description: 'before' });
  before = await world.counts(dbName, taskQueue);
});

afterAll(async () => {
  // Nothing any property tried was written: the same documents, no workflow on the queue.
  if (before) expect(await world.counts(dbName, taskQueue)).toEqual(before);
  await world?.mongo.db(dbName).dropDatabase();
  await world?.close();
});

/** The `InvalidInput` a call rejects with: its field and message. */
async function refusal(call: () => Promise<unknown>): Promise<{ field: string | undefined; message: string }> {
  let result: unknown;
  try {
    result = await call();
  } catch (err) {
    const e = err as { type?: string; message: string; evidence?: { field?: string } };
    expect(e.type, e.message).toBe('InvalidInput');
    return { field: e.evidence?.field, message: e.message };
  }
  throw new Error(`accepted: ${JSON.stringify(result)?.slice(0, 200)}`);
}

describe('pipelines', () => {
  test('every field of a pipeline refuses hostile values, naming the field', async () => {
    await fc.assert(
      fc.asyncProperty(spoiledPipelineField, async (spoiled) => {
        const pipeline = basePipeline() as Record<string, unknown>;
        spoiled.apply(pipeline);
        const workflowId = `hostile-${randomUUID()}`;
        const r = await refusal(() => client.startPipeline(pipeline as never, { workflowId }));
        expect(r.field === spoiled.field || r.field?.startsWith(`${spoiled.field}[`) || r.field?.startsWith(`${spoiled.field}.`), `${r.field} for ${spoiled.field}: ${r.message}`).toBe(true);
        expect(r.message).toMatch(/^Invalid \S+: \S/);
      }),
      { numRuns: 150 },
    );
  });

  test('workflow ids', async () => {
    await fc.assert(
      fc.asyncProperty(hostile.id, async (id) => {
        expect((await refusal(() => client.startPipeline(basePipeline() as never, { workflowId: id }))).field).toBe('workflowId');
      }),
      { numRuns: 20 },
    );
  });
});

describe('one-step calls name their own arguments', () => {
  test('prompt, model, maxTurns and maxBudgetUsd of query, resume and fork', async () => {
    const sessionId = randomUUID();
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          hostile.prompt.map((v) => ['prompt', () => client.query(v as string)] as const),
          hostile.prompt.map((v) => ['prompt', () => client.fork(sessionId, v as string)] as const),
          hostile.model.map((v) => ['model', () => client.resume(sessionId, 'hi', { model: v as string })] as const),
          hostile.positiveInt.map((v) => ['maxTurns', () => client.query('hi', { maxTurns: v as number })] as const),
          hostile.positiveAmount.map((v) => ['maxBudgetUsd', () => client.query('hi', { maxBudgetUsd: v as number })] as const),
          hostile.sessionId.map((v) => ['sessionId', () => client.resume(v, 'hi')] as const),
          hostile.tag.map((v) => ['tags[0]', () => client.query('hi', { tags: [v] })] as const),
        ),
        async ([field, call]) => {
          expect((await refusal(call)).field).toBe(field);
        },
      ),
      { numRuns: 80 },
    );
  });

  test('the fork fan-out', async () => {
    await fc.assert(
      fc.asyncProperty(hostile.prompt, async (bad) => {
        const r = await refusal(() => client.startExploreAlternatives({ sessionId: randomUUID(), prompts: ['fine', bad as string] }));
        expect(r.field).toBe('prompts[1]');
      }),
      { numRuns: 20 },
    );
  });
});

describe('the cleanup Schedule', () => {
  test('cron, schedule id, max age and kept tags', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          hostile.cron.map((v) => ['cron', { cron: v }] as const),
          hostile.id.map((v) => ['scheduleId', { scheduleId: v }] as const),
          fc.oneof(fc.double({ max: -0.001 }), fc.constantFrom(Number.NaN, 36_501, Number.POSITIVE_INFINITY)).map((v) => ['maxAgeDays', { maxAgeDays: v }] as const),
          hostile.tag.map((v) => ['keepTags[0]', { keepTags: [v] as string[] }] as const),
        ),
        async ([field, opts]) => {
          expect((await refusal(() => client.ensureCleanupSchedule({ scheduleId: `hostile-${randomUUID()}`, ...opts }))).field).toBe(field);
        },
      ),
      { numRuns: 40 },
    );
    // No Schedule was created by any of them.
    for await (const s of world.temporal.schedule.list()) expect(s.scheduleId).not.toMatch(/^hostile-/);
  });
});

describe('store searches and reports', () => {
  test('dates, inverted ranges, costs, limits and tags', async () => {
    const day = fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true });
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          hostile.dateText.map((v) => ['after', () => store.search({ after: v as never })] as const),
          hostile.dateText.map((v) => ['until', () => store.costReport({ by: 'total', until: v as never })] as const),
          fc.tuple(day, day).filter(([a, b]) => a.getTime() > b.getTime()).map(([a, b]) => ['after', () => store.search({ after: a, before: b })] as const),
          fc.tuple(day, day).filter(([a, b]) => a.getTime() > b.getTime()).map(([a, b]) => ['since', () => store.costReport({ by: 'day', since: a, until: b })] as const),
          hostile.positiveAmount.filter((v) => v !== 0 && !Object.is(v, -0)).map((v) => ['minCost', () => store.search({ minCost: v as number })] as const),
          fc.oneof(fc.integer({ max: 0 }), fc.integer({ min: 1001 }), fc.constant(1.5)).map((v) => ['limit', () => store.listSessions({ limit: v })] as const),
          hostile.tag.map((v) => ['tags[0]', () => store.search({ tags: [v] })] as const),
        ),
        async ([field, call]) => {
          expect((await refusal(call)).field).toBe(field);
        },
      ),
      { numRuns: 60 },
    );
  });
});
