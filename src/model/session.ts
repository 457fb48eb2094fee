/** Sessions, messages, the run ledger, search and cost reports: what the store keeps and answers. Types only. */
import { type FailureType } from './failures.js';
import { type ClaudeMode, type ModelUsage, type RunStatus } from './run.js';
import { type ArchiveTarget, type CleanupTrigger, type SessionHold } from './retention.js';

export const SESSION_STATUSES = ['active', 'completed', 'failed'] as const;
export type SessionStatus = (typeof SESSION_STATUSES)[number];

/** Which pipeline, workflow and step produced a session or a run. */
export interface Origin {
  pipeline?: string;
  workflowId?: string;
  step?: string;
}

export interface Lineage {
  /** The session this one was forked from; null for a root. */
  parentSessionId: string | null;
  /** How many of the parent's messages existed when it was forked. */
  forkedAtMessage: number | null;
  /** The root of the lineage (itself for a root). */
  rootSessionId: string;
}

/** Which ledger entries `listRuns` streams; every field narrows. */
export interface RunQuery {
  sessionId?: string;
  /** Runs started on or after this instant. */
  since?: Date;
  /** Runs started before this instant. */
  until?: Date;
  /** Runs of sessions with any of these tags. */
  tags?: string[];
}

export interface SessionMetadata {
  sessionId: string;
  createdAt: Date;
  updatedAt: Date;
  /** Stored messages (all runs). */
  messageCount: number;
  /** Assistant messages (what `countTurns` counts). */
  turnCount: number;
  /** Latest model last. */
  models: string[];
  model: string | null;
  tags: string[];
  description: string | null;
  summary: string | null;
  status: SessionStatus;
  /** The working directory the session ran in: the scope of `continue`. */
  scope: string | null;
  lineage: Lineage;
  origin: Origin;
  /** This session's own spend: the sum of its runs (never a fork parent's). */
  totalCostUsd: number;
  /** The lineage figure the CLI reports for its latest run (`total_cost_usd`). */
  lineageCostUsd: number;
  runCount: number;
  /** Set while the session is on hold: no cleanup deletes it. */
  hold?: SessionHold | null;
}

/** One stored message: the CLI's line, kept byte-identical. */
export interface StoredMessage {
  sessionId: string;
  runId: string;
  seq: number;
  type: string;
  subtype: string | null;
  /** The exact JSON line the CLI printed. */
  raw: string;
}

/** One message to append: its position in the run and its exact JSON line. */
export interface MessageInput {
  seq: number;
  raw: string;
}

/** One `claude` run in the ledger; `runId` is its key, so writing it twice changes nothing. */
export interface RunLedgerEntry {
  runId: string;
  sessionId: string;
  mode: ClaudeMode;
  /** sha256 of the prompt, hex. */
  promptDigest: string;
  status: RunStatus | 'running';
  failureType: FailureType | null;
  subtype: string | null;
  /** This run's spend. */
  costUsd: number;
  /** The CLI's lineage figure at the end of this run. */
  cumulativeCostUsd: number;
  usageByModel: Record<string, ModelUsage>;
  numTurns: number;
  messageCount: number;
  exitCode: number | null;
  startedAt: Date;
  finishedAt: Date | null;
  durationMs: number;
  /** The step this run belongs to (stable over retries): workflowId/step index. */
  stepKey: string | null;
  attempt: number;
  /** Denormalised for reports: UTC `YYYY-MM-DD` and `YYYY-MM` of `startedAt`. */
  day: string;
  month: string;
  tags: string[];
  model: string | null;
  pipeline: string | null;
  workflowId: string | null;
  /** First assistant text of the run, 200 characters (a completed step's recorded outcome). */
  summary?: string | null;
  /** The CLI's final text, 2,000 characters. */
  resultText?: string | null;
  /** The spend is an estimate from the tokens the attempt was seen to send and receive (a lost attempt). */
  estimated?: boolean;
  /**
   * Assistant messages among the `messageCount` this run stored. When every kept run of a session
   * has it, the session's counts and summary are read from its ledger instead of its messages.
   */
  assistantMessages?: number;
}

export interface Page<T> {
  items: T[];
  /** Pass back to get the next page; null at the end. */
  nextCursor: string | null;
}

export interface ListOptions {
  /** Page size; default 50, at most 1000. */
  limit?: number;
  cursor?: string | null;
}

