/**
 * Input validation of the session store. Every public store method runs its
 * input through these before it touches the database, so a rejected call has
 * written nothing. Each check throws `invalidInput(field, problem)` naming the
 * field (`tags[1]`, `entry.costUsd`, ...). Validators return a normalised copy
 * holding only the known fields: unknown keys never reach the database.
 *
 * Dates: every date field accepts a valid `Date` or an ISO-8601 string with a
 * time and an explicit zone (`2026-01-02T03:04:05Z`, `...+01:00`), because
 * activity inputs cross Temporal as JSON (a `Date` arrives as such a string)
 * and the CLI takes dates from users. Both become a `Date`.
 */
import { TAG_CHARS_MESSAGE, TAG_RE, UUID_RE } from '../formats.js';
import { invalidInput } from '../errors.js';
import { CLAUDE_MODES, RUN_STATUSES, type ClaudeMode, type ModelUsage } from '../runner/types.js';
import { FAILURE_TYPES, type FailureType } from '../errors.js';
import {
  COST_DIMENSIONS,
  SESSION_STATUSES,
  type CleanupOptions,
  type CostReportQuery,
  type ListOptions,
  type MessageInput,
  type Origin,
  type RunLedgerEntry,
  type SaveSessionOptions,
  type SearchQuery,
  type SessionMetadata,
  type SessionUpsert,
} from './types.js';

export const MAX_LIMIT = 1000;
export const DEFAULT_LIMIT = 50;
export const MAX_TAG_LENGTH = 128;
export const MAX_TAGS = 100;
export const MAX_RUN_ID_LENGTH = 256;
export const MAX_DESCRIPTION_LENGTH = 10_000;
const MAX_NAME_LENGTH = 512;
const MAX_SCOPE_LENGTH = 4096;
const MAX_SEQ = 1_000_000_000;
const MAX_BATCH = 100_000;

// ISO-8601 date-time with an explicit zone; the Date parser alone accepts too much.
const ISO_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;
// eslint-disable-next-line no-control-regex
const CONTROL_RE = /[\u0000-\u001f\u007f]/;
const DAY_RE = /^\d{4}-\d{2}-\d{2}$/;
const MONTH_RE = /^\d{4}-\d{2}$/;
const DIGEST_RE = /^[0-9a-f]{64}$/;

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : typeof value;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

export function requireObject(value: unknown, field: string): Record<string, unknown> {
  if (!isPlainObject(value)) throw invalidInput(field, `must be an object, got ${describe(value)}`);
  return value;
}

export function optionalObject(value: unknown, field: string): Record<string, unknown> {
  return value === undefined ? {} : requireObject(value, field);
}

function requireString(value: unknown, field: string): string {
  if (typeof value !== 'string') throw invalidInput(field, `must be a string, got ${describe(value)}`);
  return value;
}

/** A name-like string: non-empty, bounded, no control characters, no leading `$`. */
export function name(value: unknown, field: string, max = MAX_NAME_LENGTH): string {
  const s = requireString(value, field);
  if (s.length === 0) throw invalidInput(field, 'must not be empty');
  if (s.length > max) throw invalidInput(field, `must be at most ${max} characters`);
  if (s.startsWith('$')) throw invalidInput(field, 'must not start with $');
  if (CONTROL_RE.test(s)) throw invalidInput(field, 'must not contain control characters');
  if (!(s as unknown as { isWellFormed(): boolean }).isWellFormed()) throw invalidInput(field, 'must be well-formed Unicode');
  return s;
}

export function nullableName(value: unknown, field: string, max = MAX_NAME_LENGTH): string | null {
  return value === null ? null : name(value, field, max);
}

/** A session id: a UUID, normalised to lower case (UUIDs are case-insensitive). */
export function sessionId(value: unknown, field = 'sessionId'): string {
  const s = requireString(value, field);
  if (!UUID_RE.test(s)) throw invalidInput(field, 'must be a UUID');
  return s.toLowerCase();
}

/** Run ids are our own strings: non-empty, bounded, no `$` prefix, no control characters. */
export function runId(value: unknown, field = 'runId'): string {
  return name(value, field, MAX_RUN_ID_LENGTH);
}

export function tag(value: unknown, field: string): string {
  const s = requireString(value, field);
  if (s.length === 0) throw invalidInput(field, 'must not be empty');
  if (s.length > MAX_TAG_LENGTH) throw invalidInput(field, `must be at most ${MAX_TAG_LENGTH} characters`);
  if (!TAG_RE.test(s)) throw invalidInput(field, TAG_CHARS_MESSAGE);
  return s;
}

/** A list of tags, de-duplicated in order. */
export function tags(value: unknown, field = 'tags'): string[] {
  if (!Array.isArray(value)) throw invalidInput(field, `must be an array of strings, got ${describe(value)}`);
  if (value.length > MAX_TAGS) throw invalidInput(field, `must hold at most ${MAX_TAGS} tags`);
  const out: string[] = [];
  value.forEach((t, i) => {
    const v = tag(t, `${field}[${i}]`);
    if (!out.includes(v)) out.push(v);
  });
  return out;
}

