/**
 * The MongoDB implementation of `SessionStore`; only `src/store/` touches the `mongodb` driver.
 * It runs on MongoDB 7/8 and on FerretDB v1 (the local server), so it uses no transactions, TTL
 * indexes, pipeline updates or aggregation: writes are idempotent upserts and inserts with
 * deterministic ids, and reports are an index-backed find plus a streaming reduction here.
 *
 * Collections (see `README` for one example of each document):
 * - `sessions`: one document per session, `_id` = session id.
 * - `messages`: one document per CLI line, `_id` = `${runId}:${seq}`, the line
 *   kept verbatim in `raw`; ordered by (`runAt`, `runId`, `seq`).
 * - `runs`: the run ledger, `_id` = run id, written with `$set` of the whole entry.
 * - `run_starts`: when each run first appended messages (its `runAt`), set once.
 * - `conversations`: each conversation key's current session, `_id` = the key.
 * - `scope_latest`: each scope's most recently updated session (`continue`), `_id` = the scope.
 * - `transcript_files`: each session's current transcript file and those not yet pruned, `_id` = session id.
 * - `session_leases` and `session_lease_heads`: one run per session at a time (`lease.ts`).
 * - `run_briefs`: each session's ledger in brief, what its totals derive from, `_id` = session id (`run-briefs.ts`).
 * - GridFS buckets `transcripts` (one current file per session, gzip, chunks by key) and
 *   `message_overflow` (lines too big for one document, id = the message id).
 * - `deletion_log`, `tombstones`, `retention_state` and archive buckets: `retention.ts`.
 *
 * What a step reads is looked up by `_id` (FerretDB v1 serves only those from an index, see
 * tools/ferretdb-server/patches): the lease, its attempts, the transcript, `continue`, the session
 * and its ledger in brief. The message counts of a session whose messages were removed are scans.
 *
 * Each concern lives in its own module, working on one {@link StoreContext}; `MongoStore` composes them.
 */
import { MongoClient } from 'mongodb';
import { invalidInput } from '../model/failures.js';
import * as cleanup from './cleanup.js';
import * as conversations from './conversations.js';
import { createContext, type StoreContext } from './context.js';
import * as costs from './cost-report.js';
import { ensureIndexes } from './indexes.js';
import * as lease from './lease.js';
import * as ledger from './ledger.js';
import { recompute } from './derived.js';
import { backfillBriefs, rebuildBriefs } from './run-briefs.js';
import * as lineage from './lineage.js';
import * as messages from './messages.js';
import { Retention } from './retention.js';
import * as saved from './saved-sessions.js';
import { holdReason, type DeletionRecord, type RestoreResult, type Tombstone } from '../model/retention.js';
import { guard, notFound } from './errors.js';
import { advanceScopeOf } from './scope-pointers.js';
import * as search from './search.js';
import * as sessions from './sessions.js';
import * as transcripts from './transcripts.js';
import { verifyCollections, verifySessions } from './verify.js';
import { COLLECTIONS } from './documents.js';
import {
  type CleanupOptions,
  type CleanupResult,
  type ConversationRecord,
  type CostReport,
  type CostReportQuery,
  type LineageResult,
  type ListOptions,
  type LoadResult,
  type MessageInput,
  type RecordRunOptions,
  type Page,
  type RunLedgerEntry,
  type RunQuery,
  type SaveSessionOptions,
  type SearchQuery,
  type SessionMetadata,
  type SessionUpsert,
  type StoredMessage,
  type AcquireLeaseInput,
  type LeaseAttempt,
  type LeaseMark,
  type LeaseState,
  type SessionLease,
  type VerifyReport,
} from '../model/session.js';
import { type RunRecord, type SessionStore } from './types.js';
import * as v from '../model/validation/index.js';

export { COLLECTIONS } from './documents.js';
export { savedRunId } from './saved-sessions.js';

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
   * Bulk-insert complete session metadata (migration from another store, fixtures, benchmarks):
   * unordered inserts by session id, an existing id counts as a duplicate and is left as it is.
   */
  importSessions(sessions: readonly SessionMetadata[]): Promise<{ inserted: number; duplicates: number }>;
}

/** MongoDB's document limit is 16 MiB; a line above this goes to GridFS. */
export const DEFAULT_INLINE_MESSAGE_LIMIT = 15 * 1024 * 1024;

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
  const inlineLimit =
    o.inlineMessageLimitBytes === undefined ? DEFAULT_INLINE_MESSAGE_LIMIT : v.count(o.inlineMessageLimitBytes, 'inlineMessageLimitBytes', DEFAULT_INLINE_MESSAGE_LIMIT);
  const ownsClient = o.client === undefined;
  const client = o.client ?? new MongoClient(o.uri as string, { serverSelectionTimeoutMS: o.serverSelectionTimeoutMS ?? 5000 });
  return new MongoStore(client, ownsClient, createContext(client.db(dbName), o.now ?? (() => new Date()), inlineLimit));
}

/** The MongoDB session store: each method is one concern's module applied to this store's context. */
class MongoStore implements MongoSessionStore {
  private readonly retention: Retention;

