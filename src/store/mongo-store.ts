/**
 * The MongoDB implementation of `SessionStore`; the only module that touches
 * the `mongodb` driver. It runs on MongoDB 7/8 and on FerretDB v1 (the local
 * server), so it uses no transactions, TTL indexes, pipeline updates or
 * aggregation: writes are idempotent upserts and inserts with deterministic
 * ids, and reports are an index-backed find plus a streaming reduction here.
 *
 * Collections (see `README` for one example of each document):
 * - `sessions`: one document per session, `_id` = session id.
 * - `messages`: one document per CLI line, `_id` = `${runId}:${seq}`, the line
 *   kept verbatim in `raw`; ordered by (`runAt`, `runId`, `seq`).
 * - `runs`: the run ledger, `_id` = run id, written with `$set` of the whole entry.
 * - `run_starts`: when each run first appended messages (its `runAt`), set once.
 * - GridFS buckets `transcripts` (one current file per session) and
 *   `message_overflow` (lines too big for one document, id = the message id).
 */
import { createHash } from 'node:crypto';
import {
  GridFSBucket,
  MongoBulkWriteError,
  MongoClient,
  MongoError,
  MongoNetworkError,
  MongoNotConnectedError,
  MongoServerError,
  MongoServerSelectionError,
  MongoTopologyClosedError,
  type Collection,
  type Db,
  type Document,
  type IndexDescription,
  type Filter,
  type ObjectId,
  type UpdateFilter,
} from 'mongodb';
import { ClaudeTemporalError, invalidInput } from '../model/failures.js';
import { type ModelUsage } from '../model/run.js';
import {
  type CleanupOptions,
  type CleanupResult,
  type CostReport,
  type CostReportQuery,
  type CostRow,
  type LineageNode,
  type LineageResult,
  type ListOptions,
  type LoadResult,
  type MessageInput,
  type Origin,
  type Page,
  type RunLedgerEntry,
  type SaveSessionOptions,
  type SearchQuery,
  type SessionMetadata,
  type SessionStatus,
  type SessionUpsert,
  type StoredMessage,
} from '../model/session.js';
import { type SessionStore } from './types.js';
import * as v from '../model/validation/index.js';
import { assistantText, summaryOf } from '../model/messages.js';

export interface MongoStoreOptions {
  /** A client the caller owns (the store never closes it); give this or `uri`. */
  client?: MongoClient;
  /** Connection string; the store then creates and owns its client, and `close()` closes it. */
  uri?: string;
  /** Database name (required). */
  dbName: string;
  /** Clock for createdAt/updatedAt, run start marks and cleanup cut-offs; default `() => new Date()`. */
  now?: () => Date;
  /** Lines longer than this many UTF-8 bytes go to GridFS instead of the message document; default 15 MiB. */
  inlineMessageLimitBytes?: number;
  /** Server selection timeout of a client created from `uri`; default 5000 ms. */
  serverSelectionTimeoutMS?: number;
}

/** `SessionStore` plus what only the MongoDB store offers. */
export interface MongoSessionStore extends SessionStore {
  /**
   * Bulk-insert complete session metadata (migration from the seed's store, fixtures, benchmarks):
   * unordered inserts by session id, an existing id counts as a duplicate and is left as it is.
   */
  importSessions(sessions: readonly SessionMetadata[]): Promise<{ inserted: number; duplicates: number }>;
}

export const COLLECTIONS = {
  sessions: 'sessions',
  messages: 'messages',
  runs: 'runs',
  runStarts: 'run_starts',
  transcripts: 'transcripts',
  overflow: 'message_overflow',
} as const;

/** MongoDB's document limit is 16 MiB; a line above this goes to GridFS. */
export const DEFAULT_INLINE_MESSAGE_LIMIT = 15 * 1024 * 1024;
const SUMMARY_SCAN = 200;
const MICRO = 1_000_000;
const DAY_MS = 86_400_000;
const RUN_START_CACHE = 10_000;

// ---------------------------------------------------------------------------
// Documents

/** Session metadata as stored: the id is `_id`. */
type SessionDoc = Omit<SessionMetadata, 'sessionId'> & { _id: string };

interface MessageDoc {
  _id: string;
  sessionId: string;
  runId: string;
  seq: number;
  /** When the run first appended: orders runs within a session. */
  runAt: Date;
  type: string;
  subtype: string | null;
  /** The CLI's line; null when it lives in GridFS (`overflow`). */
  raw: string | null;
  overflow?: { fileId: string; bytes: number };
}

interface ModelUsageDoc extends ModelUsage {
  model: string;
}

/** Model ids may contain `.`, which FerretDB refuses as a key: usage is stored as an array. */
type RunDoc = Omit<RunLedgerEntry, 'runId' | 'usageByModel'> & { _id: string; usageByModel: ModelUsageDoc[] };

interface RunStartDoc {
  _id: string;
  sessionId: string;
  at: Date;
}

type FileId = string | ObjectId;

interface GridFileDoc {
  _id: FileId;
  length: number;
  uploadDate: Date;
  metadata?: { sessionId?: string; runId?: string };
}

// ---------------------------------------------------------------------------
// Errors

// Server codes that mean "not now" rather than "never": shutdown, failover, network.
const TRANSIENT_CODES = new Set([6, 7, 89, 91, 189, 262, 9001, 10107, 11600, 11602, 13435, 13436]);

function isUnavailable(error: unknown, depth = 0): boolean {
  if (depth > 4 || typeof error !== 'object' || error === null) return false;
  if (
    error instanceof MongoNetworkError ||
    error instanceof MongoServerSelectionError ||
    error instanceof MongoTopologyClosedError ||
    error instanceof MongoNotConnectedError
  ) {
    return true;
  }
  if (error instanceof MongoError) {
    for (const label of ['RetryableWriteError', 'ResetPool', 'RetryableError', 'SystemOverloadedError']) if (error.hasErrorLabel(label)) return true;
    if (typeof error.code === 'number' && TRANSIENT_CODES.has(error.code)) return true;
  }
  // A bulk write that failed to reach the server wraps the network error.
  const e = error as { cause?: unknown; errorResponse?: unknown };
  return isUnavailable(e.errorResponse, depth + 1) || isUnavailable(e.cause, depth + 1);
}

function mapError(error: unknown): unknown {
  if (error instanceof ClaudeTemporalError) return error;
  if (isUnavailable(error)) {
    const message = error instanceof Error ? error.message : String(error);
    return new ClaudeTemporalError('StoreUnavailable', `Session store unavailable: ${message}`, {}, { cause: error });
  }
  return error;
}

