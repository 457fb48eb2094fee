/**
 * Cost reports: an index-backed find of the matching ledger entries streamed through a pure
 * reduction (FerretDB v1 computes too little aggregation to do it on the server).
 */
import { type Filter } from 'mongodb';
import { type StoreContext } from './context.js';
import { units, unitsToUsd, type ModelUsageDoc, type RunDoc } from './documents.js';
import { guard } from './errors.js';
import { type CostDimension, type CostReport, type CostReportQuery, type CostRow } from '../model/session.js';
import * as v from '../model/validation/index.js';

/** The key of runs with no tag, model or pipeline. */
export const NONE = '(none)';

/** What the reduction reads of a ledger entry (its stored form: usage as an array). */
export type CostRun = Pick<RunDoc, 'sessionId' | 'day' | 'month'> & {
  costUsd?: number;
  /** The cost is an estimate (a lost attempt). */
  estimated?: boolean;
  usageByModel?: readonly ModelUsageDoc[];
  tags?: readonly string[];
  model?: string | null;
  pipeline?: string | null;
};

export async function costReport(c: StoreContext, query: CostReportQuery): Promise<CostReport> {
  const q = v.costQuery(query);
  return guard(async () => {
    const filter: Filter<RunDoc> = {};
    if (q.since || q.until) filter.startedAt = { ...(q.since ? { $gte: q.since } : {}), ...(q.until ? { $lt: q.until } : {}) };
    if (q.tags) filter.tags = { $in: q.tags };
    const cursor = c.runs
      .find(filter, { projection: { sessionId: 1, costUsd: 1, estimated: 1, usageByModel: 1, tags: 1, model: 1, pipeline: 1, day: 1, month: 1 } })
      .sort({ sessionId: 1 })
      .batchSize(1000);
    const reducer = costReducer(q);
    try {
      for await (const r of cursor) reducer.add(r);
    } finally {
      await cursor.close().catch(() => undefined);
    }
    return reducer.report();
  });
}

/**
 * Reduces ledger entries, given in session order, to a report. Distinct sessions per group are
 * counted with one remembered id per group, and sums are exact (integer units, see `usdUnits`): memory grows with
 * the number of groups, not runs. Each run counts once per group it falls in: a run with two tags
 * (or two models) appears in both rows, and `total` counts it once. Runs with no tag, model or
 * pipeline are grouped under `(none)`. By model, a run's cost per model is its `usageByModel[m].costUSD`
 * (a run without usage is put under its `model` with its `costUsd`, and what its usage does not cover
 * stays with its `model`, so the rows add up to the total). Estimated spend (lost attempts) is also
 * summed apart in `estimatedUsd`. With `tags`, rows by tag are
 * only those tags.
 */
export function reduceCostReport(runs: Iterable<CostRun>, query: { by: CostDimension; tags?: readonly string[] }): CostReport {
  const reducer = costReducer(query);
  for (const r of runs) reducer.add(r);
  return reducer.report();
}

/** The streaming form of {@link reduceCostReport}. */
export function costReducer(query: { by: CostDimension; tags?: readonly string[] }): { add(run: CostRun): void; report(): CostReport } {
  const { by, tags } = query;
  const groups = new Map<string, Acc>();
  const total = newAcc('total');
  const group = (key: string): Acc => {
    let acc = groups.get(key);
    if (!acc) {
      acc = newAcc(key);
      groups.set(key, acc);
    }
    return acc;
  };
  const add = (r: CostRun): void => {
    const usage = r.usageByModel ?? [];
    const cost = units(r.costUsd);
    const estimated = r.estimated === true;
    addTo(total, r.sessionId, cost, estimated, usage);
    if (by === 'total') return;
    if (by === 'model') {
      if (usage.length === 0) return addTo(group(r.model ?? NONE), r.sessionId, cost, estimated, []);
      let rest = cost;
      for (const u of usage) {
        const part = units(u.costUSD);
        rest -= part;
        addTo(group(u.model), r.sessionId, part, estimated, [u]);
      }
      if (rest !== 0n) addCost(group(r.model ?? NONE), rest, estimated);
      return;
    }
    for (const k of new Set(groupKeys(r, by, tags))) addTo(group(k), r.sessionId, cost, estimated, usage);
  };
  const report = (): CostReport => {
    const rows = by === 'total' ? [toRow(total)] : [...groups.values()].map(toRow);
    if (by === 'day' || by === 'month') rows.sort((a, b) => a.key.localeCompare(b.key));
    else rows.sort((a, b) => b.costUsd - a.costUsd || a.key.localeCompare(b.key));
    return { by, rows, total: toRow(total) };
  };
  return { add, report };
}

function groupKeys(r: CostRun, by: Exclude<CostDimension, 'total' | 'model'>, tags: readonly string[] | undefined): string[] {
  if (by === 'day') return [r.day];
  if (by === 'month') return [r.month];
  if (by === 'pipeline') return [r.pipeline ?? NONE];
  const t = r.tags ?? [];
  if (tags) return t.filter((x) => tags.includes(x));
  return t.length > 0 ? [...t] : [NONE];
}

interface Acc {
  key: string;
  units: bigint;
  estimatedUnits: bigint;
  runs: number;
  sessions: number;
  lastSession: string | null;
  inputTokens: number;
  outputTokens: number;
  cacheReadInputTokens: number;
  cacheCreationInputTokens: number;
}

function newAcc(key: string): Acc {
  return { key, units: 0n, estimatedUnits: 0n, runs: 0, sessions: 0, lastSession: null, inputTokens: 0, outputTokens: 0, cacheReadInputTokens: 0, cacheCreationInputTokens: 0 };
}

function addCost(acc: Acc, cost: bigint, estimated: boolean): void {
  acc.units += cost;
  if (estimated) acc.estimatedUnits += cost;
}

function addTo(acc: Acc, sessionId: string, cost: bigint, estimated: boolean, usage: readonly ModelUsageDoc[]): void {
  addCost(acc, cost, estimated);
  acc.runs += 1;
  if (acc.lastSession !== sessionId) {
    acc.sessions += 1;
    acc.lastSession = sessionId;
  }
  for (const u of usage) {
    acc.inputTokens += u.inputTokens ?? 0;
    acc.outputTokens += u.outputTokens ?? 0;
    acc.cacheReadInputTokens += u.cacheReadInputTokens ?? 0;
    acc.cacheCreationInputTokens += u.cacheCreationInputTokens ?? 0;
  }
}

function toRow(a: Acc): CostRow {
  return {
    key: a.key,
    costUsd: unitsToUsd(a.units),
    estimatedUsd: unitsToUsd(a.estimatedUnits),
    runs: a.runs,
    sessions: a.sessions,
    inputTokens: a.inputTokens,
    outputTokens: a.outputTokens,
    cacheReadInputTokens: a.cacheReadInputTokens,
    cacheCreationInputTokens: a.cacheCreationInputTokens,
  };
}
