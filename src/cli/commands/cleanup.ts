/**
 * `cleanup schedule|run|log|status`: delete old sessions now, or on a Temporal Schedule, keeping their
 * ledger entries; the deletion log of every cleanup.
 */
import { type Command } from 'commander';
import { CLEANUP_SCHEDULE_ID, DEFAULT_CLEANUP_CRON, DEFAULT_MAX_AGE_DAYS } from '../../model/defaults.js';
import { type DeletionRecord } from '../../model/retention.js';
import { type CleanupWorkflowResult } from '../../model/workflow.js';
import { type Action, type Context } from '../context.js';
import { CliError, EXIT, usageError } from '../exit-codes.js';
import { archiveFlag, collect, daysFlag, tagsArg } from '../flags.js';
import { bytesText, shortDate, table } from '../format.js';
import { colorEnabled, type Io, palette, printJson } from '../output.js';
import { cronExpression } from '../../model/validation/cron.js';
import { idText } from '../../model/validation/user-input.js';

export const registerCleanupCommands = (program: Command, action: Action): void => {
  const cleanup = program.command('cleanup').description('delete old sessions (their ledger entries are kept): now, or on a Temporal Schedule');
  const cleanupFlags = (cmd: Command) =>
    cmd
      .option('--max-age-days <n>', 'delete sessions not updated for this many days', String(DEFAULT_MAX_AGE_DAYS))
      .option('--keep-tag <tag>', 'never delete sessions with this tag (repeatable)', collect)
      .option('--dry-run', 'report what would be deleted, delete nothing')
      .option('--archive <target>', 'archive each session first: gridfs, gridfs:<bucket> or an absolute directory')
      .option('--purge-ledger-older-than <days>', 'also remove ledger entries of deleted sessions older than this (default: never)');
  const scheduleIdFlag = (cmd: Command) => cmd.option('--schedule-id <id>', 'the Schedule', CLEANUP_SCHEDULE_ID);
  cleanupFlags(scheduleIdFlag(cleanup.command('schedule').description('create or update the cleanup Schedule').option('--cron <expr>', 'when, in UTC', DEFAULT_CLEANUP_CRON))).action(action(cleanupSchedule));
  cleanupFlags(cleanup.command('run').description('clean up now, directly in the store').option('--workflow', 'run as a cleanupSessions workflow on a worker instead')).action(action(cleanupRun));
  cleanup
    .command('log')
    .argument('[log-id]', 'one record in full')
    .description('the deletion log: every cleanup and delete, what it removed and why')
    .option('--limit <n>', 'records (1-1000, default 20)')
    .action(action(cleanupLog));
  scheduleIdFlag(cleanup.command('status').description('the cleanup Schedule: its cron, next runs, recent actions')).action(action(cleanupStatus));
};

export interface CleanupFlags {
  maxAgeDays?: string;
  keepTag?: string[];
  dryRun?: boolean;
  archive?: string;
  purgeLedgerOlderThan?: string;
  cron?: string;
  workflow?: boolean;
  scheduleId?: string;
}

function cleanupInput(flags: CleanupFlags) {
  const maxAgeDays = daysFlag(flags.maxAgeDays, '--max-age-days') ?? DEFAULT_MAX_AGE_DAYS;
  const archive = archiveFlag(flags.archive);
  const purgeLedgerOlderThanDays = daysFlag(flags.purgeLedgerOlderThan, '--purge-ledger-older-than');
  return {
    maxAgeDays,
    keepTags: tagsArg(flags.keepTag, '--keep-tag'),
    dryRun: Boolean(flags.dryRun),
    ...(archive !== undefined ? { archive } : {}),
    ...(purgeLedgerOlderThanDays !== undefined ? { purgeLedgerOlderThanDays } : {}),
  };
}