async function guard<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw mapError(error);
  }
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
    // A collection that does not exist yet has no indexes (NamespaceNotFound).
    if (!(error instanceof MongoServerError && error.code === 26)) throw error;
  }
  for (const spec of specs) {
    if (!existing.includes(spec.name)) await coll.createIndexes([spec]);
  }
}

function isDuplicateKey(error: unknown): boolean {
  return error instanceof MongoServerError && error.code === 11000;
}

function notFound(sessionId: string): ClaudeTemporalError {
  return new ClaudeTemporalError('SessionNotFound', `Session ${sessionId} not found`);
}

// ---------------------------------------------------------------------------
// Cursors: opaque base64url JSON of the last key and a digest of the query

interface KeysetCursor {
  u: number;
  i: string;
}

function queryDigest(query: unknown): string {
  return createHash('sha256').update(JSON.stringify(query)).digest('base64url').slice(0, 12);
}

function encodeCursor(doc: { updatedAt: Date; _id: string }, digest: string): string {
  return Buffer.from(JSON.stringify({ u: doc.updatedAt.getTime(), i: doc._id, q: digest })).toString('base64url');
}

function decodeCursor(cursor: string, digest: string): KeysetCursor {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalidInput('cursor', 'is not a cursor this store returned');
  }
  const c = parsed as { u?: unknown; i?: unknown; q?: unknown };
  if (typeof c !== 'object' || c === null || typeof c.u !== 'number' || !Number.isFinite(c.u) || typeof c.i !== 'string') {
    throw invalidInput('cursor', 'is not a cursor this store returned');
  }
  v.sessionId(c.i, 'cursor');
  if (c.q !== digest) throw invalidInput('cursor', 'belongs to a different query');
  return { u: c.u, i: c.i };
}

/** Rows after the cursor in (updatedAt desc, _id desc) order. */
function afterCursor(c: KeysetCursor): Filter<SessionDoc> {
  const u = new Date(c.u);
  return { $or: [{ updatedAt: { $lt: u } }, { updatedAt: u, _id: { $lt: c.i } }] };
}

// ---------------------------------------------------------------------------
// Mapping

function toMetadata(d: SessionDoc): SessionMetadata {
  return {
    sessionId: d._id,
    createdAt: d.createdAt,
    updatedAt: d.updatedAt,
    messageCount: d.messageCount ?? 0,
    turnCount: d.turnCount ?? 0,
    models: d.models ?? [],
    model: d.model ?? null,
    tags: d.tags ?? [],
    description: d.description ?? null,
    summary: d.summary ?? null,
    status: d.status ?? 'active',
    scope: d.scope ?? null,
    lineage: {
      parentSessionId: d.lineage?.parentSessionId ?? null,
      forkedAtMessage: d.lineage?.forkedAtMessage ?? null,
      rootSessionId: d.lineage?.rootSessionId ?? d._id,
    },
    origin: { ...(d.origin ?? {}) },
    totalCostUsd: d.totalCostUsd ?? 0,
    lineageCostUsd: d.lineageCostUsd ?? 0,
    runCount: d.runCount ?? 0,
  };
}

function toEntry(d: RunDoc): RunLedgerEntry {
  const { _id, usageByModel, ...rest } = d;
  const usage: Record<string, ModelUsage> = {};
  for (const u of usageByModel ?? []) {
    usage[u.model] = {
      inputTokens: u.inputTokens,
      outputTokens: u.outputTokens,
      cacheReadInputTokens: u.cacheReadInputTokens,
      cacheCreationInputTokens: u.cacheCreationInputTokens,
      costUSD: u.costUSD,
    };
  }
  return { runId: _id, ...rest, usageByModel: usage };
}

function toRunDoc(e: RunLedgerEntry): RunDoc {
  const { runId, usageByModel, ...rest } = e;
  return { _id: runId, ...rest, usageByModel: Object.entries(usageByModel).map(([model, u]) => ({ model, ...u })) };
}

function micro(usd: number): number {
  return Math.round(usd * MICRO);
}

/** A stored line, parsed; null for one that is not JSON (lines are validated on the way in: a foreign document). */
function parseJson(raw: string): unknown {
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return null;
  }
}

function runStatusToSession(status: RunLedgerEntry['status']): SessionStatus {
  if (status === 'running') return 'active';
  return status === 'failed' ? 'failed' : 'completed';
}

async function readStream(stream: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of stream) parts.push(chunk);
  return Buffer.concat(parts);
}

// ---------------------------------------------------------------------------

