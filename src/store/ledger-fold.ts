/**
 * A session's ledger folded in ledger order: what its totals, models, status and counts are
 * derived from. The same fold serves both ends: a session's fields are the fold of its briefs, and
 * `run_briefs` keeps the fold of its oldest settled runs instead of their briefs, so a step costs
 * the same in a session of ten runs and of ten thousand (`run-briefs.ts`).
 */
import { units, unitsToUsd, type LedgerFold, type RunBrief } from './documents.js';

const EMPTY_FOLD: LedgerFold = { runCount: 0, costUnits: '0', models: [], last: null, kept: { messageCount: 0, assistantMessages: 0, summary: null } };

/** `fold` with `runs` (in ledger order, all after its last run) added. */
export function foldRuns(fold: LedgerFold | null, runs: readonly RunBrief[]): LedgerFold {
  const from = fold ?? EMPTY_FOLD;
  let cost = BigInt(from.costUnits);
  let models = from.models;
  const kept = { ...from.kept };
  for (const r of runs) {
    cost += units(r.costUsd);
    // A model used again moves to the end.
    for (const m of [...r.models, ...(r.model ? [r.model] : [])]) models = [...models.filter((x) => x !== m), m];
    // Failed runs' messages are removed, running ones are still arriving.
    if (r.status === 'failed' || r.status === 'running') continue;
    kept.messageCount += r.messageCount ?? 0;
    kept.assistantMessages = kept.assistantMessages !== null && typeof r.assistantMessages === 'number' ? kept.assistantMessages + r.assistantMessages : null;
    kept.summary ??= r.summary || null;
  }
  const last = runs.at(-1);
  return {
    runCount: from.runCount + runs.length,
    costUnits: cost.toString(),
    models,
    last: last ? { runId: last.runId, startedAt: last.startedAt, status: last.status, cumulativeCostUsd: last.cumulativeCostUsd } : from.last,
    kept,
  };
}

/** The spend of a fold in USD. */
export const foldCostUsd = (fold: LedgerFold): number => unitsToUsd(BigInt(fold.costUnits));

/** Ledger order: by start, then by run id. */
export function ledgerCompare(a: Pick<RunBrief, 'runId' | 'startedAt'>, b: Pick<RunBrief, 'runId' | 'startedAt'>): number {
  return a.startedAt.getTime() - b.startedAt.getTime() || (a.runId < b.runId ? -1 : a.runId > b.runId ? 1 : 0);
}

/** Whether a run comes after every run of the fold (else the fold may hold an older version of it). */
export function followsFold(fold: LedgerFold | null, run: Pick<RunBrief, 'runId' | 'startedAt'>): boolean {
  return !fold?.last || ledgerCompare(fold.last, run) < 0;
}
