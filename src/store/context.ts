/** What every store module works on: the collections, buckets, clock and limits, plus the idempotent write helpers. */
import { GridFSBucket, MongoBulkWriteError, type Collection, type Db, type Filter, type UpdateFilter, type WithId } from 'mongodb';
import {
  COLLECTIONS,
  type ConversationDoc,
  type MessageDoc,
  type RunBriefsDoc,
  type RunDoc,
  type RunStartDoc,
  type ScopePointerDoc,
  type SessionDoc,
  type TranscriptFilesDoc,
} from './documents.js';
import { TranscriptTails } from './transcript-tails.js';
import { isDuplicateKey } from './errors.js';

export interface StoreContext {
  readonly db: Db;
  readonly sessions: Collection<SessionDoc>;
  readonly messages: Collection<MessageDoc>;
  readonly runs: Collection<RunDoc>;
  readonly runStarts: Collection<RunStartDoc>;
  readonly conversations: Collection<ConversationDoc>;
  /** Each scope's most recently updated session. */
  readonly scopes: Collection<ScopePointerDoc>;
  /** Each session's transcript files. */
  readonly transcriptFiles: Collection<TranscriptFilesDoc>;
  /** Each session's ledger in brief. */
  readonly runBriefs: Collection<RunBriefsDoc>;
  /** Whether every session's briefs are complete, as this process last saw (`run-briefs.ts`). */
  readonly briefs: { complete: boolean; checkedAt: number };
  readonly transcripts: GridFSBucket;
  readonly overflow: GridFSBucket;
  /** The transcripts this process compressed last, so a save compresses only what was appended. */
  readonly transcriptTails: TranscriptTails;
  /** Run start marks already read or written: `appendMessages` is called once per batch. */
  readonly runStartCache: Map<string, RunStartDoc>;
  /** Lines longer than this many UTF-8 bytes go to GridFS. */
  readonly inlineLimit: number;
  /** The store's clock, checked. */
  clock(): Date;
}

export function createContext(db: Db, now: () => Date, inlineLimit: number): StoreContext {
  return {
    db,
    sessions: db.collection<SessionDoc>(COLLECTIONS.sessions),
    messages: db.collection<MessageDoc>(COLLECTIONS.messages),
    runs: db.collection<RunDoc>(COLLECTIONS.runs),
    runStarts: db.collection<RunStartDoc>(COLLECTIONS.runStarts),
    conversations: db.collection<ConversationDoc>(COLLECTIONS.conversations),
    scopes: db.collection<ScopePointerDoc>(COLLECTIONS.scopes),
    transcriptFiles: db.collection<TranscriptFilesDoc>(COLLECTIONS.transcriptFiles),
    runBriefs: db.collection<RunBriefsDoc>(COLLECTIONS.runBriefs),
    briefs: { complete: false, checkedAt: 0 },
    transcripts: new GridFSBucket(db, { bucketName: COLLECTIONS.transcripts }),
    overflow: new GridFSBucket(db, { bucketName: COLLECTIONS.overflow }),
    transcriptTails: new TranscriptTails(),
    runStartCache: new Map(),
    inlineLimit,
    clock() {
      const d = now();
      if (!(d instanceof Date) || Number.isNaN(d.getTime())) throw new Error('The store clock returned an invalid date');
      return d;
    },
  };
}

/** An upsert by `_id`; two concurrent upserts of a new id can race to a duplicate key, so retry once. */
export async function upsertOne<T extends { _id: string }>(coll: Collection<T>, filter: Filter<T>, update: UpdateFilter<T>): Promise<void> {
  try {
    await coll.updateOne(filter, update, { upsert: true });
  } catch (error) {
    if (!isDuplicateKey(error)) throw error;
    await coll.updateOne(filter, update, { upsert: true });
  }
}

/** `upsertOne` returning the document as written, or with `before` as it was (whole: FerretDB v1 takes no projection here). */
export async function upsertReturning<T extends { _id: string }>(
  coll: Collection<T>,
  filter: Filter<T>,
  update: UpdateFilter<T>,
  returnDocument: 'before' | 'after' = 'after',
): Promise<WithId<T> | null> {
  const options = { upsert: true, returnDocument };
  try {
    return await coll.findOneAndUpdate(filter, update, options);
  } catch (error) {
    if (!isDuplicateKey(error)) throw error;
    return coll.findOneAndUpdate(filter, update, options);
  }
}

/** Unordered inserts where an existing id counts as a duplicate, not a failure. */
export async function insertUnordered<T extends { _id: string }>(coll: Collection<T>, docs: T[]): Promise<{ inserted: number; duplicates: number }> {
  try {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const r = await coll.insertMany(docs as any[], { ordered: false });
    return { inserted: r.insertedCount, duplicates: 0 };
  } catch (error) {
    if (error instanceof MongoBulkWriteError) {
      const errors = Array.isArray(error.writeErrors) ? error.writeErrors : [error.writeErrors];
      if (errors.length > 0 && errors.every((e) => e.code === 11000) && !error.err) {
        return { inserted: error.insertedCount, duplicates: errors.length };
      }
    } else if (isDuplicateKey(error) && docs.length === 1) {
      return { inserted: 0, duplicates: 1 };
    }
    throw error;
  }
}
