/** Deleting sessions: one by id, or old ones in batches (`retention.ts`); the ledger entries always stay. */
import { type StoreContext } from './context.js';
import { COLLECTIONS } from './documents.js';
import { guard } from './errors.js';
import { deleteFiles, fileIds } from './gridfs.js';
import { forgetRunStarts } from './messages.js';
import { type Retention } from './retention.js';
import { type CleanupOptions, type CleanupResult } from '../model/session.js';
import * as v from '../model/validation/index.js';

/** Deletes one session (held or not: this is an explicit request), keeping its ledger entries; logged with a tombstone. */
export async function deleteSession(c: StoreContext, retention: Retention, sessionId: string): Promise<boolean> {
  const sid = v.sessionId(sessionId);
  return guard(async () => {
    const doc = await c.sessions.findOne({ _id: sid }, { projection: { lineage: 1 } });
    await deleteDependents(c, [sid]);
    const r = await c.sessions.deleteOne({ _id: sid });
    if (r.deletedCount > 0) await retention.recordDelete(sid, doc?.lineage?.parentSessionId ?? null, 'deleteSession');
    return r.deletedCount > 0;
  });
}

/**
 * Deletes sessions not updated for `maxAgeDays`, not on hold and without any of `keepTags`, oldest
 * first, in batches, keeping their ledger entries; see `retention.ts` for the order that protects
 * running sessions. Writes one deletion-log record.
 */
export async function cleanupOldSessions(retention: Retention, options?: CleanupOptions): Promise<CleanupResult> {
  const o = v.cleanupOptions(options);
  return guard(() => retention.cleanup(o));
}

/**
 * Deletes sessions not updated for `maxAgeDays` and without any of `keepTags`, oldest first, in
 * batches: dependents first and each session document last, so an interrupted cleanup leaves
 * sessions that the next run finds and finishes. `onBatch` gets the running total and the batch's ids.
 * A session whose dependents were removed is deleted only if it still matches (it was not touched meanwhile).
 */
/**
 * Deletes everything that hangs off these sessions but their ledger entries (the books outlive the
 * sessions); the session documents themselves are left.
 */
async function deleteDependents(c: StoreContext, ids: string[]): Promise<void> {
  const inIds = { $in: ids };
  await c.messages.deleteMany({ sessionId: inIds });
  await deleteFiles(c, COLLECTIONS.overflow, await fileIds(c, COLLECTIONS.overflow, { 'metadata.sessionId': inIds }));
  await deleteFiles(c, COLLECTIONS.transcripts, await fileIds(c, COLLECTIONS.transcripts, { 'metadata.sessionId': inIds }));
  await c.transcriptFiles.deleteMany({ _id: inIds });
  await c.runStarts.deleteMany({ sessionId: inIds });
  for (const id of ids) forgetRunStarts(c, id);
}
