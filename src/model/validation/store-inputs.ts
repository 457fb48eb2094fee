/**
 * Input validation of the session store. Every public store method runs its
 * input through these before it touches the database, so a rejected call has
 * written nothing. Validators return a normalised copy holding only the known
 * fields: unknown keys never reach the database.
 */
import { DEFAULT_MAX_AGE_DAYS, MAX_MAX_AGE_DAYS } from '../defaults.js';
import { FAILURE_TYPES, invalidInput, type FailureType } from '../failures.js';
import { CLAUDE_MODES, RUN_STATUSES, type ClaudeMode, type ModelUsage } from '../run.js';
import { archiveLocation, archiveTargetName, CLEANUP_TRIGGER_KINDS, type CleanupTrigger } from '../retention.js';
import { dateRange } from './user-input.js';
import {
  COST_DIMENSIONS,
  SESSION_SORTS,
  SESSION_STATUSES,
  type CleanupOptions,
  type CostReportQuery,
  type ForkParent,
  type ListOptions,
  type MessageInput,
  type RunLedgerEntry,
  type SaveSessionOptions,
  type SearchQuery,
  type SessionMetadata,
  type RecordRunOptions,
  type SessionUpsert,
} from '../session.js';
import {
  bool,
  cost,
  count,
  cursor,
  date,
  describe,
  description,
  isPlainObject,
  limit,
  name,
  nonEmptyTags,
  nullableDate,
  oneOf,
  optionalObject,
  origin,
  requireObject,
  requireString,
  runId,
  scope,
  sessionId,
  tags,
} from './fields.js';

const MAX_SEQ = 1_000_000_000;
const MAX_BATCH = 100_000;
const DAY_RE = /^\d{4}-\d{2}-\d{2}$/;
const MONTH_RE = /^\d{4}-\d{2}$/;
const DIGEST_RE = /^[0-9a-f]{64}$/;

export function validateSessionUpsert(value: unknown): SessionUpsert {
  const o = requireObject(value, 'input');
  const out: SessionUpsert = { sessionId: sessionId(o.sessionId, 'sessionId') };
  if (o.tags !== undefined) out.tags = tags(o.tags, 'tags');
  if (o.description !== undefined) out.description = description(o.description, 'description');
  if (o.scope !== undefined) out.scope = o.scope === null ? null : scope(o.scope, 'scope');
  if (o.origin !== undefined) out.origin = origin(o.origin, 'origin');
  if (o.parentSessionId !== undefined) {
    out.parentSessionId = o.parentSessionId === null ? null : sessionId(o.parentSessionId, 'parentSessionId');
    if (out.parentSessionId === out.sessionId) throw invalidInput('parentSessionId', 'must differ from sessionId');
  }
  if (o.forkedAtMessage !== undefined) out.forkedAtMessage = o.forkedAtMessage === null ? null : count(o.forkedAtMessage, 'forkedAtMessage');
  if (out.forkedAtMessage != null && out.parentSessionId == null) throw invalidInput('forkedAtMessage', 'needs parentSessionId');
  if (o.status !== undefined) out.status = oneOf(o.status, SESSION_STATUSES, 'status');
  return out;
}

export interface ValidMessage {
  seq: number;
  raw: string;
  type: string;
  subtype: string | null;
  bytes: number;
}

/** Parses a raw line enough to know its type; the line itself is stored untouched. */
function messageRaw(raw: unknown, field: string): { raw: string; type: string; subtype: string | null } {
  const s = requireString(raw, field);
  if (!(s as unknown as { isWellFormed(): boolean }).isWellFormed()) throw invalidInput(field, 'must be well-formed Unicode');
  let parsed: unknown;
  try {
    parsed = JSON.parse(s);
  } catch {
    throw invalidInput(field, 'must be a JSON line');
  }
  if (!isPlainObject(parsed)) throw invalidInput(field, 'must be a JSON object');
  if (typeof parsed.type !== 'string' || parsed.type.length === 0 || parsed.type.length > 128) {
    throw invalidInput(`${field}.type`, 'must be a non-empty string');
  }
  const subtype = typeof parsed.subtype === 'string' ? parsed.subtype.slice(0, 128) : null;
  return { raw: s, type: parsed.type, subtype };
}

