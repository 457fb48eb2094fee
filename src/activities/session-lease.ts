/**
 * The step's hold on its session: waits for the session's lease (or fails fast
 * with `SessionBusy`), renews it with the heartbeat, and fences every write.
 *
 * Why a lease in the store rather than a per-session entity workflow: every
 * write of a run already goes to the store, so the store is where a stale
 * writer must be stopped (a fencing token checked before each write), and it
 * serializes runs started by any pipeline, conversation or client without
 * routing them through one long-lived workflow per session (no signal fan-in,
 * no continue-as-new of an entity, nothing to change in existing histories).
 * A SIGKILLed holder stops renewing and its lease expires after the heartbeat
 * timeout, when Temporal also retries its step; that retry takes the lease
 * over at once because it is the same step.
 */
import { ApplicationFailure } from '@temporalio/common';
import { type FailureType } from '../model/failures.js';
import { type LeaseState, type SessionLease } from '../model/session.js';
import { type SessionStore } from '../store/types.js';

/** Default time to live of a lease when the step has no heartbeat timeout: 60 s. */
export const DEFAULT_LEASE_TTL_MS = 60_000;
const WAIT_FIRST_MS = 250;
const WAIT_MAX_MS = 2_000;

export interface HoldOptions {
  sessionId: string;
  /** The run id of this attempt. */
  holder: string;
  stepKey: string | null;
  ttlMs: number;
  /** Fail with `SessionBusy` instead of waiting. */
  failFast: boolean;
  signal: AbortSignal;
  /** Called while waiting, with the run that holds the session (the step heartbeats it). */
  onWait: (holder: string) => void;
  /** Store calls, retried through outages. */
  call: <T>(fn: () => Promise<T>) => Promise<T>;
}

export function sessionBusy(sessionId: string, holder: string, nonRetryable: boolean): ApplicationFailure {
  return ApplicationFailure.create({
    type: 'SessionBusy' satisfies FailureType,
    message: `Session ${sessionId} is busy with run ${holder}`,
    nonRetryable,
  });
}

/**
 * Waits until the session's lease is this attempt's. Another run's lease counts as abandoned only
 * once it has been seen expired, unchanged, for a whole time to live: a holder cut off from the
 * store by an outage renews as soon as the store is back, before a waiter takes its session.
 */
export async function acquireSession(store: SessionStore, o: HoldOptions): Promise<SessionLease> {
  let watched: { key: string; since: number } | null = null;
  const abandoned = (c: LeaseState): boolean => {
    if (c.expiresAt.getTime() > Date.now()) {
      watched = null;
      return false;
    }
    const key = `${c.token}:${c.expiresAt.getTime()}`;
    if (watched?.key !== key) watched = { key, since: Date.now() };
    return Date.now() - watched.since >= o.ttlMs;
  };
  let delay = WAIT_FIRST_MS;
  for (;;) {
    const got = await o.call(() =>
      store.tryAcquireLease({ sessionId: o.sessionId, holder: o.holder, stepKey: o.stepKey, ttlMs: o.ttlMs }, abandoned),
    );
    if (got.acquired) return got.lease;
    if (o.failFast) throw sessionBusy(o.sessionId, got.current.holder, true);
    o.onWait(got.current.holder);
    await sleep(delay, o.signal);
    delay = Math.min(WAIT_MAX_MS, delay * 2);
  }
}

/**
 * Reads a session while no run holds it, without taking its lease: forks of one parent read it
 * side by side instead of taking turns. The read counts only if no run held the session before it
 * and none claimed it until after it (nor did the holder seen last come back); a run claims the
 * session before its first read and holds it until after its last write, so such a read sees one
 * moment of the session, never a run halfway through (nor one that came and went meanwhile).
 */
export async function readWhileIdle<T>(
  store: SessionStore,
  o: Pick<HoldOptions, 'sessionId' | 'failFast' | 'signal' | 'onWait' | 'call'>,
  read: () => Promise<T>,
): Promise<T> {
  let delay = WAIT_FIRST_MS;
  for (;;) {
    const mark = await o.call(() => store.leaseMark(o.sessionId));
    if (!mark.live) {
      const value = await read();
      if (!(await o.call(() => store.leaseMovedSince(mark)))) return value;
    } else {
      if (o.failFast) throw sessionBusy(o.sessionId, mark.live.holder, true);
      o.onWait(mark.live.holder);
    }
    await sleep(delay, o.signal);
    delay = Math.min(WAIT_MAX_MS, delay * 2);
  }
}

/** A held lease: renewed on each heartbeat, checked before each write, released at the end. */
export class HeldSession {
  private lost = false;
  private renewing = false;

  constructor(
    private readonly store: SessionStore,
    readonly lease: SessionLease,
    private readonly ttlMs: number,
    /** Called once if the lease is found taken over: the run must stop. */
    private readonly onLost: () => void,
  ) {}

  /** Renew now (from the heartbeat timer); a store outage is ignored here, writes wait it out. */
  renew(): void {
    if (this.renewing || this.lost) return;
    this.renewing = true;
    this.store
      .renewLease(this.lease, this.ttlMs)
      .then((ok) => {
        if (!ok) this.markLost();
      })
      .catch(() => undefined)
      .finally(() => (this.renewing = false));
  }

  /** The fence: throws a retryable `SessionBusy` when the lease is no longer this run's. */
  async check(): Promise<void> {
    if (!this.lost && (await this.store.holdsLease(this.lease))) return;
    this.markLost();
    throw sessionBusy(this.lease.sessionId, 'of a later holder', false);
  }

  async release(): Promise<void> {
    if (!this.lost) await this.store.releaseLease(this.lease);
  }

  private markLost(): void {
    if (this.lost) return;
    this.lost = true;
    this.onLost();
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