export function nonEmptyTags(value: unknown, field = 'tags'): string[] {
  const t = tags(value, field);
  if (t.length === 0) throw invalidInput(field, 'must hold at least one tag');
  return t;
}

export function date(value: unknown, field: string): Date {
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw invalidInput(field, 'must be a valid date');
    return new Date(value.getTime());
  }
  if (typeof value === 'string') {
    const d = new Date(value);
    if (!ISO_RE.test(value) || Number.isNaN(d.getTime())) throw invalidInput(field, 'must be an ISO-8601 date-time with a zone');
    return d;
  }
  throw invalidInput(field, `must be a Date or an ISO-8601 string, got ${describe(value)}`);
}

export function optionalDate(value: unknown, field: string): Date | undefined {
  return value === undefined ? undefined : date(value, field);
}

export function nullableDate(value: unknown, field: string): Date | null {
  return value === null ? null : date(value, field);
}

/** A cost in USD: a finite number >= 0. */
export function cost(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw invalidInput(field, `must be a finite number, got ${describe(value)}`);
  if (value < 0) throw invalidInput(field, 'must be >= 0');
  return value;
}

export function count(value: unknown, field: string, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) throw invalidInput(field, `must be an integer, got ${describe(value)}`);
  if (value < 0) throw invalidInput(field, 'must be >= 0');
  if (value > max) throw invalidInput(field, `must be at most ${max}`);
  return value;
}

export function limit(value: unknown, field = 'limit'): number {
  if (value === undefined) return DEFAULT_LIMIT;
  if (typeof value !== 'number' || !Number.isInteger(value)) throw invalidInput(field, `must be an integer, got ${describe(value)}`);
  if (value < 1 || value > MAX_LIMIT) throw invalidInput(field, `must be between 1 and ${MAX_LIMIT}`);
  return value;
}

function oneOf<T extends string>(value: unknown, allowed: readonly T[], field: string): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw invalidInput(field, `must be one of ${allowed.join(', ')}`);
  }
  return value as T;
}

function bool(value: unknown, field: string): boolean {
  if (typeof value !== 'boolean') throw invalidInput(field, `must be a boolean, got ${describe(value)}`);
  return value;
}

export function cursor(value: unknown, field = 'cursor'): string | null {
  if (value === undefined || value === null) return null;
  const s = requireString(value, field);
  if (s.length === 0 || s.length > 512 || !/^[A-Za-z0-9_-]+$/.test(s)) throw invalidInput(field, 'is not a cursor this store returned');
  return s;
}

export function description(value: unknown, field = 'description'): string | null {
  if (value === null) return null;
  const s = requireString(value, field);
  if (s.length > MAX_DESCRIPTION_LENGTH) throw invalidInput(field, `must be at most ${MAX_DESCRIPTION_LENGTH} characters`);
  if (!(s as unknown as { isWellFormed(): boolean }).isWellFormed()) throw invalidInput(field, 'must be well-formed Unicode');
  return s;
}

export function scope(value: unknown, field = 'scope'): string {
  return name(value, field, MAX_SCOPE_LENGTH);
}

export function origin(value: unknown, field = 'origin'): Origin {
  const o = requireObject(value, field);
  const out: Origin = {};
  if (o.pipeline !== undefined) out.pipeline = name(o.pipeline, `${field}.pipeline`);
  if (o.workflowId !== undefined) out.workflowId = name(o.workflowId, `${field}.workflowId`);
  if (o.step !== undefined) out.step = name(o.step, `${field}.step`);
  return out;
}

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
export function messageRaw(raw: unknown, field: string): { raw: string; type: string; subtype: string | null } {
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

/** Messages of the seed's `saveSession`: parsed objects, each serialised with `JSON.stringify`. */
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
  };
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
  return out;
}

export interface ValidCleanup {
  maxAgeDays: number;
  keepTags: string[];
  dryRun: boolean;
  batchSize: number;
  onBatch?: CleanupOptions['onBatch'];
}

export function cleanupOptions(value: unknown): ValidCleanup {
  const o = optionalObject(value, 'options') as CleanupOptions & Record<string, unknown>;
  let maxAgeDays = 30;
  if (o.maxAgeDays !== undefined) {
    if (typeof o.maxAgeDays !== 'number' || !Number.isFinite(o.maxAgeDays)) throw invalidInput('maxAgeDays', `must be a finite number, got ${describe(o.maxAgeDays)}`);
    if (o.maxAgeDays < 0 || o.maxAgeDays > 36_500) throw invalidInput('maxAgeDays', 'must be between 0 and 36500');
    maxAgeDays = o.maxAgeDays;
  }
  const out: ValidCleanup = {
    maxAgeDays,
    keepTags: o.keepTags === undefined ? [] : tags(o.keepTags, 'keepTags'),
    dryRun: o.dryRun === undefined ? false : bool(o.dryRun, 'dryRun'),
    batchSize: o.batchSize === undefined ? 100 : limit(o.batchSize, 'batchSize'),
  };
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
  return out;
}

export function bytes(value: unknown, field: string): Uint8Array {
  if (!(value instanceof Uint8Array)) throw invalidInput(field, `must be a Uint8Array, got ${describe(value)}`);
  return value;
}

/** Validates a full metadata record (bulk import of sessions, e.g. from the seed's store). */
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
