/**
 * Store commands: `sessions ...`, `costs` and `cleanup ...`. Every flag is
 * checked (naming the flag) before anything connects.
 */
import { randomUUID } from 'node:crypto';
import { CLEANUP_SCHEDULE_ID, DEFAULT_CLEANUP_CRON, DEFAULT_MAX_AGE_DAYS, MAX_MAX_AGE_DAYS } from '../model/defaults.js';
import { cost as validCost, cursor as validCursor, date as validDate, limit as validLimit } from '../model/validation/fields.js';
import {
  COST_DIMENSIONS,
  SESSION_STATUSES,
  type CostDimension,
  type CostReport,
  type LineageNode,
  type LineageResult,
  type SearchQuery,
  type SessionMetadata,
  type SessionStatus,
} from '../model/session.js';
import { cleanupSessions } from '../workflows/index.js';
import { type CleanupWorkflowResult } from '../model/workflow.js';
import { type Context } from './context.js';
import { CliError, EXIT, usageError } from './errors.js';
import { barChart, colorEnabled, type Io, palette, printJson, shortDate, table, truncate, usd } from './output.js';
import { sessionIdArg, tagsArg } from './run.js';

/** Rethrow a store validation error under the flag's name. */
function asFlag<T>(flag: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if ((err as { type?: string }).type === 'InvalidInput') throw usageError(flag, (err as Error).message.replace(/^Invalid [^:]+: /, ''));
    throw err;
  }
}

/** `YYYY-MM-DD` (midnight UTC) or an ISO date-time with a zone. */
export function dateFlag(value: string | undefined, flag: string): Date | undefined {
  if (value === undefined) return undefined;
  const iso = /^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value;
  return asFlag(flag, () => validDate(iso, flag));
}

function costFlag(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = value.trim() === '' ? NaN : Number(value);
  return asFlag(flag, () => validCost(Number.isNaN(n) ? value : n, flag));
}

function limitFlag(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = /^\d+$/.test(value) ? Number(value) : value;
  return asFlag('--limit', () => validLimit(n, '--limit'));
}

function cursorFlag(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  return asFlag('--cursor', () => validCursor(value, '--cursor') ?? undefined);
}

const sessionColumns = [
  { header: 'SESSION', value: (s: SessionMetadata) => s.sessionId },
  { header: 'UPDATED', value: (s: SessionMetadata) => shortDate(s.updatedAt) },
  { header: 'STATUS', value: (s: SessionMetadata) => s.status },
  { header: 'MODEL', value: (s: SessionMetadata) => s.model ?? '-', max: 24 },
  { header: 'MSGS', value: (s: SessionMetadata) => String(s.messageCount), right: true },
  { header: 'COST', value: (s: SessionMetadata) => usd(s.totalCostUsd), right: true },
  { header: 'TAGS', value: (s: SessionMetadata) => s.tags.join(',') || '-', max: 30 },
  { header: 'DESCRIPTION', value: (s: SessionMetadata) => s.description ?? s.summary ?? '', max: 40 },
];

function printPage(io: Io, page: { items: SessionMetadata[]; nextCursor: string | null }): void {
  if (io.json) return printJson(io, page);
  const p = palette(colorEnabled(io.stdout, io.env));
  if (page.items.length === 0) io.stdout.write('no sessions\n');
  else io.stdout.write(table(page.items, sessionColumns, p));
  if (page.nextCursor) io.stdout.write(p.dim(`more: --cursor ${page.nextCursor}\n`));
}

export async function sessionsList(ctx: Context, flags: { limit?: string; cursor?: string }): Promise<number> {
  const limit = limitFlag(flags.limit);
  const cursor = cursorFlag(flags.cursor);
  const store = await ctx.store();
  printPage(ctx.io, await store.listSessions({ limit, cursor }));
  return EXIT.ok;
}

export interface SearchFlags {
  tag?: string[];
  allTags?: boolean;
  after?: string;
  before?: string;
  minCost?: string;
  maxCost?: string;
  model?: string;
  status?: string;
  scope?: string;
  limit?: string;
  cursor?: string;
}