  constructor(
    private readonly client: MongoClient,
    private readonly ownsClient: boolean,
    private readonly c: StoreContext,
  ) {
    this.retention = new Retention({
      db: c.db,
      now: () => c.clock(),
      store: this,
      forgetRunStarts: (id) => messages.forgetRunStarts(c, id),
      savedRunId: saved.savedRunId,
      advanceScope: (id) => advanceScopeOf(c, id),
      rebuildBriefs: (ids) => rebuildBriefs(c, ids),
    });
  }

  async ensureIndexes(): Promise<void> {
    await ensureIndexes(this.c);
    await guard(async () => {
      await lease.backfillLeaseHeads(this.leases);
      await backfillBriefs(this.c);
    });
  }

  ping(): Promise<void> {
    return guard(async () => {
      await this.c.db.command({ ping: 1 });
    });
  }

  async close(): Promise<void> {
    if (this.ownsClient) await this.client.close();
  }

  // Sessions
  upsertSession(input: SessionUpsert): Promise<void> {
    return sessions.upsertSession(this.c, input);
  }
  getSession(sessionId: string): Promise<SessionMetadata | null> {
    return sessions.getSession(this.c, sessionId);
  }
  loadSession(sessionId: string): Promise<LoadResult> {
    return sessions.loadSession(this.c, sessionId);
  }
  tagSession(sessionId: string, tags: string[]): Promise<SessionMetadata> {
    return sessions.tagSession(this.c, sessionId, tags);
  }
  untagSession(sessionId: string, tags: string[]): Promise<SessionMetadata> {
    return sessions.untagSession(this.c, sessionId, tags);
  }
  setDescription(sessionId: string, description: string | null): Promise<SessionMetadata> {
    return sessions.setDescription(this.c, sessionId, description);
  }
  latestSessionInScope(scope: string): Promise<SessionMetadata | null> {
    return sessions.latestSessionInScope(this.c, scope);
  }
  importSessions(list: readonly SessionMetadata[]): Promise<{ inserted: number; duplicates: number }> {
    return sessions.importSessions(this.c, list);
  }
  saveSession(sessionId: string, list: readonly unknown[], options?: SaveSessionOptions): Promise<SessionMetadata> {
    return saved.saveSession(this.c, sessionId, list, options);
  }

  // Messages and transcripts
  appendMessages(sessionId: string, runId: string, batch: MessageInput[]): Promise<{ inserted: number; duplicates: number }> {
    return messages.appendMessages(this.c, sessionId, runId, batch);
  }
  discardRunMessages(sessionId: string, runId: string): Promise<number> {
    return messages.discardRunMessages(this.c, sessionId, runId);
  }
  saveTranscript(sessionId: string, runId: string, data: Uint8Array, options?: { prune?: boolean }): Promise<void> {
    return transcripts.saveTranscript(this.c, sessionId, runId, data, options);
  }
  pruneTranscripts(sessionId: string): Promise<number> {
    return transcripts.pruneTranscripts(this.c, sessionId);
  }
  loadTranscript(sessionId: string): Promise<Uint8Array | null> {
    return transcripts.loadTranscript(this.c, sessionId);
  }
  transcriptDigest(sessionId: string): Promise<string | null> {
    return transcripts.transcriptDigest(this.c, sessionId);
  }

  // Ledger and reports
  recordRun(entry: RunLedgerEntry, options?: RecordRunOptions): Promise<number> {
    return ledger.recordRun(this.c, entry, options);
  }
  startRun(entry: RunLedgerEntry, options?: RecordRunOptions): Promise<RunRecord> {
    return ledger.startRun(this.c, entry, options);
  }
  getRun(runId: string): Promise<RunLedgerEntry | null> {
    return ledger.getRun(this.c, runId);
  }
  runsOfStep(stepKey: string, options?: { attempts?: number }): Promise<RunLedgerEntry[]> {
    return ledger.runsOfStep(this.c, stepKey, options);
  }
  runsOfWorkflows(workflowIds: readonly string[]): Promise<RunLedgerEntry[]> {
    return ledger.runsOfWorkflows(this.c, workflowIds);
  }
  messagesOfRun(runId: string, afterSeq?: number, limit?: number): Promise<StoredMessage[]> {
    return messages.messagesOfRun(this.c, runId, afterSeq, limit);
  }
  listRuns(query?: RunQuery): AsyncIterable<RunLedgerEntry> {
    return ledger.listRuns(this.c, query);
  }
  async costReport(query: CostReportQuery): Promise<CostReport> {
    const report = await costs.costReport(this.c, query);
    return guard(async () => this.retention.notePurge(report, v.costQuery(query).since));
  }

  // Conversations
  recordConversation(input: { key: string; sessionId: string; exchanges: number }): Promise<void> {
    return conversations.recordConversation(this.c, input);
  }
  getConversation(key: string): Promise<ConversationRecord | null> {
    return conversations.getConversation(this.c, key);
  }
  listConversations(limit?: number): Promise<ConversationRecord[]> {
    return conversations.listConversations(this.c, limit);
  }

