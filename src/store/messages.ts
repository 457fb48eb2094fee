/** The CLI's lines, verbatim, one document each (GridFS for oversize lines), ordered by (runAt, runId, seq). */
import { type ObjectId } from 'mongodb';
import { invalidInput } from '../model/failures.js';
import { insertUnordered, type StoreContext } from './context.js';
import { COLLECTIONS, type MessageDoc, type RunStartDoc } from './documents.js';
import { guard, isDuplicateKey, mapError } from './errors.js';
import { chunks, deleteFiles, fileIds, files, readStream } from './gridfs.js';
import { recompute } from './derived.js';
import { type MessageInput, type StoredMessage } from '../model/session.js';
import * as v from '../model/validation/index.js';

const RUN_START_CACHE = 10_000;

export async function appendMessages(c: StoreContext, sessionId: string, runId: string, batch: MessageInput[]): Promise<{ inserted: number; duplicates: number }> {
  const sid = v.sessionId(sessionId);
  const rid = v.runId(runId);
  const msgs = v.messageBatch(batch);
  if (msgs.length === 0) return { inserted: 0, duplicates: 0 };
  return guard(async () => {
    const runAt = await runStart(c, sid, rid);
    const inline: MessageDoc[] = [];
    let inserted = 0;
    let duplicates = 0;
    for (const m of msgs) {
      if (m.bytes > c.inlineLimit) {
        const r = await writeOverflow(c, sid, rid, runAt, m, false);
        inserted += r.inserted;
        duplicates += r.duplicates;
      } else {
        inline.push({ _id: `${rid}:${m.seq}`, sessionId: sid, runId: rid, seq: m.seq, runAt, type: m.type, subtype: m.subtype, raw: m.raw });
      }
    }
    if (inline.length > 0) {
      const r = await insertUnordered(c.messages, inline);
      inserted += r.inserted;
      duplicates += r.duplicates;
    }
    return { inserted, duplicates };
  });
}

/** The run's ordering key: the time it first appended, recorded once so retries reuse it. */
export async function runStart(c: StoreContext, sessionId: string, runId: string): Promise<Date> {
  let doc: RunStartDoc | null | undefined = c.runStartCache.get(runId);
  if (!doc) {
    try {
      doc = await c.runStarts.findOneAndUpdate({ _id: runId }, { $setOnInsert: { sessionId, at: c.clock() } }, { upsert: true, returnDocument: 'after' });
    } catch (error) {
      if (!isDuplicateKey(error)) throw error;
      doc = await c.runStarts.findOne({ _id: runId });
    }
    if (!doc) throw new Error(`Run start of ${runId} vanished`);
    if (c.runStartCache.size >= RUN_START_CACHE) c.runStartCache.clear();
    c.runStartCache.set(runId, doc);
  }
  if (doc.sessionId !== sessionId) throw invalidInput('runId', `belongs to session ${doc.sessionId}`);
  return doc.at;
}

export function forgetRunStarts(c: StoreContext, sessionId: string): void {
  for (const [runId, doc] of c.runStartCache) if (doc.sessionId === sessionId) c.runStartCache.delete(runId);
}

/**
 * A line too big for a document: a GridFS file with the message id as its id, then a
 * small reference document. A retry finds the reference (done), or the finished file
 * (only the reference is missing), or a partial upload (its chunks are removed first).
 */
export async function writeOverflow(
  c: StoreContext,
  sessionId: string,
  runId: string,
  runAt: Date,
  m: v.ValidMessage,
  replace: boolean,
): Promise<{ inserted: number; duplicates: number }> {
  const id = `${runId}:${m.seq}`;
  if (replace) {
    await c.messages.deleteOne({ _id: id });
    await deleteFiles(c, COLLECTIONS.overflow, [id]);
  } else if (await c.messages.findOne({ _id: id }, { projection: { _id: 1 } })) {
    return { inserted: 0, duplicates: 1 };
  }
  const existing = await files(c, COLLECTIONS.overflow).findOne({ _id: id });
  if (!existing) {
    await chunks(c, COLLECTIONS.overflow).deleteMany({ files_id: id });
    try {
      await new Promise<void>((resolve, reject) => {
        const upload = c.overflow.openUploadStreamWithId(id as unknown as ObjectId, id, { metadata: { sessionId, runId, seq: m.seq } });
        upload.once('finish', () => resolve());
        upload.once('error', reject);
        upload.end(Buffer.from(m.raw, 'utf8'));
      });
    } catch (error) {
      if (!isDuplicateKey(error)) throw error;
    }
  }
  const doc: MessageDoc = { _id: id, sessionId, runId, seq: m.seq, runAt, type: m.type, subtype: m.subtype, raw: null, overflow: { fileId: id, bytes: m.bytes } };
  return insertUnordered(c.messages, [doc]);
}

export async function* streamMessages(c: StoreContext, sessionId: string): AsyncGenerator<StoredMessage> {
  // One round trip for a long session: the documents are small (long lines overflow to GridFS).
  const cursor = c.messages.find({ sessionId }).sort({ runAt: 1, runId: 1, seq: 1 }).batchSize(1000);
  try {
    for await (const d of cursor) yield await storedMessage(c, d);
  } catch (error) {
    throw mapError(error);
  } finally {
    await cursor.close().catch(() => undefined);
  }
}

/** A run's messages after sequence number `afterSeq`, in order, at most `limit` (a live tail reads these). */
export async function messagesOfRun(c: StoreContext, runId: string, afterSeq = 0, limit = 500): Promise<StoredMessage[]> {
  const rid = v.runId(runId);
  const after = v.count(afterSeq, 'afterSeq');
  const n = v.limit(limit, 'limit');
  return guard(async () => {
    const docs = await c.messages.find({ runId: rid, seq: { $gt: after } }).sort({ runId: 1, seq: 1 }).limit(n).toArray();
    const out: StoredMessage[] = [];
    for (const d of docs) out.push(await storedMessage(c, d));
    return out;
  });
}

/** A message document as a stored message, its line read from GridFS when it overflowed. */
async function storedMessage(c: StoreContext, d: MessageDoc): Promise<StoredMessage> {
  const raw = d.raw ?? (await readStream(c.overflow.openDownloadStream((d.overflow?.fileId ?? d._id) as unknown as ObjectId))).toString('utf8');
  return { sessionId: d.sessionId, runId: d.runId, seq: d.seq, type: d.type, subtype: d.subtype ?? null, raw };
}

export async function discardRunMessages(c: StoreContext, sessionId: string, runId: string): Promise<number> {
  const sid = v.sessionId(sessionId);
  const rid = v.runId(runId);
  return guard(async () => {
    const r = await c.messages.deleteMany({ sessionId: sid, runId: rid });
    await deleteFiles(c, COLLECTIONS.overflow, await fileIds(c, COLLECTIONS.overflow, { 'metadata.sessionId': sid, 'metadata.runId': rid }));
    await recompute(c, sid, null);
    return r.deletedCount;
  });
}
