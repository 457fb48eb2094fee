/**
 * The session lease (`src/store/lease.ts`): whatever order takes, renewals, releases and fence
 * checks come in, at most one holder passes the fence, and it is the one that took the lease last.
 * A lease taken over is marked `superseded` before the next token exists, so the old holder's
 * one-lookup fence and its renewal fail from then on.
 */
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { COLLECTIONS } from '../../src/store/mongo-store.js';
import { type SessionLease } from '../../src/model/session.js';
import { storeForTests } from './helpers.js';

const t = storeForTests('lease');

const TTL = 60_000;
const take = async (sessionId: string, holder: string, stepKey: string, expired = false): Promise<SessionLease | null> => {
  const got = await t.store.tryAcquireLease({ sessionId, holder, stepKey, ttlMs: TTL }, () => expired);
  return got.acquired ? got.lease : null;
};

describe('session lease', () => {
  it('a retry of the same step takes over at once, and the attempt it replaced can neither write nor renew', async () => {
    const sid = randomUUID();
    const first = (await take(sid, 'step#1', 'step'))!;
    expect(await t.store.holdsLease(first)).toBe(true);
    const retry = (await take(sid, 'step#2', 'step'))!;
    expect(retry.token).toBe(first.token + 1);
    expect(await t.store.holdsLease(first)).toBe(false);
    expect(await t.store.renewLease(first, TTL)).toBe(false);
    expect(await t.store.holdsLease(retry)).toBe(true);
    expect(await t.store.renewLease(retry, TTL)).toBe(true);
    expect((await t.store.liveLease(sid))?.holder).toBe('step#2');
  });

  it('another step waits for a live lease, and takes an abandoned one over', async () => {
    const sid = randomUUID();
    const held = (await take(sid, 'a#1', 'a'))!;
    expect(await take(sid, 'b#1', 'b')).toBeNull();
    const taken = (await take(sid, 'b#1', 'b', true))!;
    expect(await t.store.holdsLease(held)).toBe(false);
    expect(await t.store.holdsLease(taken)).toBe(true);
  });

  it('a lease whose taker stopped after marking it is held by no one, and the next run takes it', async () => {
    const sid = randomUUID();
    const held = (await take(sid, 'a#1', 'a'))!;
    await t.db.collection(COLLECTIONS.leases).updateOne({ _id: `${sid}:${held.token}` as never }, { $set: { superseded: true } });
    expect(await t.store.holdsLease(held)).toBe(false);
    expect(await t.store.liveLease(sid)).toBeNull();
    expect(await take(sid, 'b#1', 'b')).not.toBeNull();
  });

  it("a session's first claim says so, and no later one does, whoever takes it", async () => {
    const sid = randomUUID();
    const input = { sessionId: sid, holder: 'a#1', stepKey: 'a', ttlMs: TTL };
    expect(await t.store.tryAcquireLease(input)).toMatchObject({ acquired: true, first: true });
    // The same holder again (a retried call) renews, and another step finds it held.
    expect(await t.store.tryAcquireLease(input)).toMatchObject({ acquired: true, first: false });
    expect(await t.store.tryAcquireLease({ ...input, holder: 'b#1', stepKey: 'b' })).toMatchObject({ acquired: false });
    expect(await t.store.tryAcquireLease({ ...input, holder: 'a#2' })).toMatchObject({ acquired: true, first: false });
    const raced = await Promise.all(Array.from({ length: 6 }, (_, i) => t.store.tryAcquireLease({ sessionId: randomUUID(), holder: `s${i}#1`, stepKey: `s${i}`, ttlMs: TTL })));
    expect(raced.every((r) => r.acquired && r.first)).toBe(true);
    const one = randomUUID();
    const same = await Promise.all(Array.from({ length: 6 }, (_, i) => t.store.tryAcquireLease({ sessionId: one, holder: `s${i}#1`, stepKey: `s${i}`, ttlMs: TTL })));
    expect(same.filter((r) => r.acquired && r.first)).toHaveLength(1);
  });

  it('a reader learns of any run that claimed the session after it looked, even one that came and went, and of a lapsed holder back', async () => {
    const sid = randomUUID();
    const never = await t.store.leaseMark(sid);
    expect(never).toMatchObject({ live: null, head: 0, unsettled: false });
    expect(await t.store.leaseMovedSince(never)).toBe(false);
    // A whole run between the two looks: no lease is live at either, yet the session was written.
    const came = (await take(sid, 'a#1', 'a'))!;
    await t.store.releaseLease(came);
    expect(await t.store.liveLease(sid)).toBeNull();
    expect(await t.store.leaseMovedSince(never)).toBe(true);

    const released = await t.store.leaseMark(sid);
    expect(released).toMatchObject({ live: null, head: 1, unsettled: false });
    expect(await t.store.renewLease(came, TTL)).toBe(false);
    expect(await t.store.leaseMovedSince(released)).toBe(false);

    // Held, then expired without a release: its holder may still write, and renews when it can.
    const held = (await take(sid, 'b#1', 'b'))!;
    expect((await t.store.leaseMark(sid)).live?.holder).toBe('b#1');
    await t.db.collection(COLLECTIONS.leases).updateOne({ _id: `${sid}:${held.token}` as never }, { $set: { expiresAt: new Date(0) } });
    const lapsed = await t.store.leaseMark(sid);
    expect(lapsed).toMatchObject({ live: null, head: held.token, unsettled: true });
    expect(await t.store.leaseMovedSince(lapsed)).toBe(false);
    expect(await t.store.renewLease(held, TTL)).toBe(true);
    expect(await t.store.leaseMovedSince(lapsed)).toBe(true);
    await t.store.releaseLease(held);

    // A claim that moved the head and has not inserted its token yet.
    await t.db.collection(COLLECTIONS.leaseHeads).updateOne({ _id: sid as never }, { $max: { token: held.token + 1 } });
    const pending = await t.store.leaseMark(sid);
    expect(pending).toMatchObject({ live: null, head: held.token + 1, unsettled: true });
    expect(await t.store.leaseMovedSince(pending)).toBe(false);
    expect(await take(sid, 'c#1', 'c')).not.toBeNull();
    expect(await t.store.leaseMovedSince(pending)).toBe(true);
  });

  it('of runs taking a free session at once, exactly one gets it', async () => {
    const sid = randomUUID();
    const got = await Promise.all(Array.from({ length: 6 }, (_, i) => take(sid, `s${i}#1`, `s${i}`)));
    const winners = got.filter((l) => l !== null);
    expect(winners).toHaveLength(1);
    expect(await t.store.holdsLease(winners[0]!)).toBe(true);
  });

  it('after any sequence of takes, takeovers, renewals and releases, only the last taker passes the fence', async () => {
    const op = fc.record({ who: fc.integer({ min: 0, max: 2 }), kind: fc.constantFrom('take', 'takeover', 'retry', 'renew', 'release') });
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 12 }), async (ops) => {
        const sid = randomUUID();
        const held: Array<SessionLease | null> = [null, null, null];
        let attempt = 0;
        let last: number | null = null;
        for (const { who, kind } of ops) {
          if (kind === 'renew' || kind === 'release') {
            const lease = held[who];
            if (!lease) continue;
            if (kind === 'renew') await t.store.renewLease(lease, TTL);
            else {
              await t.store.releaseLease(lease);
              held[who] = null;
              if (last === who) last = null;
            }
            continue;
          }
          // `retry`: another attempt of the same step (its own step key); `takeover`: the current lease counts as expired.
          attempt += 1;
          const lease = await take(sid, `w${who}#${attempt}`, kind === 'retry' ? `w${last ?? who}` : `w${who}`, kind === 'takeover');
          if (lease) {
            held[who] = lease;
            last = who;
          }
        }
        const passing = await Promise.all(held.map((l) => (l ? t.store.holdsLease(l) : false)));
        expect(passing.filter(Boolean).length).toBeLessThanOrEqual(1);
        for (const [who, passes] of passing.entries()) if (passes) expect(who).toBe(last);
        if (last !== null) expect(passing[last]).toBe(true);
      }),
      { numRuns: 40 },
    );
  });
});
