/** Retention: holds, the deletion log, tombstones, archives and exports. Types and pure parsing. */
import { invalidInput } from './failures.js';

/** Why and since when a session is kept from every cleanup. */
export interface SessionHold {
  reason: string;
  heldAt: Date;
}

/**
 * Where a cleanup archives sessions before deleting them: `gridfs` (the `archives` bucket),
 * `gridfs:<bucket>`, or an absolute directory path.
 */
export type ArchiveTarget = string;

/** The default archive bucket (`--archive gridfs`). */
export const DEFAULT_ARCHIVE_BUCKET = 'archives';

export type ArchiveLocation = { kind: 'gridfs'; bucket: string } | { kind: 'dir'; path: string };

/** What started a cleanup, as its deletion-log record names it. */
export interface CleanupTrigger {
  /** `schedule` (a Temporal Schedule), `workflow` (a cleanup workflow started by hand) or `command` (the CLI or the library). */
  kind: 'schedule' | 'workflow' | 'command';
  /** The schedule id, workflow id or command. */
  name: string;
}

export const CLEANUP_TRIGGER_KINDS = ['schedule', 'workflow', 'command'] as const;

/** One record of the deletion log: what a cleanup (or a delete) removed, and why. */
export interface DeletionRecord {
  logId: string;
  startedAt: Date;
  finishedAt: Date | null;
  trigger: CleanupTrigger;
  criteria: { maxAgeDays: number | null; keepTags: string[]; archive: ArchiveTarget | null; purgeLedgerOlderThanDays: number | null };
  dryRun: boolean;
  /** Sessions deleted (or that a dry run would delete). */
  count: number;
  /** Their ids, the first `LOG_ID_LIMIT`. */
  sessionIds: string[];
  bytesFreed: number;
  archiveRefs: string[];
  ledgerEntriesPurged: number;
}

/** A deletion-log record lists at most this many ids and archive references. */
export const LOG_ID_LIMIT = 10_000;

/** Left behind by a deleted session, so its forks can say when their parent went. */
export interface Tombstone {
  sessionId: string;
  deletedAt: Date;
  logId: string;
  parentSessionId: string | null;
  archiveRef: string | null;
}

export interface RestoreResult {
  sessionId: string;
  /** False when the session was already in the store (nothing was written). */
  restored: boolean;
  messages: number;
  runs: number;
  transcript: boolean;
}

/** `sessions export` formats: the CLI's transcript JSONL, or Markdown. */
export const EXPORT_FORMATS = ['jsonl', 'md'] as const;

/** Parses an archive target: `gridfs`, `gridfs:<bucket>` or an absolute directory path. */
export function archiveLocation(target: unknown, field = 'archive'): ArchiveLocation {
  const usage = 'must be gridfs, gridfs:<bucket> or an absolute directory path';
  if (typeof target !== 'string' || target.trim() === '') throw invalidInput(field, usage);
  if (target === 'gridfs') return { kind: 'gridfs', bucket: DEFAULT_ARCHIVE_BUCKET };
  if (target.startsWith('gridfs:')) {
    const bucket = target.slice('gridfs:'.length);
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(bucket)) throw invalidInput(field, `bucket must be 1-64 letters, digits, - or _, got ${JSON.stringify(bucket)}`);
    return { kind: 'gridfs', bucket };
  }
  // POSIX or Windows absolute paths; the model layer does not load node:path.
  if (!/^(\/|[A-Za-z]:[\\/]|\\\\)/.test(target)) throw invalidInput(field, `${usage}, got ${JSON.stringify(target)}`);
  return { kind: 'dir', path: target };
}

/** The canonical spelling of a target, as the deletion log records it. */
export function archiveTargetName(l: ArchiveLocation): string {
  return l.kind === 'dir' ? l.path : l.bucket === DEFAULT_ARCHIVE_BUCKET ? 'gridfs' : `gridfs:${l.bucket}`;
}

/** A reference to one archived session: `gridfs:<bucket>/<file>` or an absolute file path. */
export function archiveRef(value: unknown, field = 'archive-ref'): { kind: 'gridfs'; bucket: string; file: string } | { kind: 'file'; path: string } {
  const usage = 'must be gridfs:<bucket>/<file> or an absolute file path';
  if (typeof value !== 'string' || value.trim() === '') throw invalidInput(field, usage);
  const m = /^gridfs:([A-Za-z0-9_-]{1,64})\/(.+)$/.exec(value);
  if (m) return { kind: 'gridfs', bucket: m[1] as string, file: m[2] as string };
  if (!/^(\/|[A-Za-z]:[\\/]|\\\\)/.test(value)) throw invalidInput(field, `${usage}, got ${JSON.stringify(value)}`);
  return { kind: 'file', path: value };
}

/** A hold's reason: what a user reads in `sessions show`. */
export function holdReason(value: unknown, field = 'reason'): string {
  if (typeof value !== 'string' || value.trim() === '') throw invalidInput(field, 'must be a non-empty text');
  if (value.length > 1000) throw invalidInput(field, 'must be at most 1000 characters');
  return value.trim();
}
