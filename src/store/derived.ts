/**
 * A session's derived fields (totals, run count, models, status, message and assistant-message
 * counts, summary), recomputed from the ledger and the messages and written with `$set` (no
 * `$inc`), so a retried write converges. Reads go out together and the writes after them. The
 * ledger is read in brief (`run-briefs.ts`, one document); on FerretDB v1 the message counts are
 * scans, so a cause reads only what it can change.
 */
import { type UpdateFilter } from 'mongodb';
import { upsertOne, type StoreContext } from './context.js';
import { insertDefaults, parseJson, runStatusToSession, type LedgerFold, type RunBrief, type SessionDoc } from './documents.js';
import { foldCostUsd, foldRuns } from './ledger-fold.js';
import { inLedgerOrder, readBriefs } from './run-briefs.js';
import { assistantText, summaryOf } from '../model/messages.js';
import { type Origin, type RunLedgerEntry } from '../model/session.js';
import { advanceScope } from './scope-pointers.js';

const SUMMARY_SCAN = 200;

/**
 * What moved a session's derived fields, so that only what it can change is read again:
 * - `ledger`: a ledger entry of a run that has stored no message yet (totals, models, status);
 * - `run`: a run that ended, so the message counts too (the summary only while there is none:
 *   a run's messages come after the ones that gave it);
 * - `messages`: messages were removed or replaced, so everything.
 */
export type RecomputeCause = 'ledger' | 'run' | 'messages';

type SessionBefore = Pick<SessionDoc, '_id' | 'tags' | 'summary' | 'scope' | 'updatedAt'>;

/** What the fields are computed from, as read. */
export interface Derivation {
  cause: RecomputeCause;
  session: SessionBefore | null;
  /** The session's older settled runs, folded (`run-briefs.ts`). */
  folded: LedgerFold | null;
  /** The briefs of the rest, in ledger order. */
  runs: RunBrief[];
  /** Message documents and assistant messages among them; null when the cause cannot change them, or the ledger tells them. */
  counted: MessageCounts | null;
}

export async function readDerivation(c: StoreContext, sessionId: string, cause: RecomputeCause): Promise<Derivation> {
  const [session, { folded, runs }, counted] = await Promise.all([
    c.sessions.findOne({ _id: sessionId }, { projection: { tags: 1, summary: 1, scope: 1, updatedAt: 1 } }) as Promise<SessionBefore | null>,
    readBriefs(c, sessionId),
    cause === 'messages' ? countMessages(c, sessionId) : null,
  ]);
  return { cause, session, folded, runs, counted };
}

/** The derivation with one run as it is being written (replacing the one read, if any), in ledger order. */
export function withRun(d: Derivation, run: RunBrief): Derivation {
  return { ...d, runs: inLedgerOrder([...d.runs.filter((r) => r.runId !== run.runId), run]) };
}

/**
 * Recomputes a session's derived fields and `$set`s them. With `created` the session is upserted
 * (recordRun may come first); otherwise a missing session stays missing.
 */
export async function recompute(c: StoreContext, sessionId: string, created: RunLedgerEntry | null, cause: RecomputeCause = 'messages'): Promise<void> {
  await writeDerived(c, sessionId, await readDerivation(c, sessionId, cause), created);
}

/** Session fields written with a ledger entry (`recordRun`'s `session`): their `$set`, and the tags they add. */
export interface OpenedFields {
  set: Record<string, unknown>;
  tags: readonly string[];
}

/**
 * Writes the fields of a derivation, and moves the scope's pointer with the session's `updatedAt`.
 * With `created` the session is upserted, with the fields of `opened` if given (what the ledger
 * derives wins: the status is its latest run's). Answers the derivation as the write left the
 * session (null when a missing session stayed missing).
 */