export function messageBatch(value: unknown, field = 'batch'): ValidMessage[] {
  if (!Array.isArray(value)) throw invalidInput(field, `must be an array, got ${describe(value)}`);
  if (value.length > MAX_BATCH) throw invalidInput(field, `must hold at most ${MAX_BATCH} messages`);
  const seen = new Set<number>();
  return value.map((m, i) => {
    const o = requireObject(m, `${field}[${i}]`) as Partial<MessageInput>;
    const seq = count(o.seq, `${field}[${i}].seq`, MAX_SEQ);
    if (seen.has(seq)) throw invalidInput(`${field}[${i}].seq`, `repeats seq ${seq}`);
    seen.add(seq);
    const r = messageRaw(o.raw, `${field}[${i}].raw`);
    return { seq, ...r, bytes: Buffer.byteLength(r.raw, 'utf8') };
  });
}

/** Messages of `saveSession`: parsed objects, each serialised with `JSON.stringify`. */
export function savedMessages(value: unknown, field = 'messages'): ValidMessage[] {
  if (!Array.isArray(value)) throw invalidInput(field, `must be an array, got ${describe(value)}`);
  if (value.length > MAX_BATCH) throw invalidInput(field, `must hold at most ${MAX_BATCH} messages`);
  return value.map((m, i) => {
    requireObject(m, `${field}[${i}]`);
    let raw: string;
    try {
      raw = JSON.stringify(m);
    } catch {
      throw invalidInput(`${field}[${i}]`, 'must be JSON-serialisable');
    }
    const r = messageRaw(raw, `${field}[${i}]`);
    return { seq: i, ...r, bytes: Buffer.byteLength(r.raw, 'utf8') };
  });
}

export function saveOptions(value: unknown): { tags: string[]; description?: string | null } {
  const o = optionalObject(value, 'options') as SaveSessionOptions & Record<string, unknown>;
  const out: { tags: string[]; description?: string | null } = { tags: o.tags === undefined ? [] : tags(o.tags, 'tags') };
  if (o.description !== undefined) out.description = description(o.description, 'description');
  return out;
}

export function utcDay(d: Date): string {
  return d.toISOString().slice(0, 10);
}

function modelUsage(value: unknown, field: string): ModelUsage {
  const o = requireObject(value, field);
  return {
    inputTokens: count(o.inputTokens, `${field}.inputTokens`),
    outputTokens: count(o.outputTokens, `${field}.outputTokens`),
    cacheReadInputTokens: count(o.cacheReadInputTokens, `${field}.cacheReadInputTokens`),
    cacheCreationInputTokens: count(o.cacheCreationInputTokens, `${field}.cacheCreationInputTokens`),
    costUSD: cost(o.costUSD, `${field}.costUSD`),
  };
}