export function searchQueryOf(flags: SearchFlags): SearchQuery {
  const tags = tagsArg(flags.tag);
  if (flags.allTags && tags.length === 0) throw usageError('--all-tags', 'needs at least one --tag');
  if (flags.status !== undefined && !(SESSION_STATUSES as readonly string[]).includes(flags.status)) {
    throw usageError('--status', `must be one of ${SESSION_STATUSES.join(', ')}`);
  }
  const q: SearchQuery = {
    ...(tags.length ? (flags.allTags ? { allTags: tags } : { tags }) : {}),
    after: dateFlag(flags.after, '--after'),
    before: dateFlag(flags.before, '--before'),
    minCost: costFlag(flags.minCost, '--min-cost'),
    maxCost: costFlag(flags.maxCost, '--max-cost'),
    ...(flags.model !== undefined ? { model: flags.model } : {}),
    ...(flags.status !== undefined ? { status: flags.status as SessionStatus } : {}),
    ...(flags.scope !== undefined ? { scope: flags.scope } : {}),
    limit: limitFlag(flags.limit),
    cursor: cursorFlag(flags.cursor),
  };
  if (q.minCost !== undefined && q.maxCost !== undefined && q.minCost > q.maxCost) throw usageError('--min-cost', 'must not exceed --max-cost');
  return Object.fromEntries(Object.entries(q).filter(([, v]) => v !== undefined)) as SearchQuery;
}

export async function sessionsSearch(ctx: Context, flags: SearchFlags): Promise<number> {
  const query = searchQueryOf(flags);
  const store = await ctx.store();
  printPage(ctx.io, await store.search(query));
  return EXIT.ok;
}

function notFound(sessionId: string): CliError {
  return new CliError(`Session ${sessionId} not found`, EXIT.other, { kind: 'NotFound' });
}

/** `--json` of `sessions show`: the metadata and, with `--messages`, the stored messages parsed. */
export interface ShowResult {
  session: SessionMetadata;
  messages?: { runId: string; seq: number; type: string; subtype: string | null; message: unknown }[];
}

export async function sessionsShow(ctx: Context, id: string, flags: { messages?: boolean }): Promise<number> {
  const sessionId = sessionIdArg(id);
  const store = await ctx.store();
  const io = ctx.io;
  if (!flags.messages) {
    const session = await store.getSession(sessionId);
    if (!session) throw notFound(sessionId);
    if (io.json) printJson(io, { session } satisfies ShowResult);
    else printSession(io, session);
    return EXIT.ok;
  }
  const loaded = await store.loadSession(sessionId);
  if (!loaded.found) throw notFound(sessionId);
  const messages: NonNullable<ShowResult['messages']> = [];
  for await (const m of loaded.session.messages()) {
    messages.push({ runId: m.runId, seq: m.seq, type: m.type, subtype: m.subtype, message: JSON.parse(m.raw) as unknown });
  }
  if (io.json) printJson(io, { session: loaded.session.metadata, messages } satisfies ShowResult);
  else {
    printSession(io, loaded.session.metadata);
    io.stdout.write('\n');
    for (const m of messages) io.stdout.write(`${String(m.seq).padStart(4)} ${m.type}${m.subtype ? `/${m.subtype}` : ''}  ${truncate(messageText(m.message), 100)}\n`);
  }
  return EXIT.ok;
}

function messageText(message: unknown): string {
  const m = message as { message?: { content?: unknown }; result?: unknown };
  if (typeof m.result === 'string') return m.result;
  const content = m.message?.content;
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .map((c: { type?: string; text?: string; name?: string }) => (c.type === 'text' ? c.text : c.type === 'tool_use' ? `[tool ${c.name}]` : c.type ? `[${c.type}]` : ''))
      .join(' ');
  }
  return '';
}

