/** Each conversation key's current session, so a conversation re-opened with its key resumes it on any worker. */
import { type ConversationRecord } from '../model/session.js';
import * as v from '../model/validation/index.js';
import { type StoreContext } from './context.js';
import { type ConversationDoc } from './documents.js';
import { guard, isDuplicateKey } from './errors.js';

/** Record the key's session after exchange `exchanges`; an older exchange never overwrites a newer one. */
export async function recordConversation(c: StoreContext, input: { key: string; sessionId: string; exchanges: number }): Promise<void> {
  const key = v.name(input.key, 'key');
  const sessionId = v.sessionId(input.sessionId);
  const exchanges = v.count(input.exchanges, 'exchanges');
  await guard(async () => {
    const now = c.clock();
    try {
      // Only a record at or before this exchange matches; a newer one makes the upsert hit its _id: done.
      await c.conversations.updateOne(
        { _id: key, exchanges: { $lte: exchanges } },
        { $set: { sessionId, exchanges, updatedAt: now }, $setOnInsert: { createdAt: now } },
        { upsert: true },
      );
    } catch (error) {
      if (!isDuplicateKey(error)) throw error;
    }
  });
}

export async function getConversation(c: StoreContext, key: string): Promise<ConversationRecord | null> {
  const k = v.name(key, 'key');
  return guard(async () => {
    const d = await c.conversations.findOne({ _id: k });
    return d ? toRecord(d) : null;
  });
}

/** Conversations, most recently used first. */
export async function listConversations(c: StoreContext, limit = 50): Promise<ConversationRecord[]> {
  const n = v.limit(limit, 'limit');
  return guard(async () => (await c.conversations.find({}).sort({ updatedAt: -1, _id: 1 }).limit(n).toArray()).map(toRecord));
}

function toRecord(d: ConversationDoc): ConversationRecord {
  return { key: d._id, sessionId: d.sessionId, exchanges: d.exchanges, createdAt: d.createdAt, updatedAt: d.updatedAt };
}