  // One run per session at a time
  private get leases(): lease.LeaseCollections {
    return { leases: this.c.db.collection<lease.LeaseDoc>(COLLECTIONS.leases), heads: this.c.db.collection<lease.LeaseHeadDoc>(COLLECTIONS.leaseHeads) };
  }
  async tryAcquireLease(input: AcquireLeaseInput, expired?: (current: LeaseState) => boolean): Promise<LeaseAttempt> {
    const sid = v.sessionId(input.sessionId);
    const holder = v.runId(input.holder);
    const ttlMs = v.count(input.ttlMs, 'ttlMs', 7 * 86_400_000);
    return guard(() => lease.tryAcquireLease(this.leases, { sessionId: sid, holder, stepKey: input.stepKey, ttlMs }, this.c.clock(), expired));
  }
  renewLease(held: SessionLease, ttlMs: number): Promise<boolean> {
    return guard(() => lease.renewLease(this.leases, held, ttlMs, this.c.clock()));
  }
  holdsLease(held: SessionLease): Promise<boolean> {
    return guard(() => lease.holdsLease(this.leases, held));
  }
  releaseLease(held: SessionLease): Promise<void> {
    return guard(() => lease.releaseLease(this.leases, held));
  }
  async liveLease(sessionId: string): Promise<LeaseState | null> {
    return (await this.leaseMark(sessionId)).live;
  }
  leaseMark(sessionId: string): Promise<LeaseMark> {
    const sid = v.sessionId(sessionId);
    return guard(() => lease.leaseMark(this.leases, sid, this.c.clock()));
  }
  leaseMovedSince(mark: LeaseMark): Promise<boolean> {
    const sid = v.sessionId(mark?.sessionId);
    return guard(() => lease.leaseMovedSince(this.leases, { ...mark, sessionId: sid }, this.c.clock()));
  }

  // Consistency
  verify(options: { repair?: boolean } = {}): Promise<VerifyReport> {
    return guard(() =>
      verifySessions(
        verifyCollections(this.c.db, COLLECTIONS),
        {
          now: () => this.c.clock(),
          discardRunMessages: (sid, rid) => this.discardRunMessages(sid, rid),
          recompute: async (sid) => {
            // The briefs are the ledger's: rewritten from it before the totals are.
            await rebuildBriefs(this.c, [sid]);
            await recompute(this.c, sid, null);
          },
          settleRun: async (sid, rid) => {
            const run = await this.getRun(rid);
            if (!run || run.status !== 'running') return;
            await this.discardRunMessages(sid, rid);
            // Its spend is unknown here: recorded as an estimate of what the entry held.
            await this.recordRun({ ...run, status: 'failed', failureType: 'Crashed', estimated: true, finishedAt: this.c.clock() });
          },
        },
        options,
      ),
    );
  }

  // Finding and deleting
  listSessions(options?: ListOptions): Promise<Page<SessionMetadata>> {
    return search.listSessions(this.c, options);
  }
  search(query: SearchQuery): Promise<Page<SessionMetadata>> {
    return search.search(this.c, query);
  }
  getLineage(sessionId: string): Promise<LineageResult> {
    return lineage.getLineage(this.c, sessionId);
  }
  deleteSession(sessionId: string): Promise<boolean> {
    return cleanup.deleteSession(this.c, this.retention, sessionId);
  }
  cleanupOldSessions(options?: CleanupOptions): Promise<CleanupResult> {
    return cleanup.cleanupOldSessions(this.retention, options);
  }

  // Retention
  async holdSession(sessionId: string, options: { reason: string; lineage?: boolean }): Promise<string[]> {
    const sid = v.sessionId(sessionId);
    const o = v.requireObject(options, 'options');
    const reason = holdReason(o.reason);
    const lineage = o.lineage === undefined ? false : v.bool(o.lineage, 'lineage');
    const ids = await guard(() => this.retention.holdTargets(sid, lineage));
    if (ids.length === 0) throw notFound(sid);
    return guard(() => this.retention.setHold(ids, { reason, heldAt: this.c.clock() }));
  }
  async releaseSession(sessionId: string, options: { lineage?: boolean } = {}): Promise<string[]> {
    const sid = v.sessionId(sessionId);
    const o = v.optionalObject(options, 'options');
    const lineage = o.lineage === undefined ? false : v.bool(o.lineage, 'lineage');
    const ids = await guard(() => this.retention.holdTargets(sid, lineage));
    if (ids.length === 0) throw notFound(sid);
    return guard(() => this.retention.setHold(ids, null));
  }
  deletionLog(options: { limit?: number } = {}): Promise<DeletionRecord[]> {
    const limit = v.limit(v.optionalObject(options, 'options').limit);
    return guard(() => this.retention.listLog(limit));
  }
  getDeletionRecord(logId: string): Promise<DeletionRecord | null> {
    const id = v.name(logId, 'logId');
    return guard(() => this.retention.getLog(id));
  }
  getTombstone(sessionId: string): Promise<Tombstone | null> {
    const sid = v.sessionId(sessionId);
    return guard(() => this.retention.getTombstone(sid));
  }
  restoreSession(archiveRef: string): Promise<RestoreResult> {
    return guard(() => this.retention.restore(archiveRef));
  }
}