export function validateRunEntry(value: unknown): RunLedgerEntry {
  const o = requireObject(value, 'entry');
  const f = (k: string) => `entry.${k}`;
  const startedAt = date(o.startedAt, f('startedAt'));
  const day = requireString(o.day, f('day'));
  const month = requireString(o.month, f('month'));
  if (!DAY_RE.test(day) || day !== utcDay(startedAt)) throw invalidInput(f('day'), `must be the UTC day of startedAt (${utcDay(startedAt)})`);
  if (!MONTH_RE.test(month) || month !== utcDay(startedAt).slice(0, 7)) {
    throw invalidInput(f('month'), `must be the UTC month of startedAt (${utcDay(startedAt).slice(0, 7)})`);
  }
  const usage = requireObject(o.usageByModel, f('usageByModel'));
  const usageByModel: Record<string, ModelUsage> = {};
  for (const [model, u] of Object.entries(usage)) {
    name(model, `${f('usageByModel')} key`);
    usageByModel[model] = modelUsage(u, `${f('usageByModel')}[${JSON.stringify(model)}]`);
  }
  const promptDigest = requireString(o.promptDigest, f('promptDigest'));
  if (!DIGEST_RE.test(promptDigest)) throw invalidInput(f('promptDigest'), 'must be a sha256 hex digest');
  return {
    runId: runId(o.runId, f('runId')),
    sessionId: sessionId(o.sessionId, f('sessionId')),
    mode: oneOf<ClaudeMode>(o.mode, CLAUDE_MODES, f('mode')),
    promptDigest,
    status: oneOf(o.status, [...RUN_STATUSES, 'running'] as const, f('status')),
    failureType: o.failureType === null ? null : oneOf<FailureType>(o.failureType, FAILURE_TYPES, f('failureType')),
    subtype: o.subtype === null ? null : name(o.subtype, f('subtype'), 128),
    costUsd: cost(o.costUsd, f('costUsd')),
    cumulativeCostUsd: cost(o.cumulativeCostUsd, f('cumulativeCostUsd')),
    usageByModel,
    numTurns: count(o.numTurns, f('numTurns')),
    messageCount: count(o.messageCount, f('messageCount')),
    exitCode: o.exitCode === null ? null : requireInteger(o.exitCode, f('exitCode')),
    startedAt,
    finishedAt: nullableDate(o.finishedAt, f('finishedAt')),
    durationMs: count(o.durationMs, f('durationMs')),
    stepKey: o.stepKey === null ? null : name(o.stepKey, f('stepKey')),
    attempt: count(o.attempt, f('attempt')),
    day,
    month,
    tags: tags(o.tags, f('tags')),
    model: o.model === null ? null : name(o.model, f('model')),
    pipeline: o.pipeline === null ? null : name(o.pipeline, f('pipeline')),
    workflowId: o.workflowId === null ? null : name(o.workflowId, f('workflowId')),
    ...(o.summary !== undefined ? { summary: description(o.summary, f('summary')) } : {}),
    ...(o.resultText !== undefined ? { resultText: description(o.resultText, f('resultText')) } : {}),
    ...(o.estimated === true ? { estimated: true } : {}),
    ...(o.assistantMessages !== undefined ? { assistantMessages: assistantCount(o.assistantMessages, o.messageCount, f('assistantMessages')) } : {}),
  };
}

function assistantCount(value: unknown, messageCount: unknown, field: string): number {
  const n = count(value, field);
  if (typeof messageCount === 'number' && n > messageCount) throw invalidInput(field, `must be at most messageCount (${messageCount})`);
  return n;
}

function requireInteger(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) throw invalidInput(field, `must be an integer, got ${describe(value)}`);
  return value;
}

export function listOptions(value: unknown): { limit: number; cursor: string | null } {
  const o = optionalObject(value, 'options') as ListOptions & Record<string, unknown>;
  return { limit: limit(o.limit), cursor: cursor(o.cursor) };
}

/** A search query with its page size and cursor settled. */
export type ValidSearch = Omit<SearchQuery, 'limit' | 'cursor'> & { limit: number; cursor: string | null };

