/**
 * The settle activity: what a step's attempts left `running` once no attempt follows (its pipeline
 * closes) is recorded lost, its messages removed, under the session's lease like any write of the step.
 */
import { Context } from '@temporalio/activity';
import { type SessionStore } from '../store/types.js';
import { fencedWrite, lostEntry } from './lost-attempts.js';
import { acquireSession, DEFAULT_LEASE_TTL_MS, HeldSession } from './session-lease.js';
import { attemptDeadline, storeCaller } from './store-retry.js';

/** `settleStep`, on this store: it answers how many attempts it settled. */
export function createSettleStepActivity(store: SessionStore) {
  return async function settleStep({ stepKey }: { stepKey: string }): Promise<number> {
    const ctx = Context.current();
    const call = storeCaller({ deadline: attemptDeadline(ctx.info), signal: ctx.cancellationSignal, onRetry: () => ctx.heartbeat() });
    const running = (await call(() => store.runsOfStep(stepKey))).filter((r) => r.status === 'running');
    const ttlMs = ctx.info.heartbeatTimeoutMs || DEFAULT_LEASE_TTL_MS;
    for (const run of running) {
      const lease = await acquireSession(store, {
        sessionId: run.sessionId,
        holder: `${stepKey}#settle`,
        stepKey,
        ttlMs,
        failFast: false,
        signal: ctx.cancellationSignal,
        call,
        onWait: () => ctx.heartbeat(),
      });
      const held = new HeldSession(store, lease, ttlMs, () => undefined);
      const write = fencedWrite(call, () => held.check());
      try {
        await write(() => store.discardRunMessages(run.sessionId, run.runId));
        await write(() => store.recordRun(lostEntry(run, undefined)));
      } finally {
        await held.release().catch(() => undefined);
      }
    }
    return running.length;
  };
}