export async function writeDerived(
  c: StoreContext,
  sessionId: string,
  d: Derivation,
  created: RunLedgerEntry | null,
  opened: OpenedFields | null = null,
): Promise<Derivation | null> {
  const fold = foldRuns(d.folded, d.runs);
  const set = { ...opened?.set, ...ledgerFields(fold), ...(await messageFields(c, sessionId, d, fold)) };
  const now = c.clock();
  const update: UpdateFilter<SessionDoc> = { $set: set as Partial<SessionDoc>, $max: { updatedAt: now } };
  // The summary as the `$set` leaves it.
  const summary = 'summary' in set ? (set.summary as string | null) : (d.session?.summary ?? null);
  if (!created) {
    if (!d.session) return null;
    const moved = movedTo(d.session, now);
    await Promise.all([c.sessions.updateOne({ _id: sessionId }, update), advanceScope(c, moved)]);
    return { ...d, session: { ...moved, summary } };
  }
  const origin: Origin = {};
  if (created.pipeline) origin.pipeline = created.pipeline;
  if (created.workflowId) origin.workflowId = created.workflowId;
  const tags = [...new Set([...created.tags, ...(opened?.tags ?? [])])];
  update.$setOnInsert = insertDefaults(sessionId, now, set, tags.length > 0, origin);
  if (tags.length > 0) update.$addToSet = { tags: { $each: tags } };
  // The pointer follows the session as written: the scope set now, else the one read (a new session without one has none).
  const scope = ('scope' in set ? (set.scope as string | null) : d.session?.scope) ?? null;
  const written = d.session ? movedTo({ ...d.session, scope }, now) : { _id: sessionId, scope, updatedAt: now };
  await Promise.all([upsertOne(c.sessions, { _id: sessionId }, update), advanceScope(c, written)]);
  return { ...d, session: { ...written, tags: [...new Set([...(d.session?.tags ?? []), ...tags])], summary } };
}

/** The session as its `$max` leaves it: a later `updatedAt` already there stays. */
function movedTo(s: SessionBefore, now: Date): SessionBefore {
  return { ...s, updatedAt: s.updatedAt && s.updatedAt.getTime() > now.getTime() ? s.updatedAt : now };
}

function ledgerFields(fold: LedgerFold): Record<string, unknown> {
  const set: Record<string, unknown> = {
    totalCostUsd: foldCostUsd(fold),
    runCount: fold.runCount,
    models: fold.models,
    model: fold.models.at(-1) ?? null,
    lineageCostUsd: fold.last?.cumulativeCostUsd ?? 0,
  };
  if (fold.last) set.status = runStatusToSession(fold.last.status);
  return set;
}

/**
 * Message and assistant-message counts, and the summary when the cause can change it. A run that
 * ended reads them from the ledger when every kept run counted its own messages (the step activity's
 * entries do); otherwise, and when messages were removed or replaced, from the messages.
 */
async function messageFields(c: StoreContext, sessionId: string, d: Derivation, fold: LedgerFold): Promise<Record<string, unknown>> {
  if (d.cause === 'ledger') return {};
  const { kept } = fold;
  if (d.cause === 'run' && kept.assistantMessages !== null) {
    return { messageCount: kept.messageCount, turnCount: kept.assistantMessages, summary: kept.summary };
  }
  const counted = d.counted ?? (await countMessages(c, sessionId));
  const set: Record<string, unknown> = { messageCount: counted.messages, turnCount: counted.assistant };
  if (d.cause === 'messages' || !d.session?.summary) set.summary = await firstAssistantText(c, sessionId);
  return set;
}

interface MessageCounts {
  messages: number;
  assistant: number;
}

async function countMessages(c: StoreContext, sessionId: string): Promise<MessageCounts> {
  const [messages, assistant] = await Promise.all([c.messages.countDocuments({ sessionId }), c.messages.countDocuments({ sessionId, type: 'assistant' })]);
  return { messages, assistant };
}

async function firstAssistantText(c: StoreContext, sessionId: string): Promise<string | null> {
  const cursor = c.messages
    .find({ sessionId, type: 'assistant' }, { projection: { raw: 1 } })
    .sort({ runAt: 1, runId: 1, seq: 1 })
    .limit(SUMMARY_SCAN)
    .batchSize(20);
  try {
    for await (const d of cursor) {
      // Oversize lines (raw in GridFS) are skipped: a summary is not worth a 15 MB read.
      const text = typeof d.raw === 'string' ? assistantText(parseJson(d.raw)) : null;
      if (text) return summaryOf(text);
    }
    return null;
  } finally {
    await cursor.close().catch(() => undefined);
  }
}
