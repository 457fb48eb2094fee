/**
 * `continue` by key lookup: one pointer document per scope (`_id` = the scope) naming its most
 * recently updated session. FerretDB v1 pushes down only `_id` equality, so a search by scope scans
 * every session; the pointer makes resolving `continue` two lookups by `_id` at any store size.
 *
 * Every write that moves a session's `updatedAt` advances its scope's pointer, conditionally, so the
 * pointer never moves backwards and a retried write is a no-op. A pointer whose session was deleted
 * or left the scope is repaired from one scan; so is a scope without a pointer (stores written
 * before pointers existed), after which an empty scope is remembered as one.
 */
import { type Filter } from 'mongodb';
import { type StoreContext } from './context.js';
import { toMetadata, type ScopePointerDoc, type SessionDoc } from './documents.js';
import { isDuplicateKey } from './errors.js';
import { type SessionMetadata } from '../model/session.js';

/** What a pointer says when its scope has no session: older than any session, so any write advances it. */
const NONE = { sessionId: '', updatedAt: new Date(0) };

/** Points the scope at this session unless it already points at one updated later (ties: the larger id, as the listing's order). */
export async function advanceScope(c: StoreContext, doc: (Pick<SessionDoc, '_id' | 'updatedAt'> & { scope?: string | null }) | null): Promise<void> {
  if (!doc?.scope) return;
  await advance(c, doc.scope, { sessionId: doc._id, updatedAt: doc.updatedAt });
}

/** Advances the pointer of a session written elsewhere (a restore), read back by id. */
export async function advanceScopeOf(c: StoreContext, sessionId: string): Promise<void> {
  await advanceScope(c, await c.sessions.findOne({ _id: sessionId }, { projection: { scope: 1, updatedAt: 1 } }));
}

/** Advances the pointers of many sessions (bulk import): the latest of each scope only. */
export async function advanceScopes(c: StoreContext, docs: ReadonlyArray<Pick<SessionDoc, '_id' | 'updatedAt' | 'scope'>>): Promise<void> {
  const latest = new Map<string, Pick<SessionDoc, '_id' | 'updatedAt'>>();
  for (const d of docs) {
    if (!d.scope) continue;
    const cur = latest.get(d.scope);
    if (!cur || later({ sessionId: d._id, updatedAt: d.updatedAt }, { sessionId: cur._id, updatedAt: cur.updatedAt })) latest.set(d.scope, d);
  }
  await Promise.all([...latest].map(([scope, d]) => advance(c, scope, { sessionId: d._id, updatedAt: d.updatedAt })));
}

/** The most recently updated session of a scope: the pointer, checked against the session it names. */
export async function latestInScope(c: StoreContext, scope: string): Promise<SessionMetadata | null> {
  const pointer = await c.scopes.findOne({ _id: scope });
  if (pointer && pointer.sessionId === NONE.sessionId) return null;
  if (pointer) {
    const d = await c.sessions.findOne({ _id: pointer.sessionId });
    // The session's own later writes advance the pointer too, so a live one is at least as new.
    if (d && d.scope === scope && d.updatedAt.getTime() >= pointer.updatedAt.getTime()) return toMetadata(d);
  }
  return repair(c, scope, pointer);
}

/** One scan of the scope, then the pointer set to what it found (replacing only the stale pointer it read). */
async function repair(c: StoreContext, scope: string, stale: ScopePointerDoc | null): Promise<SessionMetadata | null> {
  const d = await c.sessions.find({ scope }).sort({ updatedAt: -1, _id: -1 }).limit(1).next();
  const found = d ? { sessionId: d._id, updatedAt: d.updatedAt } : NONE;
  if (stale) {
    // Compare-and-set: a write that advanced the pointer meanwhile wins.
    await c.scopes.updateOne({ _id: scope, sessionId: stale.sessionId, updatedAt: stale.updatedAt }, { $set: found });
  } else {
    await advance(c, scope, found);
  }
  return d ? toMetadata(d) : null;
}

async function advance(c: StoreContext, scope: string, to: { sessionId: string; updatedAt: Date }): Promise<void> {
  const behind: Filter<ScopePointerDoc> = {
    _id: scope,
    $or: [{ updatedAt: { $lt: to.updatedAt } }, { updatedAt: to.updatedAt, sessionId: { $lte: to.sessionId } }],
  };
  try {
    await c.scopes.updateOne(behind, { $set: to }, { upsert: true });
  } catch (error) {
    // The pointer exists and is ahead of this session: nothing to do.
    if (!isDuplicateKey(error)) throw error;
  }
}

function later(a: { sessionId: string; updatedAt: Date }, b: { sessionId: string; updatedAt: Date }): boolean {
  const d = a.updatedAt.getTime() - b.updatedAt.getTime();
  return d > 0 || (d === 0 && a.sessionId > b.sessionId);
}
