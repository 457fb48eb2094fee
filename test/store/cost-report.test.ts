import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMongoStore, type MongoSessionStore } from '../../src/store/mongo-store.js';
import { type CostRow } from '../../src/model/session.js';
import { entry, testDbName, testMongoUri, usage } from './helpers.js';

let release: () => Promise<void>;
let store: MongoSessionStore;
const A = randomUUID();
const F = randomUUID();
const B = randomUUID();
const sonnet = 'claude-sonnet-5-5';
const haiku = 'claude-3.5-haiku';

beforeAll(async () => {
  const server = await testMongoUri();
  release = server.release;
  store = createMongoStore({ uri: server.uri, dbName: testDbName('cost-report') });
  await store.ensureIndexes();
  // Session A: two runs (the second a resume); F: a fork of A whose CLI figure includes A's spend; B: untagged.
  await store.upsertSession({ sessionId: A, tags: ['team:a', 'proj:x'], origin: { pipeline: 'review' } });
  await store.upsertSession({ sessionId: F, tags: ['team:b'], parentSessionId: A, forkedAtMessage: 5, origin: { pipeline: 'review' } });
  await store.upsertSession({ sessionId: B });
  const runs = [
    entry({ runId: 'A1', sessionId: A, costUsd: 0.123456, cumulativeCostUsd: 0.123456, usageByModel: { [sonnet]: usage(0.123456, 1000, 200, 50, 10) }, model: sonnet, pipeline: 'review', tags: ['team:a', 'proj:x'], startedAt: new Date('2026-03-30T23:00:00Z') }),
    entry({ runId: 'A2', sessionId: A, mode: 'resume', costUsd: 0.2, cumulativeCostUsd: 0.323456, usageByModel: { [sonnet]: usage(0.15, 500, 100), [haiku]: usage(0.05, 300, 30) }, model: sonnet, pipeline: 'review', tags: ['team:a'], startedAt: new Date('2026-04-01T01:00:00Z') }),
    entry({ runId: 'F1', sessionId: F, mode: 'fork', costUsd: 0.07, cumulativeCostUsd: 0.393456, usageByModel: { [haiku]: usage(0.07, 700, 70) }, model: haiku, pipeline: 'review', tags: ['team:b'], startedAt: new Date('2026-04-01T05:00:00Z') }),
    entry({ runId: 'B1', sessionId: B, costUsd: 0.01, cumulativeCostUsd: 0.01, startedAt: new Date('2026-04-02T00:00:00Z') }),
  ];
  for (const r of runs) {
    await store.recordRun(r);
    await store.recordRun(r); // a retried activity changes nothing
  }
}, 60_000);

afterAll(async () => {
  await store?.close();
  await release?.();
});

const row = (key: string, costUsd: number, runs: number, sessions: number, tokens: [number, number, number, number] = [0, 0, 0, 0]): CostRow => ({
  key,
  costUsd,
  estimatedUsd: 0,
  runs,
  sessions,
  inputTokens: tokens[0],
  outputTokens: tokens[1],
  cacheReadInputTokens: tokens[2],
  cacheCreationInputTokens: tokens[3],
});

const TOTAL = row('total', 0.403456, 4, 3, [2500, 400, 50, 10]);

describe('costReport', () => {
  it('session totals: a fork counts only its own runs', async () => {
    expect(await store.getSession(A)).toMatchObject({ totalCostUsd: 0.323456, lineageCostUsd: 0.323456, runCount: 2, models: [haiku, sonnet] });
    expect(await store.getSession(F)).toMatchObject({ totalCostUsd: 0.07, lineageCostUsd: 0.393456, runCount: 1 });
  });

  it('by total', async () => {
    expect(await store.costReport({ by: 'total' })).toEqual({ by: 'total', rows: [TOTAL], total: TOTAL });
  });

  it('by tag', async () => {
    const r = await store.costReport({ by: 'tag' });
    expect(r.rows).toEqual([
      row('proj:x', 0.323456, 2, 1, [1800, 330, 50, 10]),
      row('team:a', 0.323456, 2, 1, [1800, 330, 50, 10]),
      row('team:b', 0.07, 1, 1, [700, 70, 0, 0]),
      row('(none)', 0.01, 1, 1),
    ]);
    expect(r.total).toEqual(TOTAL);
  });

  it('by model', async () => {
    const r = await store.costReport({ by: 'model' });
    expect(r.rows).toEqual([
      row(sonnet, 0.273456, 2, 1, [1500, 300, 50, 10]),
      row(haiku, 0.12, 2, 2, [1000, 100, 0, 0]),
      row('(none)', 0.01, 1, 1),
    ]);
  });

  it('by day and month (UTC)', async () => {
    expect((await store.costReport({ by: 'day' })).rows).toEqual([
      row('2026-03-30', 0.123456, 1, 1, [1000, 200, 50, 10]),
      row('2026-04-01', 0.27, 2, 2, [1500, 200, 0, 0]),
      row('2026-04-02', 0.01, 1, 1),
    ]);
    expect((await store.costReport({ by: 'month' })).rows).toEqual([
      row('2026-03', 0.123456, 1, 1, [1000, 200, 50, 10]),
      row('2026-04', 0.28, 3, 3, [1500, 200, 0, 0]),
    ]);
  });

  it('by pipeline', async () => {
    expect((await store.costReport({ by: 'pipeline' })).rows).toEqual([row('review', 0.393456, 3, 2, [2500, 400, 50, 10]), row('(none)', 0.01, 1, 1)]);
  });

  it('filters by time range and tags', async () => {
    const window = await store.costReport({ by: 'total', since: new Date('2026-04-01T00:00:00Z'), until: '2026-04-02T00:00:00Z' as unknown as Date });
    expect(window.total).toEqual(row('total', 0.27, 2, 2, [1500, 200, 0, 0]));
    const teamB = await store.costReport({ by: 'tag', tags: ['team:b', 'nobody'] });
    expect(teamB.rows).toEqual([row('team:b', 0.07, 1, 1, [700, 70, 0, 0])]);
    expect(teamB.total.costUsd).toBe(0.07);
    // Tagging a session later moves its runs into the tag's row.
    await store.tagSession(B, ['team:b']);
    expect((await store.costReport({ by: 'total', tags: ['team:b'] })).total.costUsd).toBe(0.08);
    await store.untagSession(B, ['team:b']);
    expect((await store.costReport({ by: 'total', tags: ['team:b'] })).total.costUsd).toBe(0.07);
    expect((await store.costReport({ by: 'day', since: new Date('2030-01-01T00:00:00Z') })).rows).toEqual([]);
  });
});
