/** Attempts that did not finish: their messages are dropped and their spend stays in the ledger. */
import { ClaudeTemporalError } from '../model/failures.js';
import { type RunLedgerEntry } from '../model/session.js';
import { type SessionStore } from '../store/types.js';
import { withTypedFailures } from './failures.js';
import { type StepHeartbeat } from '../model/workflow.js';
import { type ActivityLogger } from './index.js';
import { estimatedUsage } from './progress.js';

interface Deps {
  store: SessionStore;
  logger: ActivityLogger;
}

/**
 * Attempts that died with their worker left a `running` entry: record their spend (from the last
 * heartbeat when it is theirs), drop their messages. Returns the step's earlier attempts as they now stand.
 */
export async function settleLostAttempts({ store, logger }: Deps, earlier: RunLedgerEntry[], heartbeat: StepHeartbeat | undefined): Promise<RunLedgerEntry[]> {
  const settled: RunLedgerEntry[] = [];
  for (const run of earlier) {
    if (run.status !== 'running') {
      settled.push(run);
      continue;
    }
    const hb = heartbeat?.runId === run.runId ? heartbeat : undefined;
    const lost: RunLedgerEntry = {
      ...run,
      status: 'failed',
      failureType: 'Crashed',
      costUsd: hb?.spendUsd ?? run.costUsd,
      usageByModel: hb ? { estimated: estimatedUsage(hb) } : run.usageByModel,
      messageCount: hb?.messages ?? run.messageCount,
      finishedAt: new Date(),
    };
    await withTypedFailures(() => store.discardRunMessages(run.sessionId, run.runId));
    await withTypedFailures(() => store.recordRun(lost));
    settled.push(lost);
    logger.warn('Recorded a lost attempt of a step', { runId: run.runId, spendUsd: lost.costUsd });
  }
  return settled;
}

/** An attempt that failed in this worker (the runner threw, or the step was cancelled): best effort, the failure itself is what matters. */
export async function recordFailure({ store, logger }: Deps, base: RunLedgerEntry, progress: StepHeartbeat, err: unknown): Promise<void> {
  const type = err instanceof ClaudeTemporalError ? err.type : 'Crashed';
  await withTypedFailures(() => store.discardRunMessages(base.sessionId, base.runId)).catch(() => undefined);
  await withTypedFailures(() => store.recordRun({ ...base, status: 'failed', failureType: type, costUsd: progress.spendUsd, finishedAt: new Date() })).catch((e) =>
    logger.error('Could not record a failed run', { runId: base.runId, error: String(e) }),
  );
}
