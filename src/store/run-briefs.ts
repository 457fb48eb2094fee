/**
 * Each session's ledger in brief, by key. A session's totals are recomputed from its runs, and on
 * FerretDB v1 `runs.find({ sessionId })` reads every run of every session (it narrows by `_id`
 * only), so a step would cost more the more the store holds. `run_briefs` (`_id` = the session id)
 * keeps what the totals derive from, one entry per run under a key of its own (a digest of the run
 * id: FerretDB v1 takes no `.` or `$` in keys), written with the run's ledger entry: two entries
 * recorded at once never overwrite each other, and a retried write converges.
 *
 * A long session would still make every step read and write all its briefs, so once a session has
 * more than `FOLD_AT` of them, its oldest settled runs (a prefix in ledger order, the newest `KEEP`
 * left as they are) are folded into `folded` (`ledger-fold.ts`), in one write that applies only to
 * the version it read. A brief at or before the fold's end (a run rewritten after it was folded, or
 * started on a clock far behind) would be counted twice, so a read that finds one rebuilds the
 * session's briefs from the ledger first. A run still `running` stops the fold until it is settled.
 *
 * Every write or deletion of ledger entries keeps the briefs in step (`noteBrief`, `forgetBrief`,
 * `rebuildBriefs`). A store written before briefs existed gets them once from `backfillBriefs` (the
 * worker's `ensureIndexes`), which marks the store complete; until then totals read the ledger itself.
 */
import { createHash } from 'node:crypto';
import { type Filter } from 'mongodb';
import { upsertOne, type StoreContext } from './context.js';
import { isDuplicateKey } from './errors.js';
import { type LedgerFold, type RunBrief, type RunBriefsDoc, type RunDoc } from './documents.js';
import { followsFold, foldRuns, ledgerCompare } from './ledger-fold.js';

/** The marker document: every session's briefs are complete (session ids are UUIDs, so it names none). */
const COMPLETE_ID = 'complete';
/** A process that found the store not yet complete looks again after this long. */
const RECHECK_MS = 60_000;
/** A session's briefs are folded once it has more than this many. */
export const FOLD_AT = 32;
/** The newest briefs a fold leaves as they are. */
const KEEP = 8;
/** Reads of the ledger a rebuild makes for a session whose briefs keep being written meanwhile. */
const REBUILD_TRIES = 5;

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

/** A session's ledger in brief: its folded runs, and the briefs of the rest in ledger order. */
export interface Briefs {
  folded: LedgerFold | null;
  runs: RunBrief[];
}

/** The session's briefs: from its briefs document once the store is complete, else from the ledger. */
export async function readBriefs(c: StoreContext, sessionId: string): Promise<Briefs> {
  if (await briefsComplete(c)) {
    let doc = await c.runBriefs.findOne({ _id: sessionId });
    if (!consistent(doc)) {
      await rebuildBriefs(c, [sessionId]);
      doc = await c.runBriefs.findOne({ _id: sessionId });
    }
    // Still not (written again while it was rebuilt): the ledger itself, this once.
    if (consistent(doc)) return { folded: doc?.folded ?? null, runs: inLedgerOrder(Object.values(doc?.runs ?? {})) };
  }
  return { folded: null, runs: inLedgerOrder((await c.runs.find({ sessionId }, { projection: BRIEF_FIELDS }).toArray()).map(toBrief)) };
}

/** Every brief comes after the fold (else a folded run was written again, and the fold may hold it twice). */
function consistent(doc: RunBriefsDoc | null): boolean {
  const folded = doc?.folded ?? null;
  return !folded || Object.values(doc?.runs ?? {}).every((r) => followsFold(folded, r));
}

/** Writes one run's brief (with its ledger entry). */
export async function noteBrief(c: StoreContext, sessionId: string, brief: RunBrief): Promise<void> {
  await upsertOne(c.runBriefs, { _id: sessionId }, { $set: { [`runs.${briefKey(brief.runId)}`]: brief }, $inc: { version: 1 } });
}

