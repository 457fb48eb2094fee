/**
 * The console's spend figures from ledger entries in one pass: tables by tag,
 * model and pipeline, and per-day and per-month series stacked by tag or
 * model, with exact and estimated spend kept apart. Sums are integer
 * micro-dollars. Grouping follows the CLI's cost report: a run counts under
 * each of its tags, a run's spend per model comes from its usage by model,
 * runs with no tag, model or pipeline fall under `(none)`.
 */
import { type RunLedgerEntry } from '../model/session.js';

export const STACK_BY = ['tag', 'model'] as const;
export type StackBy = (typeof STACK_BY)[number];

/** Series keys beyond this many (by spend) are summed under `other`. */
export const MAX_STACK_KEYS = 8;
const NONE = '(none)';
const MICRO = 1_000_000;

export interface CostTableRow {
  key: string;
  exactUsd: number;
  estimatedUsd: number;
  runs: number;
  sessions: number;
  inputTokens: number;
  outputTokens: number;
}

export interface CostSeries {
  /** `YYYY-MM-DD` or `YYYY-MM`, ascending. */
  periods: string[];
  /** Stack keys, largest first (`other` last). */
  keys: string[];
  /** Exact micro-dollars per period, one number per key; the estimated spend of the period apart. */
  rows: { period: string; exact: number[]; estimated: number }[];
}

export interface CostSummary {
  total: CostTableRow;
  byTag: CostTableRow[];
  byModel: CostTableRow[];
  byPipeline: CostTableRow[];
  days: CostSeries;
  months: CostSeries;
}

interface Acc {
  key: string;
  exact: number;
  estimated: number;
  runs: number;
  sessions: Set<string>;
  inputTokens: number;
  outputTokens: number;
}

const newAcc = (key: string): Acc => ({ key, exact: 0, estimated: 0, runs: 0, sessions: new Set(), inputTokens: 0, outputTokens: 0 });

/** Ledger entries of lost attempts carry `estimated: true` (their spend was reconstructed, not reported by the CLI). */
export function isEstimated(entry: RunLedgerEntry): boolean {
  return (entry as RunLedgerEntry & { estimated?: boolean }).estimated === true;
}

function add(acc: Acc, entry: RunLedgerEntry, micro: number, usage: readonly { inputTokens?: number; outputTokens?: number }[]) {
  if (isEstimated(entry)) acc.estimated += micro;
  else acc.exact += micro;
  acc.runs += 1;
  acc.sessions.add(entry.sessionId);
  for (const u of usage) {
    acc.inputTokens += u.inputTokens ?? 0;
    acc.outputTokens += u.outputTokens ?? 0;
  }
}

function toRow(a: Acc): CostTableRow {
  return { key: a.key, exactUsd: a.exact / MICRO, estimatedUsd: a.estimated / MICRO, runs: a.runs, sessions: a.sessions.size, inputTokens: a.inputTokens, outputTokens: a.outputTokens };
}

const sortRows = (m: Map<string, Acc>) => [...m.values()].map(toRow).sort((a, b) => b.exactUsd + b.estimatedUsd - (a.exactUsd + a.estimatedUsd) || a.key.localeCompare(b.key));

function group(m: Map<string, Acc>, key: string): Acc {
  let acc = m.get(key);
  if (!acc) m.set(key, (acc = newAcc(key)));
  return acc;
}

/** Spend of one entry per model (its usage by model; else its model with its whole cost). */
function perModel(e: RunLedgerEntry): { key: string; micro: number; usage: { inputTokens?: number; outputTokens?: number }[] }[] {
  const usage = Object.entries(e.usageByModel ?? {});
  if (usage.length === 0) return [{ key: e.model ?? NONE, micro: Math.round(e.costUsd * MICRO), usage: [] }];
  return usage.map(([model, u]) => ({ key: model, micro: Math.round((u.costUSD ?? 0) * MICRO), usage: [u] }));
}

function tagsOf(e: RunLedgerEntry, only: readonly string[] | undefined): string[] {
  const t = e.tags ?? [];
  if (only?.length) return [...new Set(t.filter((x) => only.includes(x)))];
  return t.length ? [...new Set(t)] : [NONE];
}

/** Reduce the entries; `tags` restricts tag rows and stacks to those tags, as the filter did the runs. */
export async function summarizeCosts(entries: AsyncIterable<RunLedgerEntry> | Iterable<RunLedgerEntry>, opts: { stack: StackBy; tags?: readonly string[] }): Promise<CostSummary> {
  const total = newAcc('total');
  const byTag = new Map<string, Acc>();
  const byModel = new Map<string, Acc>();
  const byPipeline = new Map<string, Acc>();
  // period -> key -> exact micro; period -> estimated micro
  const series = { day: new Map<string, Map<string, number>>(), month: new Map<string, Map<string, number>>() };
  const estimatedOf = { day: new Map<string, number>(), month: new Map<string, number>() };
  const keyTotals = new Map<string, number>();
  for await (const e of entries) {
    const micro = Math.round(e.costUsd * MICRO);
    const usage = Object.values(e.usageByModel ?? {});
    add(total, e, micro, usage);
    add(group(byPipeline, e.pipeline ?? NONE), e, micro, usage);
    const tags = tagsOf(e, opts.tags);
    for (const t of tags) add(group(byTag, t), e, micro, usage);
    const models = perModel(e);
    for (const m of models) add(group(byModel, m.key), e, m.micro, m.usage);
    const parts = opts.stack === 'tag' ? tags.map((key) => ({ key, micro })) : models;
    for (const period of ['day', 'month'] as const) {
      const p = period === 'day' ? e.day : e.month;
      if (isEstimated(e)) {
        estimatedOf[period].set(p, (estimatedOf[period].get(p) ?? 0) + micro);
        continue;
      }
      let row = series[period].get(p);
      if (!row) series[period].set(p, (row = new Map()));
      for (const part of parts) {
        row.set(part.key, (row.get(part.key) ?? 0) + part.micro);
        if (period === 'day') keyTotals.set(part.key, (keyTotals.get(part.key) ?? 0) + part.micro);
      }
    }
  }
  const ranked = [...keyTotals.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([k]) => k);
  const keys = ranked.length > MAX_STACK_KEYS ? [...ranked.slice(0, MAX_STACK_KEYS - 1), 'other'] : ranked;
  const toSeries = (period: 'day' | 'month'): CostSeries => {
    const periods = [...new Set([...series[period].keys(), ...estimatedOf[period].keys()])].sort();
    const index = new Map(keys.map((k, i) => [k, i]));
    const rows = periods.map((p) => {
      const exact = keys.map(() => 0);
      for (const [k, v] of series[period].get(p) ?? []) exact[index.get(k) ?? keys.length - 1]! += v;
      return { period: p, exact, estimated: estimatedOf[period].get(p) ?? 0 };
    });
    return { periods, keys, rows };
  };
  return { total: toRow(total), byTag: sortRows(byTag), byModel: sortRows(byModel), byPipeline: sortRows(byPipeline), days: toSeries('day'), months: toSeries('month') };
}