export function searchQuery(value: unknown): ValidSearch {
  const o = requireObject(value, 'query') as SearchQuery & Record<string, unknown>;
  const out: ValidSearch = { limit: limit(o.limit), cursor: cursor(o.cursor) };
  if (o.tags !== undefined) out.tags = nonEmptyTags(o.tags, 'tags');
  if (o.allTags !== undefined) out.allTags = nonEmptyTags(o.allTags, 'allTags');
  if (o.after !== undefined) out.after = date(o.after, 'after');
  if (o.before !== undefined) out.before = date(o.before, 'before');
  if (o.updatedAfter !== undefined) out.updatedAfter = date(o.updatedAfter, 'updatedAfter');
  if (o.updatedBefore !== undefined) out.updatedBefore = date(o.updatedBefore, 'updatedBefore');
  if (o.minCost !== undefined) out.minCost = cost(o.minCost, 'minCost');
  if (o.maxCost !== undefined) out.maxCost = cost(o.maxCost, 'maxCost');
  if (o.model !== undefined) out.model = name(o.model, 'model');
  if (o.status !== undefined) out.status = oneOf(o.status, SESSION_STATUSES, 'status');
  if (o.scope !== undefined) out.scope = scope(o.scope, 'scope');
  if (o.held !== undefined) out.held = bool(o.held, 'held');
  if (o.sort !== undefined) out.sort = oneOf(o.sort, SESSION_SORTS, 'sort');
  if (o.order !== undefined) out.order = oneOf(o.order, ['asc', 'desc'] as const, 'order');
  dateRange(out.after, out.before, 'after', 'before');
  dateRange(out.updatedAfter, out.updatedBefore, 'updatedAfter', 'updatedBefore');
  if (out.minCost !== undefined && out.maxCost !== undefined && out.minCost > out.maxCost) throw invalidInput('minCost', `${out.minCost} is more than maxCost ${out.maxCost}`);
  return out;
}

export interface ValidCleanup {
  maxAgeDays: number;
  keepTags: string[];
  dryRun: boolean;
  batchSize: number;
  archive?: string;
  purgeLedgerOlderThanDays?: number;
  logId?: string;
  trigger?: CleanupTrigger;
  onBatch?: CleanupOptions['onBatch'];
}

/** A number of days, 0 to `MAX_MAX_AGE_DAYS` (the bound of every age option). */
export function days(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw invalidInput(field, `must be a finite number, got ${describe(value)}`);
  if (value < 0 || value > MAX_MAX_AGE_DAYS) throw invalidInput(field, `must be between 0 and ${MAX_MAX_AGE_DAYS}`);
  return value;
}

export function cleanupOptions(value: unknown): ValidCleanup {
  const o = optionalObject(value, 'options') as CleanupOptions & Record<string, unknown>;
  const out: ValidCleanup = {
    maxAgeDays: o.maxAgeDays === undefined ? DEFAULT_MAX_AGE_DAYS : days(o.maxAgeDays, 'maxAgeDays'),
    keepTags: o.keepTags === undefined ? [] : tags(o.keepTags, 'keepTags'),
    dryRun: o.dryRun === undefined ? false : bool(o.dryRun, 'dryRun'),
    batchSize: o.batchSize === undefined ? 100 : limit(o.batchSize, 'batchSize'),
  };
  if (o.archive !== undefined) out.archive = archiveTargetName(archiveLocation(o.archive, 'archive'));
  if (o.purgeLedgerOlderThanDays !== undefined) out.purgeLedgerOlderThanDays = days(o.purgeLedgerOlderThanDays, 'purgeLedgerOlderThanDays');
  if (o.logId !== undefined) out.logId = name(o.logId, 'logId');
  if (o.trigger !== undefined) {
    const t = requireObject(o.trigger, 'trigger');
    out.trigger = { kind: oneOf(t.kind, CLEANUP_TRIGGER_KINDS, 'trigger.kind'), name: name(t.name, 'trigger.name') };
  }
  if (o.onBatch !== undefined) {
    if (typeof o.onBatch !== 'function') throw invalidInput('onBatch', 'must be a function');
    out.onBatch = o.onBatch;
  }
  return out;
}

export function costQuery(value: unknown): { by: CostReportQuery['by']; since?: Date; until?: Date; tags?: string[] } {
  const o = requireObject(value, 'query') as CostReportQuery & Record<string, unknown>;
  const out: { by: CostReportQuery['by']; since?: Date; until?: Date; tags?: string[] } = { by: oneOf(o.by, COST_DIMENSIONS, 'by') };
  if (o.since !== undefined) out.since = date(o.since, 'since');
  if (o.until !== undefined) out.until = date(o.until, 'until');
  if (o.tags !== undefined) out.tags = nonEmptyTags(o.tags, 'tags');
  dateRange(out.since, out.until, 'since', 'until');
  return out;
}