/** Drops one run's brief (after its ledger entry was deleted); a session with folded runs is rebuilt, as the run may be one of them. */
export async function forgetBrief(c: StoreContext, sessionId: string, runId: string): Promise<void> {
  const doc = await c.runBriefs.findOneAndUpdate({ _id: sessionId }, { $unset: { [`runs.${briefKey(runId)}`]: '' }, $inc: { version: 1 } });
  if (doc?.folded) await rebuildBriefs(c, [sessionId]);
}

/**
 * Folds the session's oldest settled briefs once it has more than `FOLD_AT`, leaving the newest
 * `KEEP`. The write applies only to the version read: a brief written meanwhile waits for the next fold.
 */
export async function foldBriefs(c: StoreContext, sessionId: string): Promise<void> {
  if (!(await briefsComplete(c))) return;
  const doc = await c.runBriefs.findOne({ _id: sessionId });
  const runs = inLedgerOrder(Object.values(doc?.runs ?? {}));
  if (!doc || runs.length <= FOLD_AT || !consistent(doc)) return;
  const settled = runs.slice(0, runs.length - KEEP);
  const stop = settled.findIndex((r) => r.status === 'running');
  const folding = stop === -1 ? settled : settled.slice(0, stop);
  if (folding.length === 0) return;
  await c.runBriefs.updateOne(
    { _id: sessionId, version: doc.version ?? { $exists: false } },
    {
      $set: { folded: foldRuns(doc.folded ?? null, folding) },
      $unset: Object.fromEntries(folding.map((r) => [`runs.${briefKey(r.runId)}`, ''])),
      $inc: { version: 1 },
    },
  );
}

/**
 * Rewrites these sessions' briefs from the ledger (after entries were restored, purged or repaired,
 * or a folded run was written again). Each session's write applies only to the version read before
 * the ledger was: its entries are written before their briefs, so a brief written meanwhile makes
 * the session read again (a few times at most; a session still changing is rebuilt by its next read).
 */
export async function rebuildBriefs(c: StoreContext, sessionIds: readonly string[]): Promise<void> {
  for (let i = 0; i < sessionIds.length; i += 500) {
    let pending = sessionIds.slice(i, i + 500);
    for (let attempt = 0; attempt < REBUILD_TRIES && pending.length > 0; attempt++) pending = await rebuildOnce(c, pending);
  }
}

/** Rewrites what it can; returns the sessions whose briefs were written meanwhile. */
async function rebuildOnce(c: StoreContext, sessionIds: readonly string[]): Promise<string[]> {
  const ids = [...sessionIds];
  const versions = new Map((await c.runBriefs.find({ _id: { $in: ids } }, { projection: { version: 1 } }).toArray()).map((d) => [d._id, d.version]));
  const bySession = await briefsBySession(c, { sessionId: { $in: ids } });
  const changed = await Promise.all(
    ids.map(async (id) => {
      // A session without entries any more gets an empty document.
      const update = { $set: { runs: bySession.get(id) ?? {} }, $unset: { folded: '' as const }, $inc: { version: 1 } };
      try {
        const r = await c.runBriefs.updateOne({ _id: id, version: versions.get(id) ?? { $exists: false } }, update, { upsert: !versions.has(id) });
        return r.matchedCount + r.upsertedCount === 0;
      } catch (error) {
        // Created meanwhile.
        if (isDuplicateKey(error)) return true;
        throw error;
      }
    }),
  );
  return ids.filter((_, k) => changed[k]);
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
    if (Object.keys(missing).length > 0) await upsertOne(c.runBriefs, { _id: sessionId }, { $set: missing, $inc: { version: 1 } });
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

/** Briefs in ledger order. */
export function inLedgerOrder(briefs: RunBrief[]): RunBrief[] {
  return briefs.sort(ledgerCompare);
}

