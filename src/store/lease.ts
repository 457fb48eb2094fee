/**
 * One run per session at a time: a lease per session with a fencing token.
 *
 * Each acquisition inserts a new document `${sessionId}:${token}` (token = the
 * previous one + 1). The unique `_id` makes the insert the only atomic step this
 * needs, so it holds on FerretDB v1 (no transactions, no trusted compare-and-set)
 * as on MongoDB: of two runs that read token n, exactly one inserts n + 1.
 * The document with the highest token is the lease. A run that takes over a
 * lease still held (expired, or an earlier attempt of its step) first marks it
 * `superseded`, then inserts the next token; so a holder's fence before each
 * write is one lookup of its own document (not released, not superseded). It
 * renews `expiresAt` with its heartbeat and marks it released when done. A
 * holder that dies stops renewing, and the lease expires after its time to live.
 * (Workers of one store run one version of this: a taker from before `superseded`
 * existed inserts without marking.)
 *
 * Every read is by `_id`, so a fence check costs the same at any store size: a
 * head document per session (`_id` = the session id) holds the highest token
 * ever claimed, moved forward before the token's document is inserted. The lease
 * is then `${sessionId}:${head}`, or `${sessionId}:${head - 1}` when a claim
 * stopped between the two writes. Leases taken before heads existed get their
 * heads from `backfillLeaseHeads` (the worker's `ensureIndexes`).
 */
import { type Collection } from 'mongodb';
import { type AcquireLeaseInput, type LeaseAttempt, type LeaseMark, type LeaseState, type SessionLease } from '../model/session.js';
import { upsertOne, upsertReturning } from './context.js';
import { isDuplicateKey } from './errors.js';

/** One acquisition; the one with the highest token is the session's lease. */
export interface LeaseDoc extends LeaseState {
  _id: string;
  acquiredAt: Date;
  /** Taken over: a later token is (being) inserted. */
  superseded?: boolean;
}

/** The highest token claimed for a session: `_id` = the session id. */
export interface LeaseHeadDoc {
  _id: string;
  token: number;
}

export interface LeaseCollections {
  leases: Collection<LeaseDoc>;
  heads: Collection<LeaseHeadDoc>;
}

export function toState(d: LeaseDoc): LeaseState {
  return { sessionId: d.sessionId, token: d.token, holder: d.holder, stepKey: d.stepKey, expiresAt: d.expiresAt, released: d.released };
}

function toLease(d: LeaseDoc): SessionLease {
  return { sessionId: d.sessionId, token: d.token, holder: d.holder, stepKey: d.stepKey, expiresAt: d.expiresAt };
}

const leaseId = (sessionId: string, token: number) => `${sessionId}:${token}`;

export async function currentLease(c: LeaseCollections, sessionId: string): Promise<LeaseDoc | null> {
  return leaseAt(c, sessionId, await headOf(c, sessionId));
}

/** The lease of a session whose head is `head`: the head's token, unless its claim has not inserted it (yet, or ever), then the one before. */
async function leaseAt(c: LeaseCollections, sessionId: string, head: number): Promise<LeaseDoc | null> {
  if (head === 0) return null;
  return (await c.leases.findOne({ _id: leaseId(sessionId, head) })) ?? (await c.leases.findOne({ _id: leaseId(sessionId, head - 1) }));
}

/**
 * The session's head as it was, read by moving it to at least the first token: a session never
 * leased has its head (and so its first claim's move) written by the read itself.
 */
async function readHead(c: LeaseCollections, sessionId: string): Promise<number> {
  return (await upsertReturning(c.heads, { _id: sessionId }, { $max: { token: 1 } }, 'before'))?.token ?? 0;
}

/** The session's lease as a reader sees it now (see `LeaseMark`). */
export async function leaseMark(c: LeaseCollections, sessionId: string, now: Date): Promise<LeaseMark> {
  const head = await headOf(c, sessionId);
  const doc = await leaseAt(c, sessionId, head);
  const live = isLive(doc, now) ? toState(doc) : null;
  return { sessionId, live, head, unsettled: !live && ((doc !== null && standing(doc)) || (head > 0 && doc?.token !== head)) };
}

/** Whether a run may have written the session since `mark`: it was claimed since, or (unsettled) its lease is live again. */
export async function leaseMovedSince(c: LeaseCollections, mark: LeaseMark, now: Date): Promise<boolean> {
  const head = await headOf(c, mark.sessionId);
  if (head !== mark.head) return true;
  return mark.unsettled && isLive(await leaseAt(c, mark.sessionId, head), now);
}

async function headOf(c: LeaseCollections, sessionId: string): Promise<number> {
  return (await c.heads.findOne({ _id: sessionId }))?.token ?? 0;
}

/** Whether a lease document is still its holder's: not released, not taken over. */
function standing(doc: LeaseState & { superseded?: boolean }): boolean {
  return !doc.released && doc.superseded !== true;
}

