import { Context } from '@temporalio/activity';
import { DEFAULT_MAX_AGE_DAYS } from '../model/defaults.js';
import { type SessionStore } from '../store/types.js';
import { type CleanupInput, type CleanupWorkflowResult } from '../model/workflow.js';
import { withTypedFailures } from './failures.js';

/** The cleanup activity: deletes old sessions in batches (keeping their ledger entries), heartbeating after each. */
export function createCleanupActivity(store: SessionStore): (input: CleanupInput) => Promise<CleanupWorkflowResult> {
  return async function cleanupSessions(input: CleanupInput): Promise<CleanupWorkflowResult> {
    const ctx = Context.current();
    // The deletion-log id is the workflow run's, so a retried activity continues its record.
    const workflowId = ctx.info.workflowExecution?.workflowId ?? ctx.info.activityId;
    const runId = ctx.info.workflowExecution?.runId ?? String(ctx.info.attempt);
    const result = await withTypedFailures(() =>
      store.cleanupOldSessions({
        maxAgeDays: input.maxAgeDays ?? DEFAULT_MAX_AGE_DAYS,
        keepTags: input.keepTags ?? [],
        dryRun: input.dryRun ?? false,
        ...(input.archive !== undefined ? { archive: input.archive } : {}),
        ...(input.purgeLedgerOlderThanDays !== undefined ? { purgeLedgerOlderThanDays: input.purgeLedgerOlderThanDays } : {}),
        logId: `${workflowId}:${runId}`,
        trigger: input.schedule ? { kind: 'schedule', name: input.schedule.id } : { kind: 'workflow', name: workflowId },
        onBatch: ({ deleted }) => ctx.heartbeat({ deleted }),
      }),
    );
    const sessionIds = result.sessionIds.slice(0, 100);
    if (result.dryRun) return { dryRun: true, wouldDelete: result.wouldDelete, sessionIds, logId: result.logId, skippedBusy: result.skippedBusy };
    return {
      dryRun: false,
      deletedCount: result.deletedCount,
      sessionIds,
      logId: result.logId,
      skippedBusy: result.skippedBusy,
      bytesFreed: result.bytesFreed,
      archiveRefs: result.archiveRefs.slice(0, 100),
      ledgerEntriesPurged: result.ledgerEntriesPurged,
    };
  };
}
