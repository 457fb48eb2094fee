/** `cleanup schedule|run|status`: delete old sessions now, or on a Temporal Schedule. */
import { type Command } from 'commander';
import { CLEANUP_SCHEDULE_ID, DEFAULT_CLEANUP_CRON, DEFAULT_MAX_AGE_DAYS, MAX_MAX_AGE_DAYS } from '../../model/defaults.js';
import { type CleanupWorkflowResult } from '../../model/workflow.js';
import { type Action, type Context } from '../context.js';
import { EXIT, usageError } from '../exit-codes.js';
import { collect, tagsArg } from '../flags.js';
import { colorEnabled, palette, printJson } from '../output.js';

export const registerCleanupCommands = (program: Command, action: Action): void => {
  const cleanup = program.command('cleanup').description('delete old sessions: now, or on a Temporal Schedule');
  const cleanupFlags = (cmd: Command) =>
    cmd
      .option('--max-age-days <n>', 'delete sessions not updated for this many days', String(DEFAULT_MAX_AGE_DAYS))
      .option('--keep-tag <tag>', 'never delete sessions with this tag (repeatable)', collect)
      .option('--dry-run', 'report what would be deleted, delete nothing');
  const scheduleIdFlag = (cmd: Command) => cmd.option('--schedule-id <id>', 'the Schedule', CLEANUP_SCHEDULE_ID);
  cleanupFlags(scheduleIdFlag(cleanup.command('schedule').description('create or update the cleanup Schedule').option('--cron <expr>', 'when, in UTC', DEFAULT_CLEANUP_CRON))).action(action(cleanupSchedule));
  cleanupFlags(cleanup.command('run').description('clean up now, directly in the store').option('--workflow', 'run as a cleanupSessions workflow on a worker instead')).action(action(cleanupRun));
  scheduleIdFlag(cleanup.command('status').description('the cleanup Schedule: spec, next runs, recent actions')).action(action(cleanupStatus));
};

export interface CleanupFlags {
  maxAgeDays?: string;
  keepTag?: string[];
  dryRun?: boolean;
  cron?: string;
  workflow?: boolean;
  scheduleId?: string;
}

function cleanupInput(flags: CleanupFlags) {
  let maxAgeDays = DEFAULT_MAX_AGE_DAYS;
  if (flags.maxAgeDays !== undefined) {
    maxAgeDays = Number(flags.maxAgeDays);
    if (flags.maxAgeDays.trim() === '' || !Number.isFinite(maxAgeDays) || maxAgeDays < 0 || maxAgeDays > MAX_MAX_AGE_DAYS) {
      throw usageError('--max-age-days', `must be a number between 0 and ${MAX_MAX_AGE_DAYS}, got ${flags.maxAgeDays}`);
    }
  }
  return { maxAgeDays, keepTags: tagsArg(flags.keepTag, '--keep-tag'), dryRun: Boolean(flags.dryRun) };
}

async function cleanupSchedule(ctx: Context, flags: CleanupFlags): Promise<number> {
  const input = cleanupInput(flags);
  const cron = flags.cron ?? DEFAULT_CLEANUP_CRON;
  if (cron.trim().split(/\s+/).length < 5 && !cron.startsWith('@')) throw usageError('--cron', `must be a cron expression of five fields, got ${JSON.stringify(cron)}`);
  const client = await ctx.temporal();
  const r = await client.ensureCleanupSchedule({ cron, ...input, scheduleId: flags.scheduleId ?? CLEANUP_SCHEDULE_ID });
  const out = { ...r, cron, ...input, taskQueue: client.taskQueue };
  if (ctx.io.json) printJson(ctx.io, out);
  else ctx.io.stdout.write(`${r.created ? 'created' : 'updated'} schedule ${r.scheduleId}: ${cron} (UTC), sessions older than ${input.maxAgeDays} days${input.keepTags.length ? `, keeping tags ${input.keepTags.join(', ')}` : ''}${input.dryRun ? ', dry run' : ''}\n`);
  return EXIT.ok;
}

async function cleanupRun(ctx: Context, flags: CleanupFlags): Promise<number> {
  const input = cleanupInput(flags);
  let result: CleanupWorkflowResult & { workflowId?: string };
  if (flags.workflow) result = await (await ctx.temporal()).runCleanup(input);
  else result = await (await ctx.store()).cleanupOldSessions(input);
  const out = { ...result, maxAgeDays: input.maxAgeDays, keepTags: input.keepTags };
  if (ctx.io.json) printJson(ctx.io, out);
  else {
    ctx.io.stdout.write(`${input.dryRun ? 'would delete' : 'deleted'} ${result.deletedCount} sessions not updated for ${input.maxAgeDays} days\n`);
    for (const id of result.sessionIds.slice(0, 20)) ctx.io.stdout.write(`  ${id}\n`);
    if (result.sessionIds.length > 20) ctx.io.stdout.write(`  ... and ${result.deletedCount - 20} more\n`);
  }
  return EXIT.ok;
}

async function cleanupStatus(ctx: Context, flags: { scheduleId?: string }): Promise<number> {
  const client = await ctx.temporal();
  const out = await client.describeCleanupSchedule(flags.scheduleId ?? CLEANUP_SCHEDULE_ID);
  if (ctx.io.json) printJson(ctx.io, out);
  else if (!out.exists) ctx.io.stdout.write(`no cleanup schedule ${out.scheduleId}: create it with \`claude-temporal cleanup schedule\`\n`);
  else {
    const p = palette(colorEnabled(ctx.io.stdout, ctx.io.env));
    const w = (k: string, v: string) => ctx.io.stdout.write(`${p.bold(k.padEnd(10))}${v}\n`);
    w('schedule', `${out.scheduleId}${out.paused ? ' (paused)' : ''}`);
    w('spec', JSON.stringify(out.spec));
    w('action', JSON.stringify(out.action));
    w('next', out.nextRuns.join(', ') || '-');
    w('recent', out.recentActions.length ? '' : '-');
    for (const a of out.recentActions) ctx.io.stdout.write(`  ${a.takenAt}  ${a.workflowId}\n`);
  }
  return EXIT.ok;
}