async function cleanupSchedule(ctx: Context, flags: CleanupFlags): Promise<number> {
  const input = cleanupInput(flags);
  const cron = cronExpression(flags.cron ?? DEFAULT_CLEANUP_CRON, '--cron');
  const scheduleId = idText(flags.scheduleId ?? CLEANUP_SCHEDULE_ID, '--schedule-id');
  const client = await ctx.temporal();
  const r = await client.ensureCleanupSchedule({ cron, ...input, scheduleId });
  const out = { ...r, cron, ...input, taskQueue: client.taskQueue };
  if (ctx.io.json) printJson(ctx.io, out);
  else {
    const extras = [
      input.keepTags.length ? `keeping tags ${input.keepTags.join(', ')}` : '',
      input.archive ? `archiving to ${input.archive}` : '',
      input.purgeLedgerOlderThanDays !== undefined ? `purging ledger entries of deleted sessions after ${input.purgeLedgerOlderThanDays} days` : '',
      input.dryRun ? 'dry run' : '',
    ].filter(Boolean);
    ctx.io.stdout.write(`${r.created ? 'created' : 'updated'} schedule ${r.scheduleId}: ${cron} (UTC), sessions idle for ${input.maxAgeDays} days${extras.map((e) => `, ${e}`).join('')}\n`);
  }
  return EXIT.ok;
}

async function cleanupRun(ctx: Context, flags: CleanupFlags): Promise<number> {
  const input = cleanupInput(flags);
  let result: CleanupWorkflowResult & { workflowId?: string };
  if (flags.workflow) result = await (await ctx.temporal()).runCleanup(input);
  else result = await (await ctx.store()).cleanupOldSessions({ ...input, trigger: { kind: 'command', name: 'claude-temporal cleanup run' } });
  const out = { ...result, maxAgeDays: input.maxAgeDays, keepTags: input.keepTags };
  if (ctx.io.json) printJson(ctx.io, out);
  else ctx.io.stdout.write(cleanupText(result, input.maxAgeDays));
  return EXIT.ok;
}

function cleanupText(r: CleanupWorkflowResult, maxAgeDays: number): string {
  const n = r.dryRun ? r.wouldDelete : r.deletedCount;
  const lines = [`${r.dryRun ? 'would delete' : 'deleted'} ${n} sessions not updated for ${maxAgeDays} days; their ledger entries are kept`];
  if (!r.dryRun) lines.push(`freed ${bytesText(r.bytesFreed)}${r.archiveRefs.length ? `, archived ${r.archiveRefs.length}` : ''}${r.ledgerEntriesPurged ? `, purged ${r.ledgerEntriesPurged} ledger entries` : ''}`);
  if (r.skippedBusy) lines.push(`skipped ${r.skippedBusy} sessions with a run going on`);
  lines.push(`log: claude-temporal cleanup log ${r.logId}`);
  for (const [i, id] of r.sessionIds.slice(0, 20).entries()) lines.push(`  ${id}${!r.dryRun && r.archiveRefs[i] ? `  ${r.archiveRefs[i]}` : ''}`);
  if (n > 20) lines.push(`  ... and ${n - 20} more`);
  return lines.join('\n') + '\n';
}

async function cleanupLog(ctx: Context, logId: string | undefined, flags: { limit?: string }): Promise<number> {
  let limit = 20;
  if (flags.limit !== undefined) {
    limit = Number(flags.limit);
    if (!/^\d+$/.test(flags.limit) || limit < 1 || limit > 1000) throw usageError('--limit', `must be a whole number from 1 to 1000, got ${flags.limit}`);
  }
  const store = await ctx.store();
  if (logId !== undefined) {
    const r = await store.getDeletionRecord(logId);
    if (!r) throw new CliError(`No deletion-log record ${logId}`, EXIT.other, { kind: 'NotFound' });
    if (ctx.io.json) printJson(ctx.io, r);
    else ctx.io.stdout.write(recordText(r));
    return EXIT.ok;
  }
  const records = await store.deletionLog({ limit });
  if (ctx.io.json) printJson(ctx.io, { records });
  else ctx.io.stdout.write(logTable(ctx.io, records));
  return EXIT.ok;
}

