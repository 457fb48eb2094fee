/**
 * The run ledger: one entry per run, written with `$set` of the whole entry, with the session's
 * fields derived from it (`derived.ts`).
 */
import { type Filter } from 'mongodb';
import { invalidInput } from '../model/failures.js';
import { upsertOne, type StoreContext } from './context.js';
import { readDerivation, withRun, writeDerived } from './derived.js';
import { toEntry, toRunDoc, type RunDoc } from './documents.js';
import { guard, mapError } from './errors.js';
import { type RunLedgerEntry, type RunQuery } from '../model/session.js';
import * as v from '../model/validation/index.js';

export async function recordRun(c: StoreContext, entry: RunLedgerEntry): Promise<void> {
  const e = v.validateRunEntry(entry);
  await guard(async () => {
    // What the entry and the session's fields derive from is read at once; a starting run has stored no message yet.
    const [existing, before] = await Promise.all([
      c.runs.findOne({ _id: e.runId }, { projection: { sessionId: 1 } }),
      readDerivation(c, e.sessionId, e.status === 'running' ? 'ledger' : 'run'),
    ]);
    if (existing && existing.sessionId !== e.sessionId) {
      throw invalidInput('entry.sessionId', `differs from the session of run ${e.runId} (${existing.sessionId})`);
    }
    // The ledger carries the session's tags too, so reports by tag see every run of a tagged session.
    const tags = [...new Set([...e.tags, ...(before.session?.tags ?? [])])];
    const { _id, ...fields } = toRunDoc({ ...e, tags });
    // The entry as written, laid over the ledger as read: the session's fields need not wait for the write.
    await Promise.all([upsertOne(c.runs, { _id }, { $set: fields }), writeDerived(c, e.sessionId, withRun(before, { _id, ...fields }), e)]);
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
