/**
 * A long session's briefs are folded: its oldest settled runs are kept as one fold instead of a
 * brief each, so a step reads and writes the same amount in a session of any length. Whatever the
 * sequence (runs recorded at once, a run left running, a run written again after it was folded, a
 * run started on a clock far behind, a saved session saved again or emptied), the session's fields
 * equal those computed from its whole ledger.
 */
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { COLLECTIONS, DEFAULT_INLINE_MESSAGE_LIMIT } from '../../src/store/mongo-store.js';
import { createContext } from '../../src/store/context.js';
import { recompute } from '../../src/store/derived.js';
import { FOLD_AT, rebuildBriefs } from '../../src/store/run-briefs.js';
import { type RunBriefsDoc } from '../../src/store/documents.js';
import { type RunLedgerEntry } from '../../src/model/session.js';
import { entry, storeForTests, usage } from './helpers.js';

const t = storeForTests('run-briefs-fold');

const DERIVED = ['totalCostUsd', 'runCount', 'models', 'model', 'lineageCostUsd', 'status', 'messageCount', 'turnCount', 'summary'] as const;

/** The session's derived fields as stored. */
async function derived(sessionId: string): Promise<Record<string, unknown>> {
  const s = (await t.db.collection(COLLECTIONS.sessions).findOne({ _id: sessionId as never })) as Record<string, unknown> | null;
  return Object.fromEntries(DERIVED.map((k) => [k, s?.[k]]));
}

/** The same fields computed from the whole ledger: briefs rebuilt from it (nothing folded), then the fields. */
async function fromLedger(sessionId: string): Promise<Record<string, unknown>> {
  const c = createContext(t.db, () => new Date(), DEFAULT_INLINE_MESSAGE_LIMIT);
  await rebuildBriefs(c, [sessionId]);
  await recompute(c, sessionId, null, 'run');
  return derived(sessionId);
}

const briefsDoc = (sessionId: string) => t.db.collection<RunBriefsDoc>(COLLECTIONS.runBriefs).findOne({ _id: sessionId });

const BASE = Date.parse('2026-07-01T00:00:00Z');

/** A run's two entries as a step writes them: running at its start, settled at its end. */
function entries(sessionId: string, n: number, r: { cents: number; model: string; failed: boolean; messages: number; behind: boolean }): [RunLedgerEntry, RunLedgerEntry] {
  const startedAt = new Date(BASE + (r.behind ? -3_600_000 : n * 1000));
  const start = entry({ runId: `${sessionId}/run#${n}`, sessionId, status: 'running', startedAt, finishedAt: null, subtype: null, exitCode: null });
  const costUsd = r.cents / 100;
  const end = entry({
    ...start,
    status: r.failed ? 'failed' : 'success',
    subtype: r.failed ? 'error_during_execution' : 'success',
    costUsd,
    cumulativeCostUsd: (n + 1) * costUsd,
    usageByModel: { [r.model]: usage(costUsd, 10, 10) },
    model: r.model,
    messageCount: r.messages,
    assistantMessages: Math.ceil(r.messages / 2),
    summary: r.messages > 0 ? `reply ${n}` : null,
    finishedAt: new Date(startedAt.getTime() + 500),
    exitCode: r.failed ? 1 : 0,
  });
  return [start, end];
}

const run = fc.record({
  cents: fc.integer({ min: 0, max: 300 }),
  model: fc.constantFrom('claude-a', 'claude-b', 'claude-c'),
  failed: fc.boolean(),
  messages: fc.integer({ min: 0, max: 6 }),
});

/** What happens between runs, now and then. */
const event = fc.constantFrom('none', 'none', 'none', 'none', 'rewrite', 'behind', 'save', 'unsave', 'hold');

describe('folded run briefs', () => {
  it("keep a long session's fields equal to its whole ledger, whatever is written again, late or at once", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.array(run, { minLength: 1, maxLength: 3 }), event), { minLength: 20, maxLength: 45 }), async (ticks) => {
        const sid = randomUUID();
        await t.store.upsertSession({ sessionId: sid });
        const settled: RunLedgerEntry[] = [];
        let held: { end: RunLedgerEntry; ticks: number } | null = null;
        let n = 0;
        for (const [runs, what] of ticks) {
          // Runs of one session recorded at once, as a settle activity or a direct caller may.
          const pairs = runs.map((r) => entries(sid, n++, { ...r, behind: what === 'behind' }));
          await Promise.all(pairs.map(([start]) => t.store.recordRun(start)));
          if (what === 'hold' && !held) held = { end: pairs.pop()![1], ticks: 3 };
          await Promise.all(pairs.map(([, end]) => t.store.recordRun(end)));
          settled.push(...pairs.map(([, end]) => end));
          if (what === 'rewrite' && settled.length > 0) await t.store.recordRun(settled[0]!);
          if (what === 'save') await t.store.saveSession(sid, [{ type: 'result', subtype: 'success', total_cost_usd: 0.25, session_id: sid }]);
          if (what === 'unsave') await t.store.saveSession(sid, []);
          // A run left running, settled a few ticks later: the fold stops at it meanwhile.
          if (held && --held.ticks === 0) {
            await t.store.recordRun(held.end);
            held = null;
          }
        }
        if (held) await t.store.recordRun(held.end);
        for (const e of entries(sid, n, { cents: 1, model: 'claude-a', failed: false, messages: 1, behind: false })) await t.store.recordRun(e);
        const stored = await derived(sid);
        expect(Object.keys((await briefsDoc(sid))?.runs ?? {}).length).toBeLessThanOrEqual(FOLD_AT);
        expect(stored).toEqual(await fromLedger(sid));
      }),
      { numRuns: 8 },
    );
  }, 120_000);

  it('fold a session of many runs, and a step costs the same reads at any length', async () => {
    const sid = randomUUID();
    await t.store.upsertSession({ sessionId: sid });
    for (let n = 0; n < 3 * FOLD_AT; n++) {
      for (const e of entries(sid, n, { cents: 7, model: n % 2 ? 'claude-a' : 'claude-b', failed: n % 5 === 3, messages: 2, behind: false })) await t.store.recordRun(e);
    }
    const doc = await briefsDoc(sid);
    expect(doc?.folded?.runCount).toBeGreaterThan(FOLD_AT);
    expect(Object.keys(doc?.runs ?? {}).length + (doc?.folded?.runCount ?? 0)).toBe(3 * FOLD_AT);
    const stored = await derived(sid);
    expect(stored).toMatchObject({ runCount: 3 * FOLD_AT, totalCostUsd: (7 * 3 * FOLD_AT) / 100, models: ['claude-b', 'claude-a'], status: 'completed' });
    expect(stored).toEqual(await fromLedger(sid));
    // No messages are stored here, so only the ledger's checks apply.
    expect((await t.store.verify()).problems.filter((p) => p.sessionId === sid && p.kind !== 'messageCount')).toEqual([]);
  }, 60_000);
});
