/**
 * One run per session at a time: a lease per session with a fencing token.
 *
 * Each acquisition inserts a new document `${sessionId}:${token}` (token = the
 * previous one + 1). The unique `_id` makes the insert the only atomic step this
 * needs, so it holds on FerretDB v1 (no transactions, no trusted compare-and-set)
 * as on MongoDB: of two runs that read token n, exactly one inserts n + 1.
 * The document with the highest token is the lease; a holder checks that its
 * token is still the highest before each write (fencing), renews `expiresAt`
 * with its heartbeat, and marks it released when done. A holder that dies
 * stops renewing, and the lease expires after its time to live.
 */
import { type Collection } from 'mongodb';
import { type AcquireLeaseInput, type LeaseAttempt, type LeaseState, type SessionLease } from '../model/session.js';

/** One acquisition; the one with the highest token is the session's lease. */
export interface LeaseDoc extends LeaseState {
  _id: string;
  acquiredAt: Date;
}

export function toState(d: LeaseDoc): LeaseState {
  return { sessionId: d.sessionId, token: d.token, holder: d.holder, stepKey: d.stepKey, expiresAt: d.expiresAt, released: d.released };
}

function toLease(d: LeaseDoc): SessionLease {
  return { sessionId: d.sessionId, token: d.token, holder: d.holder, stepKey: d.stepKey, expiresAt: d.expiresAt };
}

export async function currentLease(coll: Collection<LeaseDoc>, sessionId: string): Promise<LeaseDoc | null> {
  return coll.find({ sessionId }).sort({ token: -1 }).limit(1).next();
}

/** Whether a lease document still keeps others out at `now`. */
export function isLive<T extends LeaseState>(doc: T | null, now: Date): doc is T {
  return doc !== null && !doc.released && doc.expiresAt.getTime() > now.getTime();
}

/**
 * One try at the lease. Taken when it is free, released, expired (`expired`
 * decides, so a waiter can require more than the clock), or held by another
 * attempt of the same step (Temporal only retries a step once its earlier
 * attempt is over).
 */
export async function tryAcquireLease(
  coll: Collection<LeaseDoc>,
  input: AcquireLeaseInput,
  now: Date,
  expired: (doc: LeaseState) => boolean = (doc) => !isLive(doc, now),
): Promise<LeaseAttempt> {
  const current = await currentLease(coll, input.sessionId);
  const sameStep = current !== null && input.stepKey !== null && current.stepKey === input.stepKey;
  if (current && current.holder === input.holder && !current.released) {
    // Already ours (a retried call): renew.
    const expiresAt = new Date(now.getTime() + input.ttlMs);
    await coll.updateOne({ _id: current._id, holder: input.holder }, { $set: { expiresAt } });
    return { acquired: true, lease: toLease({ ...current, expiresAt }) };
  }
  const free = current === null || current.released || sameStep || expired(current);
  if (!free) return { acquired: false, current: toState(current) };
  const token = (current?.token ?? 0) + 1;
  const doc: LeaseDoc = {
    _id: `${input.sessionId}:${token}`,
    sessionId: input.sessionId,
    token,
    holder: input.holder,
    stepKey: input.stepKey,
    acquiredAt: now,
    expiresAt: new Date(now.getTime() + input.ttlMs),
    released: false,
  };
  try {
    await coll.insertOne(doc);
  } catch (error) {
    if (!isDuplicateKeyError(error)) throw error;
    // Another run took token n + 1 first.
    const winner = await currentLease(coll, input.sessionId);
    if (winner?.holder === input.holder) return { acquired: true, lease: toLease(winner) };
    return { acquired: false, current: toState(winner ?? doc) };
  }
  // Older tokens are history; the newest two stay so the order is never in doubt.
  await coll.deleteMany({ sessionId: input.sessionId, token: { $lt: token - 1 } });
  return { acquired: true, lease: toLease(doc) };
}

/** Extends a held lease; false when it is no longer the holder's (taken over or released). */
export async function renewLease(coll: Collection<LeaseDoc>, lease: SessionLease, ttlMs: number, now: Date): Promise<boolean> {
  if (!(await holdsLease(coll, lease))) return false;
  const expiresAt = new Date(now.getTime() + ttlMs);
  const r = await coll.updateOne({ _id: `${lease.sessionId}:${lease.token}`, holder: lease.holder, released: false }, { $set: { expiresAt } });
  return r.matchedCount === 1;
}

/** The fence: true while this lease's token is the session's newest and it is not released. */
export async function holdsLease(coll: Collection<LeaseDoc>, lease: SessionLease): Promise<boolean> {
  const current = await currentLease(coll, lease.sessionId);
  return current !== null && current.token === lease.token && current.holder === lease.holder && !current.released;
}

export async function releaseLease(coll: Collection<LeaseDoc>, lease: SessionLease): Promise<void> {
  await coll.updateOne({ _id: `${lease.sessionId}:${lease.token}`, holder: lease.holder }, { $set: { released: true } });
}

function isDuplicateKeyError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 11000;
}