/** What a session search can be sorted by. */
export const SESSION_SORTS = ['updatedAt', 'createdAt', 'totalCostUsd'] as const;
export type SessionSort = (typeof SESSION_SORTS)[number];

export interface SearchQuery extends ListOptions {
  /** Sort key; default `updatedAt` (with the session id breaking ties). */
  sort?: SessionSort;
  /** Sort order; default `desc`. */
  order?: 'asc' | 'desc';
  /** Sessions with any of these tags. */
  tags?: string[];
  /** Sessions with all of these tags. */
  allTags?: string[];
  /** createdAt >= after. */
  after?: Date;
  /** createdAt <= before. */
  before?: Date;
  updatedAfter?: Date;
  updatedBefore?: Date;
  /** totalCostUsd >= minCost. */
  minCost?: number;
  /** totalCostUsd <= maxCost. */
  maxCost?: number;
  /** Sessions whose models include this one. */
  model?: string;
  status?: SessionStatus;
  scope?: string;
  /** Only sessions on hold (true) or not on hold (false). */
  held?: boolean;
}

export interface SaveSessionOptions {
  tags?: string[];
  description?: string;
}

export interface LoadedSession {
  metadata: SessionMetadata;
  /** The messages in arrival order, streamed from the database. */
  messages(): AsyncIterable<StoredMessage>;
}

export type LoadResult = { found: true; session: LoadedSession } | { found: false; sessionId: string };

export interface CleanupOptions {
  /** Delete sessions not updated for this many days; default 30. */
  maxAgeDays?: number;
  /** Never delete sessions carrying any of these tags; default none. */
  keepTags?: string[];
  /** Report what would be deleted, delete nothing; default false. */
  dryRun?: boolean;
  /** Sessions deleted per batch; default 100. */
  batchSize?: number;
  /** Archive each session before deleting it; default none. */
  archive?: ArchiveTarget;
  /** Also remove ledger entries of deleted sessions whose runs started more than this many days ago; default never. */
  purgeLedgerOlderThanDays?: number;
  /** The deletion-log record's id (a retry passes the same one); default a new one. */
  logId?: string;
  /** Recorded in the deletion log; default `{ kind: 'command', name: 'cleanupOldSessions' }`. */
  trigger?: CleanupTrigger;
  /** Called after each batch (the cleanup activity heartbeats here). */
  onBatch?: (progress: { deleted: number; sessionIds: string[] }) => void | Promise<void>;
}

interface CleanupOutcome {
  /** Deleted (or, in a dry run, would-be-deleted) session ids. */
  sessionIds: string[];
  /** The deletion-log record of this cleanup. */
  logId: string;
  /** Sessions passed over because a run was going on in them or they changed during the cleanup. */
  skippedBusy: number;
}

/** A dry run reports `wouldDelete`; a real one `deletedCount`. */
export type CleanupResult =
  | (CleanupOutcome & { dryRun: true; wouldDelete: number })
  | (CleanupOutcome & {
      dryRun: false;
      deletedCount: number;
      /** Bytes of messages and transcripts removed from the store. */
      bytesFreed: number;
      /** One archive reference per deleted session (for `restoreSession`); empty without an archive. */
      archiveRefs: string[];
      /** Ledger entries removed by `purgeLedgerOlderThanDays`. */
      ledgerEntriesPurged: number;
    });

export interface LineageNode {
  sessionId: string;
  createdAt: Date;
  totalCostUsd: number;
  description: string | null;
  forkedAtMessage: number | null;
  children: LineageNode[];
}

export interface LineageResult {
  /** From the root down to the parent of the session asked for. */
  ancestors: SessionMetadata[];
  /** The session asked for and its forks, as a tree. */
  tree: LineageNode;
  /** The first missing ancestor, when it was deleted (its tombstone's date, null if unknown). */
  parentDeleted?: { sessionId: string; deletedAt: Date | null } | null;
}

export const COST_DIMENSIONS = ['total', 'tag', 'model', 'day', 'month', 'pipeline'] as const;
export type CostDimension = (typeof COST_DIMENSIONS)[number];

export interface CostReportQuery {
  by: CostDimension;
  /** Runs started on or after this instant. */
  since?: Date;
  /** Runs started before this instant. */
  until?: Date;
  /** Only runs of sessions with any of these tags. */
  tags?: string[];
}

