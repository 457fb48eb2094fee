import { Context } from '@temporalio/activity';
import { DEFAULT_MAX_AGE_DAYS } from '../model/defaults.js';
import { type SessionStore } from '../store/types.js';
import { type CleanupInput, type CleanupWorkflowResult } from '../model/workflow.js';
import { withTypedFailures } from './failures.js';

/** The cleanup activity: deletes old sessions in batches, heartbeating after each. */
export function createCleanupActivity(store: SessionStore): (input: CleanupInput) => Promise<CleanupWorkflowResult> {
  return async function cleanupSessions(input: CleanupInput): Promise<CleanupWorkflowResult> {
    const ctx = Context.current();
    const result = await withTypedFailures(() =>
      store.cleanupOldSessions({
        maxAgeDays: input.maxAgeDays ?? DEFAULT_MAX_AGE_DAYS,
        keepTags: input.keepTags ?? [],
        dryRun: input.dryRun ?? false,
        onBatch: ({ deleted }) => ctx.heartbeat({ deleted }),
      }),
    );
    return { deletedCount: result.deletedCount, sessionIds: result.sessionIds.slice(0, 100), dryRun: result.dryRun };
  };
}
