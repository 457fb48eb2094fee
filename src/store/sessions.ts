/** Session metadata: upserts, tags, descriptions, lookups and bulk import. */
import { type UpdateFilter } from 'mongodb';
import { invalidInput } from '../model/failures.js';
import { insertUnordered, upsertReturning, type StoreContext } from './context.js';
import { insertDefaults, toMetadata, type SessionDoc } from './documents.js';
import { guard, notFound } from './errors.js';
import { streamMessages } from './messages.js';
import { advanceScope, advanceScopes, latestInScope } from './scope-pointers.js';
import { type ForkParent, type LoadResult, type SessionMetadata, type SessionUpsert } from '../model/session.js';
import * as v from '../model/validation/index.js';

export async function upsertSession(c: StoreContext, input: SessionUpsert): Promise<void> {
  const u = v.validateSessionUpsert(input);
  await guard(() => writeSession(c, u));
}

/** Writes a validated upsert; the caller guards. */
export async function writeSession(c: StoreContext, u: SessionUpsert): Promise<void> {
  const now = c.clock();
  const set = await sessionFields(c, u);
  const tags = u.tags ?? [];
  const update: UpdateFilter<SessionDoc> = {
    $setOnInsert: insertDefaults(u.sessionId, now, set, tags.length > 0),
    $max: { updatedAt: now },
  };
  if (Object.keys(set).length > 0) update.$set = set as Partial<SessionDoc>;
  if (tags.length > 0) update.$addToSet = { tags: { $each: tags } };
  await advanceScope(c, await upsertReturning(c.sessions, { _id: u.sessionId }, update));
  if (tags.length > 0) await tagRuns(c, u.sessionId, tags);
}

/** The `$set` of an upsert's fields (tags aside, which are added); a fork's `parent`, when given, is not read again. */
export async function sessionFields(c: StoreContext, u: SessionUpsert, parent?: ForkParent): Promise<Record<string, unknown>> {
  const set: Record<string, unknown> = {};
  if (u.description !== undefined) set.description = u.description;
  if (u.scope !== undefined) set.scope = u.scope;
  if (u.status !== undefined) set.status = u.status;
  for (const [k, val] of Object.entries(u.origin ?? {})) set[`origin.${k}`] = val;
  if (u.parentSessionId !== undefined) {
    // A session's parent never changes, so setting it again is idempotent; it also
    // corrects the default lineage when recordRun created the session first.
    let root = u.sessionId;
    if (parent) root = parent.rootSessionId;
    else if (u.parentSessionId !== null) {
      const read = await c.sessions.findOne({ _id: u.parentSessionId }, { projection: { lineage: 1 } });
      root = read?.lineage?.rootSessionId ?? u.parentSessionId;
    }
    set.lineage = { parentSessionId: u.parentSessionId, forkedAtMessage: u.forkedAtMessage ?? null, rootSessionId: root };
  }
  return set;
}

/** The session's tags on its ledger entries too, so reports by tag see every run of a tagged session. */
export async function tagRuns(c: StoreContext, sessionId: string, tags: readonly string[]): Promise<void> {
  await c.runs.updateMany({ sessionId }, { $addToSet: { tags: { $each: [...tags] } } });
}

export async function getSession(c: StoreContext, sessionId: string): Promise<SessionMetadata | null> {
  const id = v.sessionId(sessionId);
  return guard(async () => {
    const d = await c.sessions.findOne({ _id: id });
    return d ? toMetadata(d) : null;
  });
}

/** A session that must exist (`SessionNotFound` otherwise); the caller guards. */
export async function mustGet(c: StoreContext, id: string): Promise<SessionMetadata> {
  const d = await c.sessions.findOne({ _id: id });
  if (!d) throw notFound(id);
  return toMetadata(d);
}

export async function loadSession(c: StoreContext, sessionId: string): Promise<LoadResult> {
  const sid = v.sessionId(sessionId);
  return guard(async () => {
    const d = await c.sessions.findOne({ _id: sid });
    if (!d) return { found: false, sessionId: sid };
    return { found: true, session: { metadata: toMetadata(d), messages: () => streamMessages(c, sid) } };
  });
}

export async function tagSession(c: StoreContext, sessionId: string, tags: string[]): Promise<SessionMetadata> {
  const id = v.sessionId(sessionId);
  const t = v.nonEmptyTags(tags);
  return guard(async () => {
    const r = await c.sessions.updateOne({ _id: id }, { $addToSet: { tags: { $each: t } }, $max: { updatedAt: c.clock() } });
    if (r.matchedCount === 0) throw notFound(id);
    await tagRuns(c, id, t);
    return touched(c, id);
  });
}

export async function untagSession(c: StoreContext, sessionId: string, tags: string[]): Promise<SessionMetadata> {
  const id = v.sessionId(sessionId);
  const t = v.nonEmptyTags(tags);
  return guard(async () => {
    const r = await c.sessions.updateOne({ _id: id }, { $pullAll: { tags: t }, $max: { updatedAt: c.clock() } });
    if (r.matchedCount === 0) throw notFound(id);
    await c.runs.updateMany({ sessionId: id }, { $pullAll: { tags: t } });
    return touched(c, id);
  });
}

export async function setDescription(c: StoreContext, sessionId: string, description: string | null): Promise<SessionMetadata> {
  const id = v.sessionId(sessionId);
  const d = v.description(description);
  return guard(async () => {
    const r = await c.sessions.updateOne({ _id: id }, { $set: { description: d }, $max: { updatedAt: c.clock() } });
    if (r.matchedCount === 0) throw notFound(id);
    return touched(c, id);
  });
}

/** A session just updated (its `updatedAt` moved), with its scope's pointer advanced. */
async function touched(c: StoreContext, id: string): Promise<SessionMetadata> {
  const m = await mustGet(c, id);
  await advanceScope(c, { _id: m.sessionId, scope: m.scope, updatedAt: m.updatedAt });
  return m;
}

export async function latestSessionInScope(c: StoreContext, scope: string): Promise<SessionMetadata | null> {
  const s = v.scope(scope);
  return guard(() => latestInScope(c, s));
}

/** Unordered inserts by session id; an existing id counts as a duplicate and is left as it is. */
export async function importSessions(c: StoreContext, sessions: readonly SessionMetadata[]): Promise<{ inserted: number; duplicates: number }> {
  if (!Array.isArray(sessions)) throw invalidInput('sessions', 'must be an array');
  const docs: SessionDoc[] = sessions.map((s, i) => {
    const m = v.sessionMetadata(s, `sessions[${i}]`);
    const { sessionId, ...rest } = m;
    return { _id: sessionId, ...rest };
  });
  if (docs.length === 0) return { inserted: 0, duplicates: 0 };
  return guard(async () => {
    const r = await insertUnordered(c.sessions, docs);
    // Duplicates are left as they are, and a pointer never moves back past them.
    await advanceScopes(c, docs);
    return r;
  });
}