function printSession(io: Io, s: SessionMetadata): void {
  const p = palette(colorEnabled(io.stdout, io.env));
  const rows: [string, string][] = [
    ['session', s.sessionId],
    ['status', s.status],
    ['created', shortDate(s.createdAt)],
    ['updated', shortDate(s.updatedAt)],
    ['model', s.models.join(', ') || '-'],
    ['messages', `${s.messageCount} (${s.turnCount} assistant turns, ${s.runCount} runs)`],
    ['cost', `${usd(s.totalCostUsd)} (lineage ${usd(s.lineageCostUsd)})`],
    ['tags', s.tags.join(', ') || '-'],
    ['description', s.description ?? '-'],
    ['summary', s.summary ? truncate(s.summary, 200) : '-'],
    ['scope', s.scope ?? '-'],
    ['parent', s.lineage.parentSessionId ? `${s.lineage.parentSessionId} at message ${s.lineage.forkedAtMessage}` : '-'],
    ['origin', [s.origin.pipeline, s.origin.step, s.origin.workflowId].filter(Boolean).join(' / ') || '-'],
  ];
  for (const [k, v] of rows) io.stdout.write(`${p.bold(k.padEnd(12))}${v}\n`);
}

export async function sessionsLineage(ctx: Context, id: string): Promise<number> {
  const sessionId = sessionIdArg(id);
  const store = await ctx.store();
  if (!(await store.getSession(sessionId))) throw notFound(sessionId);
  const lineage = await store.getLineage(sessionId);
  if (ctx.io.json) printJson(ctx.io, lineage);
  else ctx.io.stdout.write(lineageText(lineage));
  return EXIT.ok;
}

export function lineageText(l: LineageResult): string {
  const lines: string[] = [];
  l.ancestors.forEach((a, i) => lines.push(`${'  '.repeat(i)}${i ? '└─ ' : ''}${a.sessionId}  ${usd(a.totalCostUsd)}  ${truncate(a.description ?? '', 50)}`.trimEnd()));
  const indent = '  '.repeat(l.ancestors.length);
  const walk = (n: LineageNode, prefix: string, tail: string, root: boolean) => {
    const at = n.forkedAtMessage !== null ? ` (forked at message ${n.forkedAtMessage})` : '';
    lines.push(`${prefix}${n.sessionId}${root ? ' *' : ''}  ${usd(n.totalCostUsd)}${at}  ${truncate(n.description ?? '', 50)}`.trimEnd());
    n.children.forEach((c, i) => {
      const last = i === n.children.length - 1;
      walk(c, tail + (last ? '└─ ' : '├─ '), tail + (last ? '   ' : '│  '), false);
    });
  };
  walk(l.tree, indent + (l.ancestors.length ? '└─ ' : ''), indent + (l.ancestors.length ? '   ' : ''), true);
  return lines.join('\n') + '\n';
}

export async function sessionsTag(ctx: Context, id: string, tagValues: string[], remove: boolean): Promise<number> {
  const sessionId = sessionIdArg(id);
  const tags = tagsArg(tagValues, 'tag');
  const store = await ctx.store();
  if (!(await store.getSession(sessionId))) throw notFound(sessionId);
  const session = remove ? await store.untagSession(sessionId, tags) : await store.tagSession(sessionId, tags);
  if (ctx.io.json) printJson(ctx.io, { session });
  else ctx.io.stdout.write(`${session.sessionId}  tags: ${session.tags.join(', ') || '-'}\n`);
  return EXIT.ok;
}

export async function sessionsDelete(ctx: Context, id: string): Promise<number> {
  const sessionId = sessionIdArg(id);
  const store = await ctx.store();
  const deleted = await store.deleteSession(sessionId);
  if (!deleted) throw notFound(sessionId);
  if (ctx.io.json) printJson(ctx.io, { sessionId, deleted });
  else ctx.io.stdout.write(`deleted ${sessionId}\n`);
  return EXIT.ok;
}

export async function costs(ctx: Context, flags: { by?: string; since?: string; until?: string; tag?: string[] }): Promise<number> {
  const by = flags.by ?? 'total';
  if (!(COST_DIMENSIONS as readonly string[]).includes(by)) throw usageError('--by', `must be one of ${COST_DIMENSIONS.join(', ')}`);
  const since = dateFlag(flags.since, '--since');
  const until = dateFlag(flags.until, '--until');
  const tags = tagsArg(flags.tag);
  const store = await ctx.store();
  const report = await store.costReport({ by: by as CostDimension, ...(since ? { since } : {}), ...(until ? { until } : {}), ...(tags.length ? { tags } : {}) });
  if (ctx.io.json) printJson(ctx.io, report);
  else ctx.io.stdout.write(costText(report, palette(colorEnabled(ctx.io.stdout, ctx.io.env))));
  return EXIT.ok;
}

