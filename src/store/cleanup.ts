/** Deleting sessions: one by id, or old ones in batches, dependents first so an interrupted run can be finished. */
import { type Filter } from 'mongodb';
import { type StoreContext } from './context.js';
import { COLLECTIONS, type SessionDoc } from './documents.js';
import { guard } from './errors.js';
import { deleteFiles, fileIds } from './gridfs.js';
import { forgetRunStarts } from './messages.js';
import { type CleanupOptions, type CleanupResult } from '../model/session.js';
import * as v from '../model/validation/index.js';

const DAY_MS = 86_400_000;

export async function deleteSession(c: StoreContext, sessionId: string): Promise<boolean> {
  const sid = v.sessionId(sessionId);
  return guard(async () => {
    await deleteDependents(c, [sid]);
    const r = await c.sessions.deleteOne({ _id: sid });
    return r.deletedCount > 0;
  });
}

/**
 * Deletes sessions not updated for `maxAgeDays` and without any of `keepTags`, oldest first, in
 * batches: dependents first and each session document last, so an interrupted cleanup leaves
 * sessions that the next run finds and finishes. `onBatch` gets the running total and the batch's ids.
 * A session whose dependents were removed is deleted only if it still matches (it was not touched meanwhile).
 */
export async function cleanupOldSessions(c: StoreContext, options?: CleanupOptions): Promise<CleanupResult> {
  const o = v.cleanupOptions(options);
  return guard(async () => {
    const cutoff = new Date(c.clock().getTime() - o.maxAgeDays * DAY_MS);
    const base: Filter<SessionDoc> = { updatedAt: { $lt: cutoff } };
    if (o.keepTags.length > 0) base.tags = { $nin: o.keepTags };
    const sessionIds: string[] = [];
    let last: { updatedAt: Date; _id: string } | null = null;
    for (;;) {
      const filter: Filter<SessionDoc> = last
        ? { ...base, $or: [{ updatedAt: { $gt: last.updatedAt } }, { updatedAt: last.updatedAt, _id: { $gt: last._id } }] }
        : base;
      const batch = await c.sessions.find(filter, { projection: { _id: 1, updatedAt: 1 } }).sort({ updatedAt: 1, _id: 1 }).limit(o.batchSize).toArray();
      if (batch.length === 0) break;
      last = batch[batch.length - 1] ?? null;
      const ids = o.dryRun ? batch.map((d) => d._id) : await deleteBatch(c, base, batch.map((d) => d._id));
      sessionIds.push(...ids);
      if (o.onBatch) await o.onBatch({ deleted: sessionIds.length, sessionIds: ids });
      if (batch.length < o.batchSize) break;
    }
    return { deletedCount: sessionIds.length, sessionIds, dryRun: o.dryRun };
  });
}

/** Deletes a batch that still matches `base`; returns the ids actually deleted. */
async function deleteBatch(c: StoreContext, base: Filter<SessionDoc>, ids: string[]): Promise<string[]> {
  await deleteDependents(c, ids);
  const r = await c.sessions.deleteMany({ ...base, _id: { $in: ids } });
  if (r.deletedCount === ids.length) return ids;
  const left = new Set((await c.sessions.find({ _id: { $in: ids } }, { projection: { _id: 1 } }).toArray()).map((d) => d._id));
  return ids.filter((id) => !left.has(id));
}

/** Deletes everything that hangs off these sessions; the session documents themselves are left. */
async function deleteDependents(c: StoreContext, ids: string[]): Promise<void> {
  const inIds = { $in: ids };
  await c.messages.deleteMany({ sessionId: inIds });
  await deleteFiles(c, COLLECTIONS.overflow, await fileIds(c, COLLECTIONS.overflow, { 'metadata.sessionId': inIds }));
  await deleteFiles(c, COLLECTIONS.transcripts, await fileIds(c, COLLECTIONS.transcripts, { 'metadata.sessionId': inIds }));
  await c.runs.deleteMany({ sessionId: inIds });
  await c.runStarts.deleteMany({ sessionId: inIds });
  for (const id of ids) forgetRunStarts(c, id);
}
