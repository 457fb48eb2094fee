/**
 * A session's ledger in brief (`run_briefs`) is what its totals are computed from: after any
 * sequence of ledger writes it holds exactly the session's entries, totals agree with the ledger
 * (`verify`), a store written before briefs existed gets them at `ensureIndexes`, and a process that
 * has not seen the store marked complete reads the ledger itself.
 */
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Db } from 'mongodb';
import { COLLECTIONS, createMongoStore } from '../../src/store/mongo-store.js';
import { entry, storeForTests, testDbName, usage } from './helpers.js';

const t = storeForTests('run-briefs');

/** The session's briefs as stored, and its ledger entries, each as `runId:status:cost`. */
async function briefsAndLedger(on: Db, sessionId: string): Promise<{ briefs: string[]; ledger: string[] }> {
  const doc = await on.collection<{ _id: string; runs?: Record<string, { runId: string; status: string; costUsd: number }> }>(COLLECTIONS.runBriefs).findOne({ _id: sessionId });
  const runs = await on.collection<{ _id: string; status: string; costUsd: number }>(COLLECTIONS.runs).find({ sessionId }).toArray();
  return {
    briefs: Object.values(doc?.runs ?? {}).map((b) => `${b.runId}:${b.status}:${b.costUsd}`).sort(),
    ledger: runs.map((r) => `${r._id}:${r.status}:${r.costUsd}`).sort(),
  };
}

const write = fc.record({
  run: fc.integer({ min: 0, max: 3 }),
  status: fc.constantFrom('running' as const, 'success' as const, 'failed' as const),
  cents: fc.integer({ min: 0, max: 500 }),
  model: fc.constantFrom('claude-a', 'claude-b'),
});

describe('run briefs', () => {
  it('hold exactly the ledger after any sequence of entries, retries and saves, and the totals agree', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(write, { minLength: 1, maxLength: 8 }), fc.boolean(), async (writes, saved) => {
        const sid = randomUUID();
        await t.store.upsertSession({ sessionId: sid });
        for (const [i, w] of writes.entries()) {
          const costUsd = w.cents / 100;
          await t.store.recordRun(
            entry({
              runId: `${sid}/run#${w.run}`,
              sessionId: sid,
              status: w.status,
              costUsd,
              usageByModel: { [w.model]: usage(costUsd) },
              model: w.model,
              startedAt: new Date(Date.parse('2026-06-01T00:00:00Z') + w.run * 1000),
              finishedAt: w.status === 'running' ? null : new Date(Date.parse('2026-06-01T00:00:00Z') + i * 1000),
            }),
          );
        }
        if (saved) await t.store.saveSession(sid, [{ type: 'result', subtype: 'success', total_cost_usd: 0.25, session_id: sid }]);
        const { briefs, ledger } = await briefsAndLedger(t.db, sid);
        expect(briefs).toEqual(ledger);
        expect((await t.store.verify()).problems.filter((p) => p.sessionId === sid && p.kind !== 'runStuckRunning')).toEqual([]);
      }),
      { numRuns: 20 },
    );
  });

  it("runs recorded as a step records them (its end from its start) keep the totals equal to the ledger, past a fold too", async () => {
    const step = fc.record({
      cents: fc.integer({ min: 0, max: 500 }),
      status: fc.constantFrom('success' as const, 'failed' as const),
      retried: fc.boolean(),
      tagged: fc.boolean(),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 40 }), async (steps) => {
        const sid = randomUUID();
        for (const [i, s] of steps.entries()) {
          const costUsd = s.cents / 100;
          const startedAt = new Date(Date.parse('2026-06-01T00:00:00Z') + i * 1000);
          const run = entry({ runId: `${sid}/run#${i}`, sessionId: sid, costUsd, usageByModel: { 'claude-a': usage(costUsd) }, model: 'claude-a', startedAt });
          const started = await t.store.startRun({ ...run, status: 'running', costUsd: 0, usageByModel: {}, finishedAt: null }, { session: { sessionId: sid }, fresh: i === 0 });
          if (s.tagged) await t.store.tagSession(sid, [`tag-${i % 3}`]);
          await started.record({ ...run, status: s.status });
          if (s.retried) await started.record({ ...run, status: s.status });
        }
        const { briefs, ledger } = await briefsAndLedger(t.db, sid);
        expect(briefs.length).toBeLessThanOrEqual(ledger.length);
        expect((await t.store.verify()).problems.filter((p) => p.sessionId === sid)).toEqual([]);
        const runs = await t.db.collection<{ tags: string[] }>(COLLECTIONS.runs).find({ sessionId: sid }).toArray();
        const tags = (await t.store.getSession(sid))!.tags.sort();
        for (const r of runs) expect([...r.tags].sort()).toEqual(tags);
      }),
      { numRuns: 15 },
    );
  });

  it('a store written before briefs existed gets them at ensureIndexes, and its totals still add up', async () => {
    const dbName = testDbName('legacy-briefs');
    const legacy = t.client.db(dbName);
    const old = createMongoStore({ client: t.client, dbName });
    await old.ensureIndexes();
    const sid = randomUUID();
    await old.upsertSession({ sessionId: sid });
    for (const [i, cost] of [0.5, 0.25].entries()) {
      await old.recordRun(entry({ runId: `legacy-${i}`, sessionId: sid, costUsd: cost, startedAt: new Date(Date.parse('2026-01-01T00:00:00Z') + i) }));
    }
    // As a store from before briefs: the ledger alone.
    await legacy.collection(COLLECTIONS.runBriefs).drop();

    const opened = createMongoStore({ client: t.client, dbName });
    await opened.ensureIndexes();
    expect(await briefsAndLedger(legacy, sid)).toEqual({ briefs: ['legacy-0:success:0.5', 'legacy-1:success:0.25'], ledger: ['legacy-0:success:0.5', 'legacy-1:success:0.25'] });
    await opened.recordRun(entry({ runId: 'after', sessionId: sid, costUsd: 1, startedAt: new Date('2026-02-01T00:00:00Z') }));
    expect((await opened.getSession(sid))?.totalCostUsd).toBe(1.75);
    expect((await opened.verify()).problems).toEqual([]);
  });

  it('until the store is marked complete, totals are read from the ledger itself', async () => {
    const dbName = testDbName('unmarked-briefs');
    // No ensureIndexes: this process never saw the store complete.
    const unmarked = createMongoStore({ client: t.client, dbName });
    const sid = randomUUID();
    await unmarked.upsertSession({ sessionId: sid });
    await t.client.db(dbName).collection(COLLECTIONS.runs).insertOne({ ...entryDoc('written-elsewhere', sid, 2), _id: 'written-elsewhere' as never });
    await unmarked.recordRun(entry({ runId: 'here', sessionId: sid, costUsd: 0.5 }));
    expect((await unmarked.getSession(sid))?.totalCostUsd).toBe(2.5);
  });
});

/** A ledger entry as stored, written without the store (no brief). */
function entryDoc(runId: string, sessionId: string, costUsd: number) {
  const { runId: _, usageByModel: __, ...rest } = entry({ runId, sessionId, costUsd, startedAt: new Date('2026-01-01T00:00:00Z') });
  return { ...rest, usageByModel: [] };
}