/** Creates the MongoDB session store. The client connects on first use; call `ensureIndexes()` once at start-up. */
export function createMongoStore(options: MongoStoreOptions): MongoSessionStore {
  const o = v.requireObject(options, 'options') as unknown as MongoStoreOptions;
  const dbName = v.name(o.dbName, 'dbName', 63);
  if (/[/\\. "$*<>:|?]/.test(dbName)) throw invalidInput('dbName', 'must not contain / \\ . " $ * < > : | ? or spaces');
  if ((o.client === undefined) === (o.uri === undefined)) throw invalidInput('options', 'give exactly one of client and uri');
  if (o.uri !== undefined && (typeof o.uri !== 'string' || !/^mongodb(\+srv)?:\/\//.test(o.uri))) {
    throw invalidInput('uri', 'must be a mongodb:// or mongodb+srv:// connection string');
  }
  if (o.client !== undefined && !(o.client instanceof MongoClient)) throw invalidInput('client', 'must be a MongoClient');
  const inlineLimit = o.inlineMessageLimitBytes === undefined ? DEFAULT_INLINE_MESSAGE_LIMIT : v.count(o.inlineMessageLimitBytes, 'inlineMessageLimitBytes', DEFAULT_INLINE_MESSAGE_LIMIT);
  const ownsClient = o.client === undefined;
  const client = o.client ?? new MongoClient(o.uri as string, { serverSelectionTimeoutMS: o.serverSelectionTimeoutMS ?? 5000 });
  return new Store(client, client.db(dbName), ownsClient, o.now ?? (() => new Date()), inlineLimit);
}

class Store implements MongoSessionStore {
  private readonly sessions: Collection<SessionDoc>;
  private readonly messages: Collection<MessageDoc>;
  private readonly runs: Collection<RunDoc>;
  private readonly runStarts: Collection<RunStartDoc>;
  private readonly transcripts: GridFSBucket;
  private readonly overflow: GridFSBucket;
  private readonly runStartCache = new Map<string, RunStartDoc>();

  constructor(
    private readonly client: MongoClient,
    private readonly db: Db,
    private readonly ownsClient: boolean,
    private readonly now: () => Date,
    private readonly inlineLimit: number,
  ) {
    this.sessions = db.collection<SessionDoc>(COLLECTIONS.sessions);
    this.messages = db.collection<MessageDoc>(COLLECTIONS.messages);
    this.runs = db.collection<RunDoc>(COLLECTIONS.runs);
    this.runStarts = db.collection<RunStartDoc>(COLLECTIONS.runStarts);
    this.transcripts = new GridFSBucket(db, { bucketName: COLLECTIONS.transcripts });
    this.overflow = new GridFSBucket(db, { bucketName: COLLECTIONS.overflow });
  }

  private files(bucket: string): Collection<GridFileDoc> {
    return this.db.collection<GridFileDoc>(`${bucket}.files`);
  }

  private chunks(bucket: string): Collection<{ files_id: FileId }> {
    return this.db.collection<{ files_id: FileId }>(`${bucket}.chunks`);
  }

  private clock(): Date {
    const d = this.now();
    if (!(d instanceof Date) || Number.isNaN(d.getTime())) throw new Error('The store clock returned an invalid date');
    return d;
  }

  // -------------------------------------------------------------------------
  // Indexes

  async ensureIndexes(): Promise<void> {
    // Equality, then sort, then range; listing and search page by (updatedAt desc, _id desc).
    await guard(async () => {
      await createMissing(this.sessions, [
        { key: { updatedAt: -1, _id: -1 }, name: 'updatedAt_id' },
        { key: { tags: 1, updatedAt: -1, _id: -1 }, name: 'tags_updatedAt_id' },
        { key: { scope: 1, updatedAt: -1, _id: -1 }, name: 'scope_updatedAt_id' },
        { key: { models: 1, updatedAt: -1, _id: -1 }, name: 'models_updatedAt_id' },
        { key: { status: 1, updatedAt: -1, _id: -1 }, name: 'status_updatedAt_id' },
        { key: { createdAt: -1 }, name: 'createdAt' },
        { key: { 'lineage.parentSessionId': 1 }, name: 'lineage_parent' },
      ]);
      await createMissing(this.messages, [
        { key: { sessionId: 1, runAt: 1, runId: 1, seq: 1 }, name: 'session_order' },
        { key: { sessionId: 1, type: 1, runAt: 1, runId: 1, seq: 1 }, name: 'session_type_order' },
        { key: { runId: 1, seq: 1 }, name: 'run_seq' },
      ]);
      await createMissing(this.runs, [
        { key: { sessionId: 1, startedAt: 1 }, name: 'session_startedAt' },
        { key: { stepKey: 1, startedAt: 1 }, name: 'stepKey_startedAt' },
        { key: { tags: 1, sessionId: 1, startedAt: 1 }, name: 'tags_session_startedAt' },
        { key: { startedAt: 1 }, name: 'startedAt' },
        { key: { day: 1 }, name: 'day' },
      ]);
      await createMissing(this.runStarts, [{ key: { sessionId: 1 }, name: 'sessionId' }]);
      for (const bucket of [COLLECTIONS.transcripts, COLLECTIONS.overflow]) {
        // The driver's own GridFS indexes (same keys and names), then ours.
        await createMissing(this.chunks(bucket), [{ key: { files_id: 1, n: 1 }, name: 'files_id_1_n_1', unique: true }]);
        await createMissing(this.files(bucket), [
          { key: { filename: 1, uploadDate: 1 }, name: 'filename_1_uploadDate_1' },
          { key: { 'metadata.sessionId': 1, uploadDate: -1 }, name: 'session_uploadDate' },
          { key: { 'metadata.runId': 1 }, name: 'runId' },
        ]);
      }
    });
  }

  async close(): Promise<void> {
    if (this.ownsClient) await this.client.close();
  }

  // -------------------------------------------------------------------------
  // Session metadata

  async upsertSession(input: SessionUpsert): Promise<void> {
    const u = v.validateSessionUpsert(input);
    await guard(() => this.writeSession(u));
  }

  private async writeSession(u: SessionUpsert): Promise<void> {
    const now = this.clock();
    const set: Record<string, unknown> = {};
    if (u.description !== undefined) set.description = u.description;
    if (u.scope !== undefined) set.scope = u.scope;
    if (u.status !== undefined) set.status = u.status;
    for (const [k, val] of Object.entries(u.origin ?? {})) set[`origin.${k}`] = val;
    if (u.parentSessionId !== undefined) {
      // A session's parent never changes, so setting it again is idempotent; it also
      // corrects the default lineage when recordRun created the session first.
      let root = u.sessionId;
      if (u.parentSessionId !== null) {
        const parent = await this.sessions.findOne({ _id: u.parentSessionId }, { projection: { lineage: 1 } });
        root = parent?.lineage?.rootSessionId ?? u.parentSessionId;
      }
      set.lineage = { parentSessionId: u.parentSessionId, forkedAtMessage: u.forkedAtMessage ?? null, rootSessionId: root };
    }
    const tags = u.tags ?? [];
    const update: UpdateFilter<SessionDoc> = {
      $setOnInsert: this.insertDefaults(u.sessionId, now, set, tags.length > 0),
      $max: { updatedAt: now },
    };
    if (Object.keys(set).length > 0) update.$set = set as Partial<SessionDoc>;
    if (tags.length > 0) update.$addToSet = { tags: { $each: tags } };
    await this.upsertOne(this.sessions, { _id: u.sessionId }, update);
    if (tags.length > 0) await this.runs.updateMany({ sessionId: u.sessionId }, { $addToSet: { tags: { $each: tags } } });
  }

  /** Defaults of a new session document, leaving out the paths this update sets. */
  private insertDefaults(sessionId: string, now: Date, set: Record<string, unknown>, addsTags: boolean, origin: Origin = {}): Partial<SessionDoc> {
    const defaults: Record<string, unknown> = {
      createdAt: now,
      messageCount: 0,
      turnCount: 0,
      models: [],
      model: null,
      tags: [],
      description: null,
      summary: null,
      status: 'active',
      scope: null,
      lineage: { parentSessionId: null, forkedAtMessage: null, rootSessionId: sessionId },
      origin,
      totalCostUsd: 0,
      lineageCostUsd: 0,
      runCount: 0,
    };
    if (addsTags) delete defaults.tags;
    for (const path of Object.keys(set)) delete defaults[path.split('.')[0] as string];
    return defaults as Partial<SessionDoc>;
  }

  /** An upsert by `_id`; two concurrent upserts of a new id can race to a duplicate key, so retry once. */
  private async upsertOne<T extends { _id: string }>(coll: Collection<T>, filter: Filter<T>, update: UpdateFilter<T>): Promise<void> {
    try {
      await coll.updateOne(filter, update, { upsert: true });
    } catch (error) {
      if (!isDuplicateKey(error)) throw error;
      await coll.updateOne(filter, update, { upsert: true });
    }
  }

  async getSession(sessionId: string): Promise<SessionMetadata | null> {
    const id = v.sessionId(sessionId);
    return guard(async () => {
      const d = await this.sessions.findOne({ _id: id });
      return d ? toMetadata(d) : null;
    });
  }

  async tagSession(sessionId: string, tags: string[]): Promise<SessionMetadata> {
    const id = v.sessionId(sessionId);
    const t = v.nonEmptyTags(tags);
    return guard(async () => {
      const r = await this.sessions.updateOne({ _id: id }, { $addToSet: { tags: { $each: t } }, $max: { updatedAt: this.clock() } });
      if (r.matchedCount === 0) throw notFound(id);
      // Reports filter runs by tag, so the ledger follows the session's tags.
      await this.runs.updateMany({ sessionId: id }, { $addToSet: { tags: { $each: t } } });
      return this.mustGet(id);
    });
  }

  async untagSession(sessionId: string, tags: string[]): Promise<SessionMetadata> {
    const id = v.sessionId(sessionId);
    const t = v.nonEmptyTags(tags);
    return guard(async () => {
      const r = await this.sessions.updateOne({ _id: id }, { $pullAll: { tags: t }, $max: { updatedAt: this.clock() } });
      if (r.matchedCount === 0) throw notFound(id);
      await this.runs.updateMany({ sessionId: id }, { $pullAll: { tags: t } });
      return this.mustGet(id);
    });
  }

  async setDescription(sessionId: string, description: string | null): Promise<SessionMetadata> {
    const id = v.sessionId(sessionId);
    const d = v.description(description);
    return guard(async () => {
      const r = await this.sessions.updateOne({ _id: id }, { $set: { description: d }, $max: { updatedAt: this.clock() } });
      if (r.matchedCount === 0) throw notFound(id);
      return this.mustGet(id);
    });
  }

  private async mustGet(id: string): Promise<SessionMetadata> {
    const d = await this.sessions.findOne({ _id: id });
    if (!d) throw notFound(id);
    return toMetadata(d);
  }

  async latestSessionInScope(scope: string): Promise<SessionMetadata | null> {
    const s = v.scope(scope);
    return guard(async () => {
      const d = await this.sessions.find({ scope: s }).sort({ updatedAt: -1, _id: -1 }).limit(1).next();
      return d ? toMetadata(d) : null;
    });
  }

  async importSessions(sessions: readonly SessionMetadata[]): Promise<{ inserted: number; duplicates: number }> {
    if (!Array.isArray(sessions)) throw invalidInput('sessions', 'must be an array');
    const docs: SessionDoc[] = sessions.map((s, i) => {
      const m = v.sessionMetadata(s, `sessions[${i}]`);
      const { sessionId, ...rest } = m;
      return { _id: sessionId, ...rest };
    });
    if (docs.length === 0) return { inserted: 0, duplicates: 0 };
    return guard(() => this.insertUnordered(this.sessions, docs));
  }

  private async insertUnordered<T extends { _id: string }>(coll: Collection<T>, docs: T[]): Promise<{ inserted: number; duplicates: number }> {
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

  // -------------------------------------------------------------------------
  // Messages

  async appendMessages(sessionId: string, runId: string, batch: MessageInput[]): Promise<{ inserted: number; duplicates: number }> {
    const sid = v.sessionId(sessionId);
    const rid = v.runId(runId);
    const msgs = v.messageBatch(batch);
    if (msgs.length === 0) return { inserted: 0, duplicates: 0 };
    return guard(async () => {
      const runAt = await this.runStart(sid, rid);
      const inline: MessageDoc[] = [];
      let inserted = 0;
      let duplicates = 0;
      for (const m of msgs) {
        if (m.bytes > this.inlineLimit) {
          const r = await this.writeOverflow(sid, rid, runAt, m, false);
          inserted += r.inserted;
          duplicates += r.duplicates;
        } else {
          inline.push({ _id: `${rid}:${m.seq}`, sessionId: sid, runId: rid, seq: m.seq, runAt, type: m.type, subtype: m.subtype, raw: m.raw });
        }
      }
      if (inline.length > 0) {
        const r = await this.insertUnordered(this.messages, inline);
        inserted += r.inserted;
        duplicates += r.duplicates;
      }
      return { inserted, duplicates };
    });
  }

  /** The run's ordering key: the time it first appended, recorded once so retries reuse it. */
  private async runStart(sessionId: string, runId: string): Promise<Date> {
    let doc: RunStartDoc | null | undefined = this.runStartCache.get(runId);
    if (!doc) {
      try {
        doc = await this.runStarts.findOneAndUpdate(
          { _id: runId },
          { $setOnInsert: { sessionId, at: this.clock() } },
          { upsert: true, returnDocument: 'after' },
        );
      } catch (error) {
        if (!isDuplicateKey(error)) throw error;
        doc = await this.runStarts.findOne({ _id: runId });
      }
      if (!doc) throw new Error(`Run start of ${runId} vanished`);
      if (this.runStartCache.size >= RUN_START_CACHE) this.runStartCache.clear();
      this.runStartCache.set(runId, doc);
    }
    if (doc.sessionId !== sessionId) throw invalidInput('runId', `belongs to session ${doc.sessionId}`);
    return doc.at;
  }

  /**
   * A line too big for a document: a GridFS file with the message id as its id, then a
   * small reference document. A retry finds the reference (done), or the finished file
   * (only the reference is missing), or a partial upload (its chunks are removed first).
   */
  private async writeOverflow(
    sessionId: string,
    runId: string,
    runAt: Date,
    m: v.ValidMessage,
    replace: boolean,
  ): Promise<{ inserted: number; duplicates: number }> {
    const id = `${runId}:${m.seq}`;
    if (replace) {
      await this.messages.deleteOne({ _id: id });
      await this.deleteFiles(COLLECTIONS.overflow, [id]);
    } else if (await this.messages.findOne({ _id: id }, { projection: { _id: 1 } })) {
      return { inserted: 0, duplicates: 1 };
    }
    const existing = await this.files(COLLECTIONS.overflow).findOne({ _id: id });
    if (!existing) {
      await this.chunks(COLLECTIONS.overflow).deleteMany({ files_id: id });
      try {
        await new Promise<void>((resolve, reject) => {
          const upload = this.overflow.openUploadStreamWithId(id as unknown as ObjectId, id, { metadata: { sessionId, runId, seq: m.seq } });
          upload.once('finish', () => resolve());
          upload.once('error', reject);
          upload.end(Buffer.from(m.raw, 'utf8'));
        });
      } catch (error) {
        if (!isDuplicateKey(error)) throw error;
      }
    }
    const doc: MessageDoc = {
      _id: id,
      sessionId,
      runId,
      seq: m.seq,
      runAt,
      type: m.type,
      subtype: m.subtype,
      raw: null,
      overflow: { fileId: id, bytes: m.bytes },
    };
    return this.insertUnordered(this.messages, [doc]);
  }

  /** Deletes GridFS files: chunks first, the file document last, so an interrupted delete leaves a findable file. */
  private async deleteFiles(bucket: string, ids: FileId[]): Promise<number> {
    if (ids.length === 0) return 0;
    await this.chunks(bucket).deleteMany({ files_id: { $in: ids } });
    const r = await this.files(bucket).deleteMany({ _id: { $in: ids } });
    return r.deletedCount;
  }

  private async fileIds(bucket: string, filter: Filter<GridFileDoc>): Promise<FileId[]> {
    const docs = await this.files(bucket).find(filter, { projection: { _id: 1 } }).toArray();
    return docs.map((d) => d._id);
  }

  private async *streamMessages(sessionId: string): AsyncGenerator<StoredMessage> {
    const cursor = this.messages.find({ sessionId }).sort({ runAt: 1, runId: 1, seq: 1 }).batchSize(200);
    try {
      for await (const d of cursor) {
        let raw = d.raw;
        if (raw === null || raw === undefined) {
          const bytes = await readStream(this.overflow.openDownloadStream((d.overflow?.fileId ?? d._id) as unknown as ObjectId));
          raw = bytes.toString('utf8');
        }
        yield { sessionId: d.sessionId, runId: d.runId, seq: d.seq, type: d.type, subtype: d.subtype ?? null, raw };
      }
    } catch (error) {
      throw mapError(error);
    } finally {
      await cursor.close().catch(() => undefined);
    }
  }

  async discardRunMessages(sessionId: string, runId: string): Promise<number> {
    const sid = v.sessionId(sessionId);
    const rid = v.runId(runId);
    return guard(async () => {
      const r = await this.messages.deleteMany({ sessionId: sid, runId: rid });
      await this.deleteFiles(COLLECTIONS.overflow, await this.fileIds(COLLECTIONS.overflow, { 'metadata.sessionId': sid, 'metadata.runId': rid }));
      await this.recompute(sid, null);
      return r.deletedCount;
    });
  }

  // -------------------------------------------------------------------------
  // Ledger

  async recordRun(entry: RunLedgerEntry): Promise<void> {
    const e = v.validateRunEntry(entry);
    await guard(async () => {
      const existing = await this.runs.findOne({ _id: e.runId }, { projection: { sessionId: 1 } });
      if (existing && existing.sessionId !== e.sessionId) {
        throw invalidInput('entry.sessionId', `differs from the session of run ${e.runId} (${existing.sessionId})`);
      }
      const session = await this.sessions.findOne({ _id: e.sessionId }, { projection: { tags: 1 } });
      // The ledger carries the session's tags too, so reports by tag see every run of a tagged session.
      const tags = [...new Set([...e.tags, ...(session?.tags ?? [])])];
      const { _id, ...fields } = toRunDoc({ ...e, tags });
      await this.upsertOne(this.runs, { _id }, { $set: fields });
      await this.recompute(e.sessionId, e);
    });
  }

  /**
   * Recomputes a session's derived fields from the ledger and the messages and `$set`s them
   * (no `$inc`, so a retry converges). With `created` the session is upserted (recordRun may
   * come first); otherwise a missing session stays missing.
   */
  private async recompute(sessionId: string, created: RunLedgerEntry | null): Promise<void> {
    let totalMicro = 0;
    let runCount = 0;
    let latest: Pick<RunDoc, 'cumulativeCostUsd' | 'status'> | null = null;
    let models: string[] = [];
    const cursor = this.runs
      .find({ sessionId }, { projection: { costUsd: 1, cumulativeCostUsd: 1, status: 1, model: 1, usageByModel: 1, startedAt: 1 } })
      .sort({ startedAt: 1, _id: 1 });
    for await (const r of cursor) {
      totalMicro += micro(r.costUsd ?? 0);
      runCount += 1;
      latest = r;
      // Latest model last: a model used again moves to the end.
      const used = [...(r.usageByModel ?? []).map((u) => u.model), ...(r.model ? [r.model] : [])];
      for (const m of used) models = [...models.filter((x) => x !== m), m];
    }
    const [messageCount, turnCount, summary] = await Promise.all([
      this.messages.countDocuments({ sessionId }),
      this.messages.countDocuments({ sessionId, type: 'assistant' }),
      this.firstAssistantText(sessionId),
    ]);
    const set: Record<string, unknown> = {
      totalCostUsd: totalMicro / MICRO,
      runCount,
      messageCount,
      turnCount,
      models,
      model: models.at(-1) ?? null,
      summary,
      lineageCostUsd: latest?.cumulativeCostUsd ?? 0,
    };
    if (latest) set.status = runStatusToSession(latest.status);
    const now = this.clock();
    if (!created) {
      await this.sessions.updateOne({ _id: sessionId }, { $set: set as Partial<SessionDoc>, $max: { updatedAt: now } });
      return;
    }
    const origin: Origin = {};
    if (created.pipeline) origin.pipeline = created.pipeline;
    if (created.workflowId) origin.workflowId = created.workflowId;
    const update: UpdateFilter<SessionDoc> = {
      $set: set as Partial<SessionDoc>,
      $max: { updatedAt: now },
      $setOnInsert: this.insertDefaults(sessionId, now, set, created.tags.length > 0, origin),
    };
    if (created.tags.length > 0) update.$addToSet = { tags: { $each: created.tags } };
    await this.upsertOne(this.sessions, { _id: sessionId }, update);
  }

  private async firstAssistantText(sessionId: string): Promise<string | null> {
    const cursor = this.messages
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

  async getRun(runId: string): Promise<RunLedgerEntry | null> {
    const rid = v.runId(runId);
    return guard(async () => {
      const d = await this.runs.findOne({ _id: rid });
      return d ? toEntry(d) : null;
    });
  }

  async runsOfStep(stepKey: string): Promise<RunLedgerEntry[]> {
    const key = v.name(stepKey, 'stepKey');
    return guard(async () => {
      const docs = await this.runs.find({ stepKey: key }).sort({ startedAt: 1, attempt: 1, _id: 1 }).limit(10_000).toArray();
      return docs.map(toEntry);
    });
  }

  // -------------------------------------------------------------------------
  // Transcripts

  async saveTranscript(sessionId: string, runId: string, data: Uint8Array): Promise<void> {
    const sid = v.sessionId(sessionId);
    const rid = v.runId(runId);
    const bytes = v.bytes(data, 'data');
    await guard(async () => {
      // Upload the new file, then delete the older ones: there is always a current transcript,
      // and a retry only uploads again and deletes what it superseded.
      const id = await new Promise<FileId>((resolve, reject) => {
        const upload = this.transcripts.openUploadStream(`${sid}.jsonl`, { metadata: { sessionId: sid, runId: rid } });
        upload.once('finish', () => resolve(upload.id));
        upload.once('error', reject);
        upload.end(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      });
      const older = await this.fileIds(COLLECTIONS.transcripts, { 'metadata.sessionId': sid, _id: { $ne: id } });
      await this.deleteFiles(COLLECTIONS.transcripts, older);
    });
  }

  async loadTranscript(sessionId: string): Promise<Uint8Array | null> {
    const sid = v.sessionId(sessionId);
    return guard(async () => {
      const file = await this.files(COLLECTIONS.transcripts)
        .find({ 'metadata.sessionId': sid })
        .sort({ uploadDate: -1, _id: -1 })
        .limit(1)
        .next();
      if (!file) return null;
      const buf = await readStream(this.transcripts.openDownloadStream(file._id as ObjectId));
      return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    });
  }

  // -------------------------------------------------------------------------
  // The seed's API

  /**
   * Stores parsed messages as run `saved:<sessionId>`, message i at seq i, each line being
   * `JSON.stringify(message)`. Saving again replaces that run's messages (by position, and
   * drops positions past the new end), so it is idempotent. The last `result` message, if any,
   * becomes the run's ledger entry (its `total_cost_usd` and `modelUsage`).
   */
  async saveSession(sessionId: string, messages: readonly unknown[], options?: SaveSessionOptions): Promise<SessionMetadata> {
    const sid = v.sessionId(sessionId);
    const msgs = v.savedMessages(messages);
    const opts = v.saveOptions(options);
    const entry = this.savedEntry(sid, msgs);
    return guard(async () => {
      const upsert: SessionUpsert = { sessionId: sid, tags: opts.tags };
      if (opts.description !== undefined) upsert.description = opts.description;
      await this.writeSession(upsert);
      const rid = savedRunId(sid);
      const runAt = await this.runStart(sid, rid);
      const inline = msgs.filter((m) => m.bytes <= this.inlineLimit);
      if (inline.length > 0) {
        await this.messages.bulkWrite(
          inline.map((m) => ({
            replaceOne: {
              filter: { _id: `${rid}:${m.seq}` },
              replacement: { sessionId: sid, runId: rid, seq: m.seq, runAt, type: m.type, subtype: m.subtype, raw: m.raw },
              upsert: true,
            },
          })),
          { ordered: false },
        );
      }
      for (const m of msgs.filter((x) => x.bytes > this.inlineLimit)) await this.writeOverflow(sid, rid, runAt, m, true);
      await this.messages.deleteMany({ runId: rid, seq: { $gte: msgs.length } });
      const stale = await this.fileIds(COLLECTIONS.overflow, { 'metadata.runId': rid, 'metadata.seq': { $gte: msgs.length } });
      await this.deleteFiles(COLLECTIONS.overflow, stale);
      if (entry) {
        const created = await this.sessions.findOne({ _id: sid }, { projection: { createdAt: 1, tags: 1 } });
        const startedAt = created?.createdAt ?? this.clock();
        const full: RunLedgerEntry = {
          ...entry,
          startedAt,
          day: v.utcDay(startedAt),
          month: v.utcDay(startedAt).slice(0, 7),
          tags: created?.tags ?? opts.tags,
        };
        const { _id, ...fields } = toRunDoc(full);
        await this.upsertOne(this.runs, { _id }, { $set: fields });
      } else {
        await this.runs.deleteOne({ _id: rid });
      }
      await this.recompute(sid, null);
      return this.mustGet(sid);
    });
  }

  /** The ledger entry of a saved session, from its last `result` message (lenient: the seed's data). */
  private savedEntry(sessionId: string, msgs: v.ValidMessage[]): Omit<RunLedgerEntry, 'startedAt' | 'day' | 'month' | 'tags'> | null {
    const last = [...msgs].reverse().find((m) => m.type === 'result');
    if (!last) return null;
    const r = JSON.parse(last.raw) as Record<string, unknown>;
    const num = (x: unknown) => (typeof x === 'number' && Number.isFinite(x) && x >= 0 ? x : 0);
    const int = (x: unknown) => (typeof x === 'number' && Number.isInteger(x) && x >= 0 ? x : 0);
    const usageByModel: Record<string, ModelUsage> = {};
    if (r.modelUsage && typeof r.modelUsage === 'object' && !Array.isArray(r.modelUsage)) {
      for (const [model, u] of Object.entries(r.modelUsage as Record<string, Record<string, unknown>>)) {
        if (!model || model.startsWith('$') || model.length > 512 || typeof u !== 'object' || u === null) continue;
        usageByModel[model] = {
          inputTokens: int(u.inputTokens),
          outputTokens: int(u.outputTokens),
          cacheReadInputTokens: int(u.cacheReadInputTokens),
          cacheCreationInputTokens: int(u.cacheCreationInputTokens),
          costUSD: num(u.costUSD),
        };
      }
    }
    const models = Object.keys(usageByModel);
    const isError = r.is_error === true;
    return {
      runId: savedRunId(sessionId),
      sessionId,
      mode: 'query',
      promptDigest: createHash('sha256').update('').digest('hex'),
      status: isError ? 'failed' : 'success',
      failureType: null,
      subtype: typeof r.subtype === 'string' ? r.subtype.slice(0, 128) : null,
      costUsd: num(r.total_cost_usd),
      cumulativeCostUsd: num(r.total_cost_usd),
      usageByModel,
      numTurns: int(r.num_turns),
      messageCount: msgs.length,
      exitCode: null,
      finishedAt: null,
      durationMs: int(r.duration_ms),
      stepKey: null,
      attempt: 0,
      model: models.at(-1) ?? null,
      pipeline: null,
      workflowId: null,
    };
  }

  async loadSession(sessionId: string): Promise<LoadResult> {
    const sid = v.sessionId(sessionId);
    return guard(async () => {
      const d = await this.sessions.findOne({ _id: sid });
      if (!d) return { found: false, sessionId: sid };
      return { found: true, session: { metadata: toMetadata(d), messages: () => this.streamMessages(sid) } };
    });
  }

  async listSessions(options?: ListOptions): Promise<Page<SessionMetadata>> {
    const o = v.listOptions(options);
    const digest = queryDigest('list');
    const after = o.cursor ? decodeCursor(o.cursor, digest) : null;
    return guard(() => this.page(after ? afterCursor(after) : {}, o.limit, digest));
  }

  async search(query: SearchQuery): Promise<Page<SessionMetadata>> {
    const q = v.searchQuery(query);
    const { limit, cursor, ...criteria } = q;
    const digest = queryDigest(criteria);
    const after = cursor ? decodeCursor(cursor, digest) : null;
    const filter: Record<string, unknown> = {};
    if (q.tags || q.allTags) filter.tags = { ...(q.tags ? { $in: q.tags } : {}), ...(q.allTags ? { $all: q.allTags } : {}) };
    if (q.after || q.before) filter.createdAt = { ...(q.after ? { $gte: q.after } : {}), ...(q.before ? { $lte: q.before } : {}) };
    if (q.updatedAfter || q.updatedBefore) {
      filter.updatedAt = { ...(q.updatedAfter ? { $gte: q.updatedAfter } : {}), ...(q.updatedBefore ? { $lte: q.updatedBefore } : {}) };
    }
    if (q.minCost !== undefined || q.maxCost !== undefined) {
      filter.totalCostUsd = { ...(q.minCost !== undefined ? { $gte: q.minCost } : {}), ...(q.maxCost !== undefined ? { $lte: q.maxCost } : {}) };
    }
    if (q.model) filter.models = q.model;
    if (q.status) filter.status = q.status;
    if (q.scope) filter.scope = q.scope;
    if (after) Object.assign(filter, afterCursor(after));
    return guard(() => this.page(filter as Filter<SessionDoc>, limit, digest));
  }

  private async page(filter: Filter<SessionDoc>, limit: number, digest: string): Promise<Page<SessionMetadata>> {
    const docs = await this.sessions.find(filter).sort({ updatedAt: -1, _id: -1 }).limit(limit + 1).toArray();
    const more = docs.length > limit;
    const items = more ? docs.slice(0, limit) : docs;
    const last = items.at(-1);
    return { items: items.map(toMetadata), nextCursor: more && last ? encodeCursor(last, digest) : null };
  }

  // -------------------------------------------------------------------------
  // Deletion

  /** Deletes everything that hangs off these sessions; the session documents themselves are left. */
  private async deleteDependents(ids: string[]): Promise<void> {
    const inIds = { $in: ids };
    await this.messages.deleteMany({ sessionId: inIds });
    await this.deleteFiles(COLLECTIONS.overflow, await this.fileIds(COLLECTIONS.overflow, { 'metadata.sessionId': inIds }));
    await this.deleteFiles(COLLECTIONS.transcripts, await this.fileIds(COLLECTIONS.transcripts, { 'metadata.sessionId': inIds }));
    await this.runs.deleteMany({ sessionId: inIds });
    await this.runStarts.deleteMany({ sessionId: inIds });
    for (const id of ids) this.forgetRunStarts(id);
  }

  private forgetRunStarts(sessionId: string): void {
    for (const [runId, doc] of this.runStartCache) if (doc.sessionId === sessionId) this.runStartCache.delete(runId);
  }

  async deleteSession(sessionId: string): Promise<boolean> {
    const sid = v.sessionId(sessionId);
    return guard(async () => {
      await this.deleteDependents([sid]);
      const r = await this.sessions.deleteOne({ _id: sid });
      return r.deletedCount > 0;
    });
  }

  /**
   * Deletes sessions not updated for `maxAgeDays` and without any of `keepTags`, oldest first, in
   * batches: dependents first and each session document last, so an interrupted cleanup leaves
   * sessions that the next run finds and finishes. `onBatch` gets the running total and the batch's ids.
   * A session whose dependents were removed is deleted only if it still matches (it was not touched meanwhile).
   */
  async cleanupOldSessions(options?: CleanupOptions): Promise<CleanupResult> {
    const o = v.cleanupOptions(options);
    return guard(async () => {
      const cutoff = new Date(this.clock().getTime() - o.maxAgeDays * DAY_MS);
      const base: Filter<SessionDoc> = { updatedAt: { $lt: cutoff } };
      if (o.keepTags.length > 0) base.tags = { $nin: o.keepTags };
      const sessionIds: string[] = [];
      let last: { updatedAt: Date; _id: string } | null = null;
      for (;;) {
        const filter: Filter<SessionDoc> = last
          ? { ...base, $or: [{ updatedAt: { $gt: last.updatedAt } }, { updatedAt: last.updatedAt, _id: { $gt: last._id } }] }
          : base;
        const batch = await this.sessions
          .find(filter, { projection: { _id: 1, updatedAt: 1 } })
          .sort({ updatedAt: 1, _id: 1 })
          .limit(o.batchSize)
          .toArray();
        if (batch.length === 0) break;
        last = batch[batch.length - 1] ?? null;
        let ids = batch.map((d) => d._id);
        if (!o.dryRun) {
          await this.deleteDependents(ids);
          const r = await this.sessions.deleteMany({ ...base, _id: { $in: ids } });
          if (r.deletedCount !== ids.length) {
            const left = new Set((await this.sessions.find({ _id: { $in: ids } }, { projection: { _id: 1 } }).toArray()).map((d) => d._id));
            ids = ids.filter((id) => !left.has(id));
          }
        }
        sessionIds.push(...ids);
        if (o.onBatch) await o.onBatch({ deleted: sessionIds.length, sessionIds: ids });
        if (batch.length < o.batchSize) break;
      }
      return { deletedCount: sessionIds.length, sessionIds, dryRun: o.dryRun };
    });
  }

  // -------------------------------------------------------------------------
  // Lineage

  async getLineage(sessionId: string): Promise<LineageResult> {
    const sid = v.sessionId(sessionId);
    return guard(async () => {
      const self = await this.sessions.findOne({ _id: sid });
      if (!self) throw notFound(sid);
      const ancestors: SessionMetadata[] = [];
      const seen = new Set([sid]);
      let parentId = self.lineage?.parentSessionId ?? null;
      // Walk up one parent at a time; a deleted ancestor ends the chain.
      while (parentId && !seen.has(parentId) && ancestors.length < 10_000) {
        seen.add(parentId);
        const p = await this.sessions.findOne({ _id: parentId });
        if (!p) break;
        ancestors.unshift(toMetadata(p));
        parentId = p.lineage?.parentSessionId ?? null;
      }
      const node = (d: SessionDoc): LineageNode => ({
        sessionId: d._id,
        createdAt: d.createdAt,
        totalCostUsd: d.totalCostUsd ?? 0,
        description: d.description ?? null,
        forkedAtMessage: d.lineage?.forkedAtMessage ?? null,
        children: [],
      });
      const tree = node(self);
      const nodes = new Map([[sid, tree]]);
      let frontier = [sid];
      // Breadth-first down the forks: one query per level.
      while (frontier.length > 0 && nodes.size < 100_000) {
        const children = await this.sessions
          .find({ 'lineage.parentSessionId': { $in: frontier } }, { projection: { createdAt: 1, totalCostUsd: 1, description: 1, lineage: 1 } })
          .sort({ createdAt: 1, _id: 1 })
          .toArray();
        frontier = [];
        for (const c of children) {
          if (nodes.has(c._id)) continue;
          const n = node(c);
          nodes.get(c.lineage.parentSessionId as string)?.children.push(n);
          nodes.set(c._id, n);
          frontier.push(c._id);
        }
      }
      return { ancestors, tree };
    });
  }

  // -------------------------------------------------------------------------
  // Cost report

  /**
   * Streams the matching ledger entries (sorted by session, so distinct sessions per group are
   * counted with one remembered id per group) and sums integer micro-dollars: memory grows with
   * the number of groups, not runs. Each run counts once per group it falls in: a run with two tags
   * (or two models) appears in both rows, and `total` counts it once. Runs with no tag, model or
   * pipeline are grouped under `(none)`. By model, a run's cost per model is its `usageByModel[m].costUSD`
   * (a run without usage is put under its `model` with its `costUsd`).
   */
  async costReport(query: CostReportQuery): Promise<CostReport> {
    const q = v.costQuery(query);
    return guard(async () => {
      const filter: Filter<RunDoc> = {};
      if (q.since || q.until) filter.startedAt = { ...(q.since ? { $gte: q.since } : {}), ...(q.until ? { $lt: q.until } : {}) };
      if (q.tags) filter.tags = { $in: q.tags };
      const cursor = this.runs
        .find(filter, { projection: { sessionId: 1, costUsd: 1, usageByModel: 1, tags: 1, model: 1, pipeline: 1, day: 1, month: 1 } })
        .sort({ sessionId: 1 })
        .batchSize(1000);
      const groups = new Map<string, Acc>();
      const total = newAcc('total');
      const add = (acc: Acc, sessionId: string, costMicro: number, usage: readonly ModelUsage[]) => {
        acc.micro += costMicro;
        acc.runs += 1;
        if (acc.lastSession !== sessionId) {
          acc.sessions += 1;
          acc.lastSession = sessionId;
        }
        for (const u of usage) {
          acc.inputTokens += u.inputTokens ?? 0;
          acc.outputTokens += u.outputTokens ?? 0;
          acc.cacheReadInputTokens += u.cacheReadInputTokens ?? 0;
          acc.cacheCreationInputTokens += u.cacheCreationInputTokens ?? 0;
        }
      };
      const group = (key: string) => {
        let acc = groups.get(key);
        if (!acc) {
          acc = newAcc(key);
          groups.set(key, acc);
        }
        return acc;
      };
      try {
        for await (const r of cursor) {
          const usage = r.usageByModel ?? [];
          const costMicro = micro(r.costUsd ?? 0);
          add(total, r.sessionId, costMicro, usage);
          if (q.by === 'total') continue;
          if (q.by === 'model') {
            if (usage.length === 0) add(group(r.model ?? NONE), r.sessionId, costMicro, []);
            for (const u of usage) add(group(u.model), r.sessionId, micro(u.costUSD ?? 0), [u]);
            continue;
          }
          let keys: string[];
          if (q.by === 'tag') {
            const t = r.tags ?? [];
            keys = q.tags ? t.filter((x) => q.tags?.includes(x)) : t.length > 0 ? t : [NONE];
          } else if (q.by === 'day') keys = [r.day];
          else if (q.by === 'month') keys = [r.month];
          else keys = [r.pipeline ?? NONE];
          for (const k of new Set(keys)) add(group(k), r.sessionId, costMicro, usage);
        }
      } finally {
        await cursor.close().catch(() => undefined);
      }
      const rows = q.by === 'total' ? [toRow(total)] : [...groups.values()].map(toRow);
      if (q.by === 'day' || q.by === 'month') rows.sort((a, b) => a.key.localeCompare(b.key));
      else rows.sort((a, b) => b.costUsd - a.costUsd || a.key.localeCompare(b.key));
      return { by: q.by, rows, total: toRow(total) };
    });
  }
}

const NONE = '(none)';

interface Acc {
  key: string;
  micro: number;
  runs: number;
  sessions: number;
  lastSession: string | null;
  inputTokens: number;
  outputTokens: number;
  cacheReadInputTokens: number;
  cacheCreationInputTokens: number;
}

function newAcc(key: string): Acc {
  return { key, micro: 0, runs: 0, sessions: 0, lastSession: null, inputTokens: 0, outputTokens: 0, cacheReadInputTokens: 0, cacheCreationInputTokens: 0 };
}

function toRow(a: Acc): CostRow {
  return {
    key: a.key,
    costUsd: a.micro / MICRO,
    runs: a.runs,
    sessions: a.sessions,
    inputTokens: a.inputTokens,
    outputTokens: a.outputTokens,
    cacheReadInputTokens: a.cacheReadInputTokens,
    cacheCreationInputTokens: a.cacheCreationInputTokens,
  };
}

/** The run id under which `saveSession` stores a session's messages. */
export function savedRunId(sessionId: string): string {
  return `saved:${sessionId}`;
}