/** `recordRun`'s options for an entry of `sessionId`. */
export function recordRunOptions(value: unknown, sessionId: string): RecordRunOptions {
  const o = optionalObject(value, 'options');
  const out: RecordRunOptions = {};
  if (o.transcript !== undefined) out.transcript = bytes(o.transcript, 'options.transcript');
  if (o.session !== undefined) {
    out.session = validateSessionUpsert(o.session);
    if (out.session.sessionId !== sessionId) throw invalidInput('options.session.sessionId', `must be the entry's session (${sessionId})`);
  }
  if (o.fresh !== undefined) {
    if (typeof o.fresh !== 'boolean') throw invalidInput('options.fresh', 'must be a boolean');
    out.fresh = o.fresh;
  }
  if (o.parent !== undefined) out.parent = parentOf(o.parent, out.session?.parentSessionId);
  if (o.check !== undefined) {
    if (typeof o.check !== 'function') throw invalidInput('options.check', 'must be a function');
    out.check = o.check as () => Promise<void>;
  }
  return out;
}

/** A fork's parent as read: the session's `parentSessionId`, with its lineage's root. */
function parentOf(value: unknown, parentSessionId: string | null | undefined): ForkParent {
  const o = requireObject(value, 'options.parent');
  if (!parentSessionId || o.sessionId !== parentSessionId) {
    throw invalidInput('options.parent.sessionId', `must be options.session.parentSessionId (${parentSessionId ?? 'none'})`);
  }
  return { sessionId: parentSessionId, rootSessionId: sessionId(o.rootSessionId, 'options.parent.rootSessionId') };
}

export function bytes(value: unknown, field: string): Uint8Array {
  if (!(value instanceof Uint8Array)) throw invalidInput(field, `must be a Uint8Array, got ${describe(value)}`);
  return value;
}

/** Validates a full metadata record (bulk import of sessions from another store). */
export function sessionMetadata(value: unknown, field: string): SessionMetadata {
  const o = requireObject(value, field);
  const f = (k: string) => `${field}.${k}`;
  const id = sessionId(o.sessionId, f('sessionId'));
  const lin = requireObject(o.lineage, f('lineage'));
  const models = Array.isArray(o.models) ? o.models.map((m, i) => name(m, `${f('models')}[${i}]`)) : (() => {
    throw invalidInput(f('models'), `must be an array, got ${describe(o.models)}`);
  })();
  return {
    sessionId: id,
    createdAt: date(o.createdAt, f('createdAt')),
    updatedAt: date(o.updatedAt, f('updatedAt')),
    messageCount: count(o.messageCount, f('messageCount')),
    turnCount: count(o.turnCount, f('turnCount')),
    models,
    model: o.model === null ? null : name(o.model, f('model')),
    tags: tags(o.tags, f('tags')),
    description: description(o.description, f('description')),
    summary: o.summary === null ? null : description(o.summary, f('summary')),
    status: oneOf(o.status, SESSION_STATUSES, f('status')),
    scope: o.scope === null ? null : scope(o.scope, f('scope')),
    lineage: {
      parentSessionId: lin.parentSessionId === null ? null : sessionId(lin.parentSessionId, f('lineage.parentSessionId')),
      forkedAtMessage: lin.forkedAtMessage === null ? null : count(lin.forkedAtMessage, f('lineage.forkedAtMessage')),
      rootSessionId: sessionId(lin.rootSessionId, f('lineage.rootSessionId')),
    },
    origin: origin(o.origin, f('origin')),
    totalCostUsd: cost(o.totalCostUsd, f('totalCostUsd')),
    lineageCostUsd: cost(o.lineageCostUsd, f('lineageCostUsd')),
    runCount: count(o.runCount, f('runCount')),
  };
}
