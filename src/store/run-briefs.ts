/**
 * Each session's ledger in brief, by key. A session's totals are recomputed from its runs, and on
 * FerretDB v1 `runs.find({ sessionId })` reads every run of every session (it narrows by `_id`
 * only), so a step would cost more the more the store holds. `run_briefs` (`_id` = the session id)
 * keeps what the totals derive from, one entry per run under a key of its own (a digest of the run
 * id: FerretDB v1 takes no `.` or `$` in keys), written with the run's ledger entry: two entries
 * recorded at once never overwrite each other, and a retried write converges.
 *
 * Every write or deletion of ledger entries keeps the briefs in step (`noteBrief`, `forgetBrief`,
 * `rebuildBriefs`). A store written before briefs existed gets them once from `backfillBriefs` (the
 * worker's `ensureIndexes`), which marks the store complete; until then totals read the ledger itself.
 */
import { createHash } from 'node:crypto';
import { type Filter } from 'mongodb';
import { upsertOne, type StoreContext } from './context.js';
import { type RunBrief, type RunDoc } from './documents.js';

/** The marker document: every session's briefs are complete (session ids are UUIDs, so it names none). */
const COMPLETE_ID = 'complete';
/** A process that found the store not yet complete looks again after this long. */
const RECHECK_MS = 60_000;

/** What the totals read of a ledger entry. */
export const BRIEF_FIELDS = {
  costUsd: 1,
  cumulativeCostUsd: 1,
  status: 1,
  model: 1,
  usageByModel: 1,
  startedAt: 1,
  messageCount: 1,
  assistantMessages: 1,
  summary: 1,
} as const;

type BriefSource = Pick<RunDoc, '_id' | keyof typeof BRIEF_FIELDS>;

export function toBrief(d: BriefSource): RunBrief {
  const brief: RunBrief = {
    runId: d._id,
    costUsd: d.costUsd,
    cumulativeCostUsd: d.cumulativeCostUsd,
    status: d.status,
    model: d.model ?? null,
    models: (d.usageByModel ?? []).map((u) => u.model),
    startedAt: d.startedAt,
    messageCount: d.messageCount ?? 0,
    summary: d.summary ?? null,
  };
  if (typeof d.assistantMessages === 'number') brief.assistantMessages = d.assistantMessages;
  return brief;
}

/** The session's briefs in ledger order: from its briefs document once the store is complete, else from the ledger. */
export async function readBriefs(c: StoreContext, sessionId: string): Promise<RunBrief[]> {
  if (await briefsComplete(c)) {
    const doc = await c.runBriefs.findOne({ _id: sessionId });
    return inLedgerOrder(Object.values(doc?.runs ?? {}));
  }
  return inLedgerOrder((await c.runs.find({ sessionId }, { projection: BRIEF_FIELDS }).toArray()).map(toBrief));
}

/** Writes one run's brief (with its ledger entry). */
export async function noteBrief(c: StoreContext, sessionId: string, brief: RunBrief): Promise<void> {
  await upsertOne(c.runBriefs, { _id: sessionId }, { $set: { [`runs.${briefKey(brief.runId)}`]: brief } });
}

/** Drops one run's brief (with its ledger entry). */
export async function forgetBrief(c: StoreContext, sessionId: string, runId: string): Promise<void> {
  await c.runBriefs.updateOne({ _id: sessionId }, { $unset: { [`runs.${briefKey(runId)}`]: '' } });
}

/** Rewrites these sessions' briefs from the ledger (after entries were restored, purged or repaired). */
export async function rebuildBriefs(c: StoreContext, sessionIds: readonly string[]): Promise<void> {
  for (let i = 0; i < sessionIds.length; i += 500) {
    const chunk = sessionIds.slice(i, i + 500);
    const bySession = await briefsBySession(c, { sessionId: { $in: [...chunk] } });
    // A session without entries any more gets an empty document.
    await Promise.all(chunk.map((id) => upsertOne(c.runBriefs, { _id: id }, { $set: { runs: bySession.get(id) ?? {} } })));
  }
}

/**
 * Briefs for every ledger entry written before briefs existed, then the store marked complete. An
 * entry that has a brief already keeps it (it was written since, so it is newer). One scan, once.
 */
export async function backfillBriefs(c: StoreContext): Promise<void> {
  if (await briefsComplete(c)) return;
  for (const [sessionId, runs] of await briefsBySession(c, {})) {
    const have = (await c.runBriefs.findOne({ _id: sessionId }))?.runs ?? {};
    const missing = Object.fromEntries(Object.entries(runs).filter(([k]) => !(k in have)).map(([k, b]) => [`runs.${k}`, b]));
    if (Object.keys(missing).length > 0) await upsertOne(c.runBriefs, { _id: sessionId }, { $set: missing });
  }
  await upsertOne(c.runBriefs, { _id: COMPLETE_ID }, { $set: { at: c.clock() } });
  c.briefs.complete = true;
}

/** The briefs of the ledger entries matching `filter`, by session and key. */
async function briefsBySession(c: StoreContext, filter: Filter<RunDoc>): Promise<Map<string, Record<string, RunBrief>>> {
  const bySession = new Map<string, Record<string, RunBrief>>();
  for await (const d of c.runs.find(filter, { projection: { ...BRIEF_FIELDS, sessionId: 1 } })) {
    const runs = bySession.get(d.sessionId) ?? {};
    runs[briefKey(d._id)] = toBrief(d);
    bySession.set(d.sessionId, runs);
  }
  return bySession;
}

async function briefsComplete(c: StoreContext): Promise<boolean> {
  const state = c.briefs;
  if (state.complete) return true;
  if (Date.now() - state.checkedAt < RECHECK_MS) return false;
  state.complete = (await c.runBriefs.findOne({ _id: COMPLETE_ID }, { projection: { _id: 1 } })) !== null;
  state.checkedAt = Date.now();
  return state.complete;
}

function briefKey(runId: string): string {
  return `r${createHash('sha256').update(runId).digest('hex').slice(0, 32)}`;
}

/** Briefs in ledger order: by start, then by run id. */
export function inLedgerOrder(briefs: RunBrief[]): RunBrief[] {
  return briefs.sort((a, b) => a.startedAt.getTime() - b.startedAt.getTime() || (a.runId < b.runId ? -1 : a.runId > b.runId ? 1 : 0));
}

