/**
 * The session store's contract. Activities talk to this; only the `mongodb`
 * implementation in this folder touches the driver.
 */
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
import { type DeletionRecord, type RestoreResult, type Tombstone } from '../model/retention.js';

/** The end of a run whose start was recorded (`startRun`). */
export interface RunRecord {
  /** `recordRun` of the run's end: the first call derives from what the start left (nothing read), a retry reads. */
  record(entry: RunLedgerEntry, options?: RecordRunOptions): Promise<number>;
  /** Deletes the transcript versions the last `record` replaced, as its naming listed them (nothing read again; none, no command); answers how many went. */
  pruneReplaced(): Promise<number>;
}

export interface SessionStore {
  ensureIndexes(): Promise<void>;
  /** Check that the server answers (one round trip; it creates nothing). */
  ping(): Promise<void>;
  close(): Promise<void>;

  // One run per session at a time.
  /**
   * One try at a session's lease: taken when free, released, held by an earlier attempt of the same
   * step, or when `expired(current)` says so (default: past `expiresAt`).
   */
  tryAcquireLease(input: AcquireLeaseInput, expired?: (current: LeaseState) => boolean): Promise<LeaseAttempt>;
  /** Extends a held lease; false when it was taken over or released. */
  renewLease(lease: SessionLease, ttlMs: number): Promise<boolean>;
  /** The fence: whether the lease is still the session's current one. */
  holdsLease(lease: SessionLease): Promise<boolean>;
  releaseLease(lease: SessionLease): Promise<void>;
  /** The session's lease while a run holds it (not released, not expired), else null. */
  liveLease(sessionId: string): Promise<LeaseState | null>;
  /** The session's lease as a reader sees it now, to ask after its read whether a run may have written meanwhile. */
  leaseMark(sessionId: string): Promise<LeaseMark>;
  /** Whether a run may have written the session since `mark`: a claim since (any run claims before it writes), or its lease live again. */
  leaseMovedSince(mark: LeaseMark): Promise<boolean>;

  // Writes used by activities; each is idempotent.
  /** Create or update a session's metadata; tags are added, never removed. */
  upsertSession(input: SessionUpsert): Promise<void>;
  /** Insert a run's messages with ids `${runId}:${seq}`; duplicates count as done. */
  appendMessages(sessionId: string, runId: string, batch: MessageInput[]): Promise<{ inserted: number; duplicates: number }>;
  /** Remove the messages of runs that did not complete (a failed attempt of a retried step). */
  discardRunMessages(sessionId: string, runId: string): Promise<number>;
  /**
   * Write a ledger entry (upsert by runId, refused if the run is another session's) and the session's
   * totals derived from the ledger. With `transcript`, the session's transcript is stored and made
   * current first (the previous ones stay until `pruneTranscripts`; it answers how many there are);
   * with `session`, the session's own fields are upserted in the same write; `check` (a fence) is
   * made beside the reads, and nothing is written unless it passes.
   */
  recordRun(entry: RunLedgerEntry, options?: RecordRunOptions): Promise<number>;
  /**
   * `recordRun` of a run's start, for a run that holds its session's lease: its end's write derives
   * the session's fields from what the start left, without reading them again.
   */
  startRun(entry: RunLedgerEntry, options?: RecordRunOptions): Promise<RunRecord>;
  getRun(runId: string): Promise<RunLedgerEntry | null>;
  /** Ledger entries of one step, oldest first (its attempts); with `attempts`, those of attempts 1 to `attempts`, read by key. */
  runsOfStep(stepKey: string, options?: { attempts?: number }): Promise<RunLedgerEntry[]>;
  /** Ledger entries of these workflows (every step and attempt), oldest first. */
  runsOfWorkflows(workflowIds: readonly string[]): Promise<RunLedgerEntry[]>;
  /** A run's stored messages after sequence number `afterSeq`, in order, at most `limit` (default 500). */
  messagesOfRun(runId: string, afterSeq?: number, limit?: number): Promise<StoredMessage[]>;
  /** Record a conversation's session after its exchange `exchanges`; an older exchange never overwrites a newer one. */
  recordConversation(input: { key: string; sessionId: string; exchanges: number }): Promise<void>;
  getConversation(key: string): Promise<ConversationRecord | null>;
  /** Conversations, most recently used first. */
  listConversations(limit?: number): Promise<ConversationRecord[]>;
  /** Ledger entries matching the query, oldest first, streamed (the console reduces them). */
  listRuns(query?: RunQuery): AsyncIterable<RunLedgerEntry>;
  /** The most recently updated session of a scope (`continue`), or null. */
  latestSessionInScope(scope: string): Promise<SessionMetadata | null>;
  /**
   * Store the CLI's JSONL transcript of a session (GridFS), replacing the previous one; with
   * `prune: false` (default true) the previous ones stay until `pruneTranscripts`.
   */
  saveTranscript(sessionId: string, runId: string, data: Uint8Array, options?: { prune?: boolean }): Promise<void>;
  /** Delete every transcript of the session but the newest; returns how many went. */
  pruneTranscripts(sessionId: string): Promise<number>;
  loadTranscript(sessionId: string): Promise<Uint8Array | null>;
  /** SHA-256 (hex) of the session's current transcript, to skip reading one this machine has; null when unknown. */
  transcriptDigest(sessionId: string): Promise<string | null>;

  // Whole sessions: save, load, list, search, clean up, tag, describe, lineage.
  saveSession(sessionId: string, messages: readonly unknown[], options?: SaveSessionOptions): Promise<SessionMetadata>;
  loadSession(sessionId: string): Promise<LoadResult>;
  getSession(sessionId: string): Promise<SessionMetadata | null>;
  listSessions(options?: ListOptions): Promise<Page<SessionMetadata>>;
  search(query: SearchQuery): Promise<Page<SessionMetadata>>;
  cleanupOldSessions(options?: CleanupOptions): Promise<CleanupResult>;
  deleteSession(sessionId: string): Promise<boolean>;
  tagSession(sessionId: string, tags: string[]): Promise<SessionMetadata>;
  untagSession(sessionId: string, tags: string[]): Promise<SessionMetadata>;
  setDescription(sessionId: string, description: string | null): Promise<SessionMetadata>;
  getLineage(sessionId: string): Promise<LineageResult>;

  costReport(query: CostReportQuery): Promise<CostReport>;

  // Retention.
  /** Put a session (with `lineage`, its whole lineage) on hold; returns the ids held. */
  holdSession(sessionId: string, options: { reason: string; lineage?: boolean }): Promise<string[]>;
  /** Release a hold (with `lineage`, on the whole lineage); returns the ids released. */
  releaseSession(sessionId: string, options?: { lineage?: boolean }): Promise<string[]>;
  /** Deletion-log records, newest first. */
  deletionLog(options?: { limit?: number }): Promise<DeletionRecord[]>;
  getDeletionRecord(logId: string): Promise<DeletionRecord | null>;
  /** The tombstone of a deleted session, or null. */
  getTombstone(sessionId: string): Promise<Tombstone | null>;
  /** Bring an archived session back whole: metadata, messages, ledger entries and transcript. */
  restoreSession(archiveRef: string): Promise<RestoreResult>;

  /**
   * Checks the store's invariants over every session not in flight (no run left `running`, no
   * message of a failed run, message counts and totals equal to messages and ledger); with
   * `repair`, settles what a crash left behind.
   */
  verify(options?: { repair?: boolean }): Promise<VerifyReport>;
}