function criteriaText(r: DeletionRecord): string {
  const c = r.criteria;
  if (c.maxAgeDays === null) return 'one session by request';
  return [
    `idle ${c.maxAgeDays} days`,
    c.keepTags.length ? `keeping ${c.keepTags.join(',')}` : '',
    c.archive ? `archive ${c.archive}` : '',
    c.purgeLedgerOlderThanDays !== null ? `ledger purge ${c.purgeLedgerOlderThanDays} days` : '',
  ]
    .filter(Boolean)
    .join(', ');
}

function logTable(io: Io, records: DeletionRecord[]): string {
  if (records.length === 0) return 'no cleanups recorded\n';
  return table(
    records,
    [
      { header: 'WHEN', value: (r) => shortDate(r.startedAt) },
      { header: 'BY', value: (r) => `${r.trigger.kind} ${r.trigger.name}`, max: 40 },
      { header: 'SESSIONS', value: (r) => `${r.count}${r.dryRun ? ' (dry run)' : ''}`, right: true },
      { header: 'FREED', value: (r) => bytesText(r.bytesFreed), right: true },
      { header: 'CRITERIA', value: criteriaText, max: 50 },
      { header: 'LOG ID', value: (r) => r.logId },
    ],
    palette(colorEnabled(io.stdout, io.env)),
  );
}

function recordText(r: DeletionRecord): string {
  const rows: [string, string][] = [
    ['log id', r.logId],
    ['started', r.startedAt.toISOString()],
    ['finished', r.finishedAt ? r.finishedAt.toISOString() : 'not finished'],
    ['by', `${r.trigger.kind} ${r.trigger.name}`],
    ['criteria', criteriaText(r)],
    [r.dryRun ? 'would delete' : 'deleted', `${r.count} sessions`],
    ['freed', bytesText(r.bytesFreed)],
    ['ledger', r.ledgerEntriesPurged ? `${r.ledgerEntriesPurged} entries purged` : 'kept'],
  ];
  const out = rows.map(([k, v]) => `${k.padEnd(14)}${v}\n`);
  for (const [i, id] of r.sessionIds.entries()) out.push(`  ${id}${r.archiveRefs[i] ? `  ${r.archiveRefs[i]}` : ''}\n`);
  if (r.count > r.sessionIds.length) out.push(`  ... and ${r.count - r.sessionIds.length} more\n`);
  return out.join('');
}


async function cleanupStatus(ctx: Context, flags: { scheduleId?: string }): Promise<number> {
  const scheduleId = idText(flags.scheduleId ?? CLEANUP_SCHEDULE_ID, '--schedule-id');
  const client = await ctx.temporal();
  const out = await client.describeCleanupSchedule(scheduleId);
  if (ctx.io.json) printJson(ctx.io, out);
  else if (!out.exists) ctx.io.stdout.write(`no cleanup schedule ${out.scheduleId}: create it with \`claude-temporal cleanup schedule\`\n`);
  else {
    const p = palette(colorEnabled(ctx.io.stdout, ctx.io.env));
    const w = (k: string, v: string) => ctx.io.stdout.write(`${p.bold(k.padEnd(10))}${v}\n`);
    w('schedule', `${out.scheduleId}${out.paused ? ' (paused)' : ''}`);
    w('cron', out.cron ? `${out.cron} (UTC)` : JSON.stringify(out.spec));
    w('action', JSON.stringify(out.action));
    w('next', out.nextRuns.join(', ') || '-');
    w('recent', out.recentActions.length ? '' : '-');
    for (const a of out.recentActions) ctx.io.stdout.write(`  ${a.takenAt}  ${a.workflowId}\n`);
  }
  return EXIT.ok;
}