/** Whether a lease document still keeps others out at `now`. */
export function isLive<T extends LeaseState & { superseded?: boolean }>(doc: T | null, now: Date): doc is T {
  return doc !== null && standing(doc) && doc.expiresAt.getTime() > now.getTime();
}

/**
 * One try at the lease. Taken when it is free, released, expired (`expired`
 * decides, so a waiter can require more than the clock), or held by another
 * attempt of the same step (Temporal only retries a step once its earlier
 * attempt is over).
 */
export async function tryAcquireLease(
  c: LeaseCollections,
  input: AcquireLeaseInput,
  now: Date,
  expired: (doc: LeaseState) => boolean = (doc) => !isLive(doc, now),
): Promise<LeaseAttempt> {
  const head = await readHead(c, input.sessionId);
  const current = await leaseAt(c, input.sessionId, head);
  const sameStep = current !== null && input.stepKey !== null && current.stepKey === input.stepKey;
  if (current && current.holder === input.holder && standing(current)) {
    // Already ours (a retried call): renew.
    const expiresAt = new Date(now.getTime() + input.ttlMs);
    await c.leases.updateOne({ _id: current._id, holder: input.holder }, { $set: { expiresAt } });
    return { acquired: true, lease: toLease({ ...current, expiresAt }), first: false };
  }
  // A superseded lease whose taker stopped before inserting its token is held by no one.
  const free = current === null || !standing(current) || sameStep || expired(current);
  if (!free) return { acquired: false, current: toState(current) };
  const token = (current?.token ?? 0) + 1;
  const doc: LeaseDoc = {
    _id: leaseId(input.sessionId, token),
    sessionId: input.sessionId,
    token,
    holder: input.holder,
    stepKey: input.stepKey,
    acquiredAt: now,
    expiresAt: new Date(now.getTime() + input.ttlMs),
    released: false,
  };
  // The holder of a lease taken over learns it from its own document, before the next token exists.
  const takenOver = current !== null && standing(current);
  await Promise.all([
    // The head is at 1 at least since it was read.
    token > Math.max(head, 1) ? upsertOne(c.heads, { _id: input.sessionId }, { $max: { token } }) : null,
    takenOver ? c.leases.updateOne({ _id: current._id }, { $set: { superseded: true } }) : null,
  ]);
  // Older tokens are history, whoever takes this one: the newest two stay, so the order is never in doubt.
  const [inserted] = await Promise.allSettled([c.leases.insertOne(doc), token > 2 ? c.leases.deleteOne({ _id: leaseId(input.sessionId, token - 2) }) : null]);
  if (inserted.status === 'rejected') {
    if (!isDuplicateKey(inserted.reason)) throw inserted.reason;
    // Another run took token n + 1 first.
    const winner = await currentLease(c, input.sessionId);
    if (winner?.holder === input.holder) return { acquired: true, lease: toLease(winner), first: false };
    return { acquired: false, current: toState(winner ?? doc) };
  }
  return { acquired: true, lease: toLease(doc), first: head === 0 };
}

/** Extends a held lease; false when it is no longer the holder's (taken over or released). */
export async function renewLease(c: LeaseCollections, lease: SessionLease, ttlMs: number, now: Date): Promise<boolean> {
  const expiresAt = new Date(now.getTime() + ttlMs);
  const r = await c.leases.updateOne(
    { _id: leaseId(lease.sessionId, lease.token), holder: lease.holder, released: false, superseded: { $ne: true } },
    { $set: { expiresAt } },
  );
  return r.matchedCount === 1;
}

/** The fence: true while this lease is not released and not taken over (a taker marks it before its own token exists). */
export async function holdsLease(c: LeaseCollections, lease: SessionLease): Promise<boolean> {
  const mine = await c.leases.findOne({ _id: leaseId(lease.sessionId, lease.token) });
  return mine !== null && mine.holder === lease.holder && standing(mine);
}

export async function releaseLease(c: LeaseCollections, lease: SessionLease): Promise<void> {
  await c.leases.updateOne({ _id: leaseId(lease.sessionId, lease.token), holder: lease.holder }, { $set: { released: true } });
}

/** Heads for leases written before heads existed (one scan; a store that has heads already is left alone). */
export async function backfillLeaseHeads(c: LeaseCollections): Promise<void> {
  if ((await c.heads.findOne({})) !== null || (await c.leases.findOne({})) === null) return;
  const highest = new Map<string, number>();
  for await (const d of c.leases.find({}, { projection: { sessionId: 1, token: 1 } })) {
    highest.set(d.sessionId, Math.max(highest.get(d.sessionId) ?? 0, d.token));
  }
  for (const [sessionId, token] of highest) await upsertOne(c.heads, { _id: sessionId }, { $max: { token } });
}
