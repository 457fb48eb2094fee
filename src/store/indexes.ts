/** The indexes every query here relies on, created one by one where missing. */
import { type Collection, type Document, type IndexDescription } from 'mongodb';
import { type StoreContext } from './context.js';
import { COLLECTIONS } from './documents.js';
import { guard, isNamespaceNotFound } from './errors.js';
import { chunks, files } from './gridfs.js';

export async function ensureIndexes(c: StoreContext): Promise<void> {
  // Equality, then sort, then range; listing and search page by (updatedAt desc, _id desc).
  await guard(async () => {
    await createMissing(c.sessions, [
      { key: { updatedAt: -1, _id: -1 }, name: 'updatedAt_id' },
      { key: { tags: 1, updatedAt: -1, _id: -1 }, name: 'tags_updatedAt_id' },
      { key: { scope: 1, updatedAt: -1, _id: -1 }, name: 'scope_updatedAt_id' },
      { key: { models: 1, updatedAt: -1, _id: -1 }, name: 'models_updatedAt_id' },
      { key: { status: 1, updatedAt: -1, _id: -1 }, name: 'status_updatedAt_id' },
      { key: { createdAt: -1 }, name: 'createdAt' },
      { key: { totalCostUsd: -1, _id: -1 }, name: 'totalCostUsd_id' },
      { key: { 'lineage.parentSessionId': 1 }, name: 'lineage_parent' },
    ]);
    await createMissing(c.messages, [
      { key: { sessionId: 1, runAt: 1, runId: 1, seq: 1 }, name: 'session_order' },
      { key: { sessionId: 1, type: 1, runAt: 1, runId: 1, seq: 1 }, name: 'session_type_order' },
      { key: { runId: 1, seq: 1 }, name: 'run_seq' },
    ]);
    await createMissing(c.runs, [
      { key: { sessionId: 1, startedAt: 1 }, name: 'session_startedAt' },
      { key: { stepKey: 1, startedAt: 1 }, name: 'stepKey_startedAt' },
      { key: { tags: 1, sessionId: 1, startedAt: 1 }, name: 'tags_session_startedAt' },
      { key: { startedAt: 1 }, name: 'startedAt' },
      { key: { day: 1 }, name: 'day' },
      { key: { workflowId: 1, startedAt: 1 }, name: 'workflowId_startedAt' },
    ]);
    await createMissing(c.conversations, [{ key: { updatedAt: -1 }, name: 'updatedAt' }]);
    await createMissing(c.runStarts, [{ key: { sessionId: 1 }, name: 'sessionId' }]);
    await createMissing(c.db.collection(COLLECTIONS.deletionLog), [{ key: { startedAt: -1 }, name: 'startedAt' }]);
    await createMissing(c.db.collection(COLLECTIONS.tombstones), [
      { key: { logId: 1 }, name: 'logId' },
      { key: { pending: 1, deletedAt: 1 }, name: 'pending_deletedAt' },
    ]);
    for (const bucket of [COLLECTIONS.transcripts, COLLECTIONS.overflow]) {
      // The driver's own GridFS indexes (same keys and names), then ours.
      await createMissing(chunks(c, bucket), [{ key: { files_id: 1, n: 1 }, name: 'files_id_1_n_1', unique: true }]);
      await createMissing(files(c, bucket), [
        { key: { filename: 1, uploadDate: 1 }, name: 'filename_1_uploadDate_1' },
        { key: { 'metadata.sessionId': 1, uploadDate: -1 }, name: 'session_uploadDate' },
        { key: { 'metadata.runId': 1 }, name: 'runId' },
      ]);
    }
  });
}

/**
 * Creates the indexes a collection lacks, one by one. Asking FerretDB v1 to create several
 * indexes that all exist already crashes its handler (the connection drops), and one call per
 * missing index is as idempotent on MongoDB.
 */
async function createMissing<T extends Document>(coll: Collection<T>, specs: Array<IndexDescription & { name: string }>): Promise<void> {
  let existing: string[] = [];
  try {
    existing = (await coll.listIndexes().toArray()).map((i) => String(i.name));
  } catch (error) {
    // A collection that does not exist yet has no indexes.
    if (!isNamespaceNotFound(error)) throw error;
  }
  for (const spec of specs) {
    if (!existing.includes(spec.name)) await coll.createIndexes([spec]);
  }
}