export interface CostRow {
  /** The group's key (tag, model id, `YYYY-MM-DD`, `YYYY-MM`, pipeline name, or `total`). */
  key: string;
  /** Exact sum of the group's runs. */
  costUsd: number;
  /** The part of `costUsd` estimated for attempts that were lost (not reported by the CLI). */
  estimatedUsd: number;
  runs: number;
  sessions: number;
  inputTokens: number;
  outputTokens: number;
  cacheReadInputTokens: number;
  cacheCreationInputTokens: number;
}

export interface CostReport {
  by: CostDimension;
  rows: CostRow[];
  total: CostRow;
  /** Set when the period reaches back before a ledger purge: entries of runs started before this were removed. */
  ledgerPurgedBefore?: Date | null;
}

/** Fields a run writes into its session's metadata (everything else is derived). */
export interface SessionUpsert {
  sessionId: string;
  tags?: string[];
  description?: string | null;
  scope?: string | null;
  origin?: Origin;
  /** For a fork: its parent and the point it was forked from. */
  parentSessionId?: string | null;
  forkedAtMessage?: number | null;
  status?: SessionStatus;
}

/** A fork's parent, with the root of its lineage. */
export interface ForkParent {
  sessionId: string;
  rootSessionId: string;
}

/** What `recordRun` writes beside the ledger entry. */
export interface RecordRunOptions {
  /** The session's transcript after the run, stored and made current before the entry; default none. */
  transcript?: Uint8Array;
  /** The session's own fields, upserted in the same write as its totals; default none. */
  session?: SessionUpsert;
  /**
   * The session is new: nothing of it is stored, so nothing is read (a step's first claim of the session
   * it creates: its id is the workflow's, known to no one before); default false.
   */
  fresh?: boolean;
  /** The parent of a fork's `session` as the caller read it (its lineage's root is not read again); default read. */
  parent?: ForkParent;
  /** A precondition (a fence), made beside the reads: if it throws, nothing is named or written; default none. */
  check?: () => Promise<void>;
}

/**
 * A conversation as the store keeps it: its key's current session, so a closed conversation re-opened with the
 * same key resumes where it left off, whichever worker runs it. `exchanges` counts prompt-and-reply pairs.
 */
export interface ConversationRecord {
  key: string;
  sessionId: string;
  exchanges: number;
  createdAt: Date;
  updatedAt: Date;
}

/** A held session lease: its fencing token and holder (one run per session at a time). */
export interface SessionLease {
  sessionId: string;
  token: number;
  holder: string;
  stepKey: string | null;
  expiresAt: Date;
}

/** What an acquirer asks for. */
export interface AcquireLeaseInput {
  sessionId: string;
  /** A run id (`<stepKey>#<attempt>`). */
  holder: string;
  /** Another attempt of the same step takes over at once. */
  stepKey: string | null;
  /** How long the lease lives without renewal. */
  ttlMs: number;
}

/** The lease as another run sees it. */
export interface LeaseState extends SessionLease {
  released: boolean;
}

/** A session's lease as a reader saw it, to tell after its read whether a run may have written meanwhile. */
export interface LeaseMark {
  sessionId: string;
  /** The lease while a run holds it (not released, not expired), else null. */
  live: LeaseState | null;
  /** The highest token claimed: any claim moves it before its run writes. */
  head: number;
  /** The next look reads the lease too: its holder may still write (expired, not released), or the head's claim is not inserted yet. */
  unsettled: boolean;
}

/** `first`: no run held the session before (this claim is its first), so a session this run creates has nothing stored yet. */
export type LeaseAttempt = { acquired: true; lease: SessionLease; first: boolean } | { acquired: false; current: LeaseState };

/** What `sessions verify` found wrong in one session. */
export interface StoreProblem {
  sessionId: string;
  runId?: string;
  /** `runStuckRunning`, `failedRunMessages`, `messageCount`, `totalCost` or `status`. */
  kind: 'runStuckRunning' | 'failedRunMessages' | 'messageCount' | 'totalCost' | 'status';
  message: string;
}

export interface VerifyReport {
  sessionsChecked: number;
  /** Sessions a run holds right now: not checked. */
  sessionsInFlight: number;
  problems: StoreProblem[];
  /** Problems settled by `repair`. */
  repaired: number;
}
