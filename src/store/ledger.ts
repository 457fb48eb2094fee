/**
 * The run ledger (one entry per run, written with `$set` of the whole entry) and the session
 * fields derived from it and from the messages.
 */
import { type Filter, type UpdateFilter } from 'mongodb';
import { invalidInput } from '../model/failures.js';
import { upsertOne, upsertReturning, type StoreContext } from './context.js';
import { assistantText, summaryOf } from '../model/messages.js';
import { insertDefaults, parseJson, units, unitsToUsd, runStatusToSession, toEntry, toRunDoc, type RunDoc, type SessionDoc } from './documents.js';
import { guard, mapError } from './errors.js';
import { advanceScope } from './scope-pointers.js';
import { type Origin, type RunLedgerEntry, type RunQuery } from '../model/session.js';
import * as v from '../model/validation/index.js';

const SUMMARY_SCAN = 200;

export async function recordRun(c: StoreContext, entry: RunLedgerEntry): Promise<void> {
  const e = v.validateRunEntry(entry);
  await guard(async () => {
    const existing = await c.runs.findOne({ _id: e.runId }, { projection: { sessionId: 1 } });
    if (existing && existing.sessionId !== e.sessionId) {
      throw invalidInput('entry.sessionId', `differs from the session of run ${e.runId} (${existing.sessionId})`);
    }
    const session = await c.sessions.findOne({ _id: e.sessionId }, { projection: { tags: 1 } });
    // The ledger carries the session's tags too, so reports by tag see every run of a tagged session.
    const tags = [...new Set([...e.tags, ...(session?.tags ?? [])])];
    const { _id, ...fields } = toRunDoc({ ...e, tags });
    await upsertOne(c.runs, { _id }, { $set: fields });
    await recompute(c, e.sessionId, e);
  });
}

export async function getRun(c: StoreContext, runId: string): Promise<RunLedgerEntry | null> {
  const rid = v.runId(runId);
  return guard(async () => {
    const d = await c.runs.findOne({ _id: rid });
    return d ? toEntry(d) : null;
  });
}

export async function runsOfStep(c: StoreContext, stepKey: string): Promise<RunLedgerEntry[]> {
  const key = v.name(stepKey, 'stepKey');
  return guard(async () => {
    const docs = await c.runs.find({ stepKey: key }).sort({ startedAt: 1, attempt: 1, _id: 1 }).limit(10_000).toArray();
    return docs.map(toEntry);
  });
}

/** Ledger entries of these workflows (every step and attempt), oldest first. */
export async function runsOfWorkflows(c: StoreContext, workflowIds: readonly string[]): Promise<RunLedgerEntry[]> {
  if (!Array.isArray(workflowIds)) throw invalidInput('workflowIds', 'must be an array');
  const ids = workflowIds.map((id, i) => v.name(id, `workflowIds[${i}]`));
  if (ids.length === 0) return [];
  return guard(async () => {
    const docs = await c.runs.find({ workflowId: { $in: ids } }).sort({ startedAt: 1, attempt: 1, _id: 1 }).limit(10_000).toArray();
    return docs.map(toEntry);
  });
}

/**
 * Recomputes a session's derived fields from the ledger and the messages and `$set`s them
 * (no `$inc`, so a retry converges). With `created` the session is upserted (recordRun may
 * come first); otherwise a missing session stays missing.
 */
export async function recompute(c: StoreContext, sessionId: string, created: RunLedgerEntry | null): Promise<void> {
  const set = await derivedFields(c, sessionId);
  const now = c.clock();
  if (!created) {
    const d = await c.sessions.findOneAndUpdate({ _id: sessionId }, { $set: set as Partial<SessionDoc>, $max: { updatedAt: now } }, { returnDocument: 'after' });
    await advanceScope(c, d);
    return;
  }
  const origin: Origin = {};
  if (created.pipeline) origin.pipeline = created.pipeline;
  if (created.workflowId) origin.workflowId = created.workflowId;
  const update: UpdateFilter<SessionDoc> = {
    $set: set as Partial<SessionDoc>,
    $max: { updatedAt: now },
    $setOnInsert: insertDefaults(sessionId, now, set, created.tags.length > 0, origin),
  };
  if (created.tags.length > 0) update.$addToSet = { tags: { $each: created.tags } };
  await advanceScope(c, await upsertReturning(c.sessions, { _id: sessionId }, update));
}

async function derivedFields(c: StoreContext, sessionId: string): Promise<Record<string, unknown>> {
  let total = 0n;
  let runCount = 0;
  let latest: Pick<RunDoc, 'cumulativeCostUsd' | 'status'> | null = null;
  let models: string[] = [];
  const cursor = c.runs
    .find({ sessionId }, { projection: { costUsd: 1, cumulativeCostUsd: 1, status: 1, model: 1, usageByModel: 1, startedAt: 1 } })
    .sort({ startedAt: 1, _id: 1 });
  for await (const r of cursor) {
    total += units(r.costUsd);
    runCount += 1;
    latest = r;
    // Latest model last: a model used again moves to the end.
    const used = [...(r.usageByModel ?? []).map((u) => u.model), ...(r.model ? [r.model] : [])];
    for (const m of used) models = [...models.filter((x) => x !== m), m];
  }
  const [messageCount, turnCount, summary] = await Promise.all([
    c.messages.countDocuments({ sessionId }),
    c.messages.countDocuments({ sessionId, type: 'assistant' }),
    firstAssistantText(c, sessionId),
  ]);
  const set: Record<string, unknown> = {
    totalCostUsd: unitsToUsd(total),
    runCount,
    messageCount,
    turnCount,
    models,
    model: models.at(-1) ?? null,
    summary,
    lineageCostUsd: latest?.cumulativeCostUsd ?? 0,
  };
  if (latest) set.status = runStatusToSession(latest.status);
  return set;
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

/** Ledger entries matching the query, oldest first, streamed. */
export async function* listRuns(c: StoreContext, query: RunQuery = {}): AsyncGenerator<RunLedgerEntry> {
  const filter: Filter<RunDoc> = {};
  if (query.sessionId !== undefined) filter.sessionId = v.sessionId(query.sessionId);
  const since = query.since === undefined ? undefined : v.date(query.since, 'since');
  const until = query.until === undefined ? undefined : v.date(query.until, 'until');
  if (since || until) filter.startedAt = { ...(since ? { $gte: since } : {}), ...(until ? { $lt: until } : {}) };
  if (query.tags !== undefined) filter.tags = { $in: v.nonEmptyTags(query.tags, 'tags') };
  const cursor = c.runs.find(filter).sort({ startedAt: 1, _id: 1 }).batchSize(1000);
  try {
    for await (const d of cursor) yield toEntry(d);
  } catch (error) {
    throw mapError(error);
  } finally {
    await cursor.close().catch(() => undefined);
  }
}
