/**
 * The cleanup of old sessions through Temporal: the Schedule that runs it
 * (create or update, describe) and a run now as a workflow on a worker.
 */
import { randomUUID } from 'node:crypto';
import { type Client, ScheduleAlreadyRunning, ScheduleOverlapPolicy } from '@temporalio/client';
import { cleanupSessions } from '../workflows/index.js';
import { type CleanupInput, type CleanupWorkflowResult } from '../model/workflow.js';
import { CLEANUP_SCHEDULE_ID, DEFAULT_CLEANUP_CRON } from '../model/defaults.js';
import { cronExpression } from '../model/validation/cron.js';
import { cleanupOptions } from '../model/validation/store-inputs.js';
import { idText } from '../model/validation/user-input.js';
import { type CleanupScheduleOptions, type CleanupScheduleStatus, type StartOptions } from './types.js';

/** Create or update the cleanup Schedule (one per namespace); overlapping runs are skipped. */
export async function ensureCleanupSchedule(client: Client, taskQueue: string, opts: CleanupScheduleOptions = {}): Promise<{ scheduleId: string; created: boolean }> {
  const scheduleId = opts.scheduleId === undefined ? CLEANUP_SCHEDULE_ID : idText(opts.scheduleId, 'scheduleId');
  const cron = cronExpression(opts.cron ?? DEFAULT_CLEANUP_CRON, 'cron');
  const valid = cleanupOptions({ maxAgeDays: opts.maxAgeDays, keepTags: opts.keepTags, dryRun: opts.dryRun });
  // The cron rides in the input too: the server describes a Schedule back as expanded calendars.
  const input: CleanupInput = { maxAgeDays: valid.maxAgeDays, keepTags: valid.keepTags, dryRun: valid.dryRun, schedule: { id: scheduleId, cron } };
  if (opts.archive !== undefined) input.archive = opts.archive;
  if (opts.purgeLedgerOlderThanDays !== undefined) input.purgeLedgerOlderThanDays = opts.purgeLedgerOlderThanDays;
  const args: [CleanupInput] = [input];
  const spec = { cronExpressions: [cron] };
  const action = { type: 'startWorkflow' as const, workflowType: cleanupSessions, taskQueue, args, workflowId: `${scheduleId}-run` };
  const policies = { overlap: ScheduleOverlapPolicy.SKIP };
  try {
    await client.schedule.create({ scheduleId, spec, action, policies });
    return { scheduleId, created: true };
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
    await client.schedule.getHandle(scheduleId).update((prev) => ({ ...prev, spec, action, policies: { ...prev.policies, ...policies } }));
    return { scheduleId, created: false };
  }
}

/** The cleanup Schedule's spec, next runs and recent actions; `exists: false` when there is none. */
export async function describeCleanupSchedule(client: Client, scheduleId: string = CLEANUP_SCHEDULE_ID): Promise<CleanupScheduleStatus> {
  try {
    const d = await client.schedule.getHandle(scheduleId).describe();
    const action = d.action as { workflowType?: string; taskQueue?: string; args?: unknown[] };
    const input = action.args?.[0] as CleanupInput | undefined;
    const cron = input?.schedule?.cron ?? (d.spec as { cronExpressions?: string[] }).cronExpressions?.[0] ?? null;
    return {
      scheduleId,
      exists: true,
      paused: d.state.paused,
      cron,
      ...(cron === null ? { spec: d.spec } : {}),
      action: { workflowType: action.workflowType, taskQueue: action.taskQueue, input: action.args?.[0] ?? null },
      nextRuns: d.info.nextActionTimes.slice(0, 5).map((t) => t.toISOString()),
      recentActions: d.info.recentActions.map((a) => ({
        scheduledAt: a.scheduledAt.toISOString(),
        takenAt: a.takenAt.toISOString(),
        workflowId: a.action.workflow.workflowId,
        runId: a.action.workflow.firstExecutionRunId,
      })),
      runningWorkflows: d.info.runningActions.map((a) => a.workflow.workflowId),
    };
  } catch (err) {
    if ((err as { name?: string }).name !== 'ScheduleNotFoundError') throw err;
    return { scheduleId, exists: false };
  }
}

/** Clean up now as a `cleanupSessions` workflow on a worker of the task queue, and wait for it. */
export async function runCleanup(client: Client, taskQueue: string, input: CleanupInput, opts: StartOptions = {}): Promise<CleanupWorkflowResult & { workflowId: string }> {
  const workflowId = opts.workflowId ?? `cleanup-${randomUUID()}`;
  const result = await client.workflow.execute(cleanupSessions, { taskQueue, workflowId, args: [input] });
  return { workflowId, ...result };
}