export function costText(report: CostReport, p = palette(false)): string {
  if (report.rows.length === 0) return `no runs\n`;
  const total = `${p.bold('total')} ${usd(report.total.costUsd)} · ${report.total.runs} runs · ${report.total.sessions} sessions\n`;
  if (report.by === 'day') {
    const rows = [...report.rows].sort((a, b) => a.key.localeCompare(b.key));
    return barChart(rows.map((r) => ({ label: r.key, value: r.costUsd, note: `${usd(r.costUsd)} · ${r.runs} runs` }))) + total;
  }
  return (
    table(
      report.rows,
      [
        { header: report.by.toUpperCase(), value: (r) => r.key, max: 40 },
        { header: 'COST', value: (r) => usd(r.costUsd), right: true },
        { header: 'RUNS', value: (r) => String(r.runs), right: true },
        { header: 'SESSIONS', value: (r) => String(r.sessions), right: true },
        { header: 'IN TOKENS', value: (r) => String(r.inputTokens), right: true },
        { header: 'OUT TOKENS', value: (r) => String(r.outputTokens), right: true },
      ],
      p,
    ) + (report.by === 'total' ? '' : total)
  );
}

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

export async function cleanupSchedule(ctx: Context, flags: CleanupFlags): Promise<number> {
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

export async function cleanupRun(ctx: Context, flags: CleanupFlags): Promise<number> {
  const input = cleanupInput(flags);
  let result: CleanupWorkflowResult & { workflowId?: string };
  if (flags.workflow) {
    const client = await ctx.temporal();
    const workflowId = `cleanup-${randomUUID()}`;
    result = { workflowId, ...(await client.temporal.workflow.execute(cleanupSessions, { taskQueue: client.taskQueue, workflowId, args: [input] })) };
  } else {
    const store = await ctx.store();
    result = await store.cleanupOldSessions(input);
  }
  const out = { ...result, maxAgeDays: input.maxAgeDays, keepTags: input.keepTags };
  if (ctx.io.json) printJson(ctx.io, out);
  else {
    ctx.io.stdout.write(`${input.dryRun ? 'would delete' : 'deleted'} ${result.deletedCount} sessions not updated for ${input.maxAgeDays} days\n`);
    for (const id of result.sessionIds.slice(0, 20)) ctx.io.stdout.write(`  ${id}\n`);
    if (result.sessionIds.length > 20) ctx.io.stdout.write(`  ... and ${result.deletedCount - 20} more\n`);
  }
  return EXIT.ok;
}

export async function cleanupStatus(ctx: Context, flags: { scheduleId?: string }): Promise<number> {
  const client = await ctx.temporal();
  const scheduleId = flags.scheduleId ?? CLEANUP_SCHEDULE_ID;
  let out: Record<string, unknown>;
  try {
    const d = await client.temporal.schedule.getHandle(scheduleId).describe();
    const action = d.action as { workflowType?: string; taskQueue?: string; args?: unknown[] };
    out = {
      scheduleId,
      exists: true,
      paused: d.state.paused,
      spec: d.spec,
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
    out = { scheduleId, exists: false };
  }
  if (ctx.io.json) printJson(ctx.io, out);
  else if (!out.exists) ctx.io.stdout.write(`no cleanup schedule ${scheduleId}: create it with \`claude-temporal cleanup schedule\`\n`);
  else {
    const p = palette(colorEnabled(ctx.io.stdout, ctx.io.env));
    const w = (k: string, v: string) => ctx.io.stdout.write(`${p.bold(k.padEnd(10))}${v}\n`);
    w('schedule', `${scheduleId}${out.paused ? ' (paused)' : ''}`);
    w('spec', JSON.stringify(out.spec));
    w('action', JSON.stringify(out.action));
    w('next', (out.nextRuns as string[]).join(', ') || '-');
    const recent = out.recentActions as { takenAt: string; workflowId: string }[];
    w('recent', recent.length ? '' : '-');
    for (const a of recent) ctx.io.stdout.write(`  ${a.takenAt}  ${a.workflowId}\n`);
  }
  return EXIT.ok;
}
