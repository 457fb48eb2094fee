/** The stored documents and their mapping to the store's types. */
import { type ObjectId } from 'mongodb';
import { type ModelUsage } from '../model/run.js';
import { type Origin, type RunLedgerEntry, type SessionMetadata, type SessionStatus } from '../model/session.js';
import { unitsToUsd, usdUnits } from '../model/formats.js';

export const COLLECTIONS = {
  sessions: 'sessions',
  messages: 'messages',
  runs: 'runs',
  runStarts: 'run_starts',
  conversations: 'conversations',
  scopes: 'scope_latest',
  /** Each session's transcript files (`transcripts.ts`): the current one and those not yet pruned. */
  transcriptFiles: 'transcript_files',
  transcripts: 'transcripts',
  overflow: 'message_overflow',
  /** Retention (`retention.ts`): one record per cleanup, one tombstone per deleted session, the ledger purge horizon. */
  deletionLog: 'deletion_log',
  tombstones: 'tombstones',
  retention: 'retention_state',
  leases: 'session_leases',
  /** Each session's highest claimed lease token (`lease.ts`). */
  leaseHeads: 'session_lease_heads',
  /** Each session's ledger in brief, what its totals derive from (`run-briefs.ts`). */
  runBriefs: 'run_briefs',
} as const;

/** Session metadata as stored: the id is `_id`. */
export type SessionDoc = Omit<SessionMetadata, 'sessionId'> & { _id: string };

export interface MessageDoc {
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

export interface ModelUsageDoc extends ModelUsage {
  model: string;
}

/** Model ids may contain `.`, which FerretDB refuses as a key: usage is stored as an array. */
export type RunDoc = Omit<RunLedgerEntry, 'runId' | 'usageByModel'> & { _id: string; usageByModel: ModelUsageDoc[] };

/** A conversation key's current session: `_id` = the key. */
export interface ConversationDoc {
  _id: string;
  sessionId: string;
  exchanges: number;
  createdAt: Date;
  updatedAt: Date;
}

/** A scope's most recently updated session (`continue`): `_id` = the scope; `sessionId` '' when it has none. */
export interface ScopePointerDoc {
  _id: string;
  sessionId: string;
  updatedAt: Date;
}

/** A transcript file as its session's pointer names it: gzip, chunks `<fileId hex>:<n>`, `sha256` of the plain transcript. */
export interface TranscriptFileRef {
  fileId: ObjectId;
  length: number;
  chunkSize: number;
  sha256: string;
}

/** A session's transcript files: `_id` = the session id; written once its first file is whole. */
export interface TranscriptFilesDoc {
  _id: string;
  current: TranscriptFileRef;
  files: TranscriptFileRef[];
}

export interface RunStartDoc {
  _id: string;
  sessionId: string;
  at: Date;
}

export type FileId = string | ObjectId;

export interface GridFileDoc {
  _id: FileId;
  length: number;
  uploadDate: Date;
  metadata?: { sessionId?: string; runId?: string; sha256?: string; encoding?: 'gzip' };
}

export function toMetadata(d: SessionDoc): SessionMetadata {
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
    ...(d.hold ? { hold: { reason: d.hold.reason, heldAt: d.hold.heldAt } } : {}),
  };
}

/** Defaults of a new session document, leaving out the paths this update sets. */
export function insertDefaults(sessionId: string, now: Date, set: Record<string, unknown>, addsTags: boolean, origin: Origin = {}): Partial<SessionDoc> {
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

export function toEntry(d: RunDoc): RunLedgerEntry {
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

/** What a session's totals read of one ledger entry (`run-briefs.ts`). */
export interface RunBrief {
  runId: string;
  costUsd: number;
  cumulativeCostUsd: number;
  status: RunLedgerEntry['status'];
  model: string | null;
  /** The models of its usage, in the entry's order. */
  models: string[];
  startedAt: Date;
  messageCount: number;
  /** Absent on entries written before they counted their own. */
  assistantMessages?: number;
  summary: string | null;
}

/** Runs folded in ledger order, as a session's derived fields need them (`ledger-fold.ts`). */
export interface LedgerFold {
  runCount: number;
  /** Their spend in exact units (see `usdUnits`), as a decimal string. */
  costUnits: string;
  /** The models they used, the latest used last. */
  models: string[];
  /** The last run folded: where the fold ends in ledger order, its status and its lineage figure. */
  last: Pick<RunBrief, 'runId' | 'startedAt' | 'status' | 'cumulativeCostUsd'> | null;
  /** Kept runs' (not failed, not running) messages and first summary. */
  kept: {
    messageCount: number;
    /** Null once a kept run did not count its own. */
    assistantMessages: number | null;
    summary: string | null;
  };
}

/**
 * One session's ledger in brief (`_id` = the session id): the briefs of its latest runs by key, and
 * its older settled runs folded; or the store's marker that every session has its own.
 */
export interface RunBriefsDoc {
  _id: string;
  runs?: Record<string, RunBrief>;
  folded?: LedgerFold;
  /** Counts the document's writes, so a fold applies only to the version it read. */
  version?: number;
  at?: Date;
}

export function toRunDoc(e: RunLedgerEntry): RunDoc {
  const { runId, usageByModel, ...rest } = e;
  return { _id: runId, ...rest, usageByModel: Object.entries(usageByModel).map(([model, u]) => ({ model, ...u })) };
}

export function runStatusToSession(status: RunLedgerEntry['status']): SessionStatus {
  if (status === 'running') return 'active';
  return status === 'failed' ? 'failed' : 'completed';
}

/** Sums are kept in exact integer units (see `usdUnits`): adding many runs neither drifts nor rounds a run. */
export const units = (usd: number | undefined): bigint => usdUnits(usd ?? 0);
export { unitsToUsd };

/** A stored line, parsed; null for one that is not JSON (lines are validated on the way in: a foreign document). */
export function parseJson(raw: string): unknown {
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return null;
  }
}
