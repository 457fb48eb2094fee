import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NONE, reduceCostReport, type CostRun } from '../../src/store/cost-report.js';
import { COST_DIMENSIONS } from '../../src/model/session.js';

const usage = (model: string, costUSD: number, inputTokens = 0, outputTokens = 0) => ({
  model,
  costUSD,
  inputTokens,
  outputTokens,
  cacheReadInputTokens: 0,
  cacheCreationInputTokens: 0,
});

const runs: CostRun[] = [
  { sessionId: 'a', day: '2026-03-30', month: '2026-03', costUsd: 0.1, tags: ['x', 'y'], model: 'm1', pipeline: 'p', usageByModel: [usage('m1', 0.06, 10, 1), usage('m2', 0.04, 5, 2)] },
  { sessionId: 'a', day: '2026-04-01', month: '2026-04', costUsd: 0.2, tags: ['x'], model: 'm1', pipeline: 'p', usageByModel: [usage('m1', 0.2, 20, 3)] },
  { sessionId: 'b', day: '2026-04-01', month: '2026-04', costUsd: 0.05, tags: [], model: null, pipeline: null, usageByModel: [] },
];

describe('reduceCostReport', () => {
  it('sums the total once per run and counts distinct sessions', () => {
    const r = reduceCostReport(runs, { by: 'total' });
    expect(r.rows).toEqual([r.total]);
    expect(r.total).toEqual({ key: 'total', costUsd: 0.35, estimatedUsd: 0, runs: 3, sessions: 2, inputTokens: 35, outputTokens: 6, cacheReadInputTokens: 0, cacheCreationInputTokens: 0 });
  });

  it('puts a run in every tag it has, untagged runs under (none), most expensive first', () => {
    const r = reduceCostReport(runs, { by: 'tag' });
    expect(r.rows.map((row) => [row.key, row.costUsd, row.runs, row.sessions])).toEqual([
      ['x', 0.3, 2, 1],
      ['y', 0.1, 1, 1],
      [NONE, 0.05, 1, 1],
    ]);
  });

  it('with tags, reports only those tags', () => {
    const r = reduceCostReport(runs, { by: 'tag', tags: ['y'] });
    expect(r.rows.map((row) => row.key)).toEqual(['y']);
  });

  it('by model prices each model by its own usage, and a run without usage by its model', () => {
    const r = reduceCostReport(runs, { by: 'model' });
    expect(r.rows.map((row) => [row.key, row.costUsd, row.runs])).toEqual([
      ['m1', 0.26, 2],
      [NONE, 0.05, 1],
      ['m2', 0.04, 1],
    ]);
  });

  it('by day and month sorts by key', () => {
    expect(reduceCostReport(runs, { by: 'day' }).rows.map((row) => [row.key, row.costUsd])).toEqual([
      ['2026-03-30', 0.1],
      ['2026-04-01', 0.25],
    ]);
    expect(reduceCostReport(runs, { by: 'month' }).rows.map((row) => row.key)).toEqual(['2026-03', '2026-04']);
  });

  it('an empty ledger reports a zero total and no rows', () => {
    const r = reduceCostReport([], { by: 'pipeline' });
    expect(r.rows).toEqual([]);
    expect(r.total).toMatchObject({ costUsd: 0, runs: 0, sessions: 0 });
  });
});

const micro = (usd: number) => Math.round(usd * 1e6);
const arbRun: fc.Arbitrary<CostRun> = fc.record({
  sessionId: fc.constantFrom('s1', 's2', 's3', 's4'),
  day: fc.constantFrom('2026-01-01', '2026-01-02', '2026-02-01'),
  costUsd: fc.integer({ min: 0, max: 5_000_000 }).map((m) => m / 1e6),
  tags: fc.uniqueArray(fc.constantFrom('a', 'b', 'c'), { maxLength: 3 }),
  model: fc.option(fc.constantFrom('m1', 'm2'), { nil: null }),
  pipeline: fc.option(fc.constantFrom('p1', 'p2'), { nil: null }),
  usageByModel: fc.uniqueArray(
    fc.record({ model: fc.constantFrom('m1', 'm2', 'm.3'), costMicro: fc.integer({ min: 0, max: 1_000_000 }), tokens: fc.nat(10_000) }),
    { selector: (u) => u.model, maxLength: 3 },
  ).map((us) => us.map((u) => usage(u.model, u.costMicro / 1e6, u.tokens, u.tokens))),
}).map((r) => ({ ...r, month: r.day.slice(0, 7) }));
// The store streams runs in session order; the reduction relies on it to count sessions.
const arbLedger = fc.array(arbRun, { maxLength: 40 }).map((rs) => [...rs].sort((a, b) => a.sessionId.localeCompare(b.sessionId)));

describe('reduceCostReport properties', () => {
  it('the total is the sum of the runs and counts each session once, whatever the grouping', () => {
    fc.assert(
      fc.property(arbLedger, fc.constantFrom(...COST_DIMENSIONS), (ledger, by) => {
        const { total } = reduceCostReport(ledger, { by });
        expect(micro(total.costUsd)).toBe(ledger.reduce((s, r) => s + micro(r.costUsd ?? 0), 0));
        expect(total.runs).toBe(ledger.length);
        expect(total.sessions).toBe(new Set(ledger.map((r) => r.sessionId)).size);
      }),
    );
  });

  it('grouped by day, month or pipeline, the rows add up to the total', () => {
    fc.assert(
      fc.property(arbLedger, fc.constantFrom('day' as const, 'month' as const, 'pipeline' as const), (ledger, by) => {
        const { rows, total } = reduceCostReport(ledger, { by });
        expect(rows.reduce((s, r) => s + micro(r.costUsd), 0)).toBe(micro(total.costUsd));
        expect(rows.reduce((s, r) => s + r.runs, 0)).toBe(total.runs);
        expect(rows.reduce((s, r) => s + r.inputTokens, 0)).toBe(total.inputTokens);
        expect(new Set(rows.map((r) => r.key)).size).toBe(rows.length);
      }),
    );
  });

  it('by tag, each row is the sum of the runs carrying that tag', () => {
    fc.assert(
      fc.property(arbLedger, (ledger) => {
        const { rows } = reduceCostReport(ledger, { by: 'tag' });
        for (const row of rows) {
          const mine = ledger.filter((r) => (row.key === NONE ? (r.tags ?? []).length === 0 : (r.tags ?? []).includes(row.key)));
          expect(micro(row.costUsd)).toBe(mine.reduce((s, r) => s + micro(r.costUsd ?? 0), 0));
          expect(row.runs).toBe(mine.length);
          expect(row.sessions).toBe(new Set(mine.map((r) => r.sessionId)).size);
        }
      }),
    );
  });

  it('by model, the rows add up to the total: what the usage of a run does not cover stays with its model', () => {
    fc.assert(
      fc.property(arbLedger, (ledger) => {
        const { rows, total } = reduceCostReport(ledger, { by: 'model' });
        expect(rows.reduce((s, r) => s + micro(r.costUsd), 0)).toBe(micro(total.costUsd));
      }),
    );
  });
});
