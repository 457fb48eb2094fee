/**
 * `sessions list|search|show|lineage|tag|untag|delete|hold|release|restore|export`: the stored sessions.
 * Every flag is checked (naming the flag) before anything connects.
 */
import { type Command, Option } from 'commander';
import { EXPORT_FORMATS, holdReason } from '../../model/retention.js';
import { dateRange, modelName } from '../../model/validation/user-input.js';
import { SESSION_STATUSES, type SearchQuery, type SessionMetadata, type SessionStatus } from '../../model/session.js';
import { type Action, type Context } from '../context.js';
import { CliError, EXIT, usageError } from '../exit-codes.js';
import { addCwdFlag, archiveRefArg, collect, costFlag, cursorFlag, cwdFlag, dateFlag, limitFlag, sessionIdArg, tagsArg } from '../flags.js';
import { shortDate, table, truncate, usd } from '../format.js';
import { colorEnabled, type Io, palette, printJson } from '../output.js';
import { markdownHeader, markdownOf } from '../markdown.js';
import { lineageText, parentDeletedText } from '../reports.js';

export const registerSessionsCommands = (program: Command, action: Action): void => {
  const sessions = program.command('sessions').description('list, search, show, tag and delete stored sessions');
  sessions
    .command('list')
    .description('sessions, most recently updated first')
    .option('--limit <n>', 'page size (1-1000, default 50)')
    .option('--cursor <cursor>', 'next page, from a previous listing')
    .action(action(sessionsList));
  addCwdFlag(
    sessions
      .command('search')
      .description('sessions matching every filter given')
      .option('--tag <tag>', 'with any of these tags (repeatable)', collect)
      .option('--all-tags', 'with all of the --tag tags instead of any')
      .option('--after <date>', 'created at or after (YYYY-MM-DD or ISO date-time with zone)')
      .option('--before <date>', 'created at or before')
      .option('--min-cost <usd>', 'own spend at least')
      .option('--max-cost <usd>', 'own spend at most')
      .option('--model <model>', 'used this model')
      .option('--status <status>', 'active, completed or failed')
      .option('--held', 'only sessions on hold'),
    'ran in this working directory',
  )
    .option('--limit <n>', 'page size (1-1000, default 50)')
    .option('--cursor <cursor>', 'next page, from a previous search with the same filters')
    .action(action(sessionsSearch));
  sessions
    .command('show')
    .argument('<session-id>')
    .option('--messages', 'also print the stored messages')
    .description('one session\'s metadata (and messages)')
    .action(action(sessionsShow));
  sessions.command('lineage').argument('<session-id>').description('ancestors and forks of a session').action(action(sessionsLineage));
  sessions
    .command('tag')
    .argument('<session-id>')
    .argument('<tags...>')
    .description('add tags')
    .action(action((c, id: string, tags: string[]) => sessionsTag(c, id, tags, false)));
  sessions
    .command('untag')
    .argument('<session-id>')
    .argument('<tags...>')
    .description('remove tags')
    .action(action((c, id: string, tags: string[]) => sessionsTag(c, id, tags, true)));
  sessions
    .command('delete')
    .argument('<session-id>')
    .description('delete a session, its messages and transcript (its ledger entries are kept)')
    .action(action(sessionsDelete));
  sessions
    .command('hold')
    .argument('<session-id>')
    .description('keep a session from every cleanup until released')
    .option('--reason <text>', 'why it is kept (required)')
    .option('--lineage', 'hold its whole lineage: ancestors and every fork')
    .action(action(sessionsHold));
  sessions.command('release').argument('<session-id>').description('release a hold').option('--lineage', 'release the whole lineage').action(action(sessionsRelease));
  sessions
    .command('restore')
    .argument('<archive-ref>', 'gridfs:<bucket>/<file> or a file path, from `cleanup run --archive` or `cleanup log`')
    .description('bring an archived session back whole: metadata, messages, ledger and transcript (resumable)')
    .action(action(sessionsRestore));
  sessions
    .command('export')
    .argument('<session-id>')
    .description("print a session: the CLI's transcript JSONL (what `claude --resume` reads) or Markdown")
    .addOption(new Option('--format <format>', 'jsonl or md').default('jsonl'))
    .action(action(sessionsExport));
  sessions
    .command('verify')
    .description('check the store: no run left running, no message of a failed run, counts and totals equal to messages and ledger')
    .option('--repair', 'settle what a crash left behind (runs left running, their messages), then recompute the sessions found wrong')
    .action(action(sessionsVerify));
};

/** Exit 0 when the store is consistent (or was repaired), 1 when problems remain. */
async function sessionsVerify(ctx: Context, flags: { repair?: boolean }): Promise<number> {
  const store = await ctx.store();
  const report = await store.verify({ repair: flags.repair === true });
  const remaining = flags.repair ? 0 : report.problems.length;
  if (ctx.io.json) {
    printJson(ctx.io, report);
    return remaining === 0 ? EXIT.ok : EXIT.other;
  }
  const p = palette(colorEnabled(ctx.io.stdout, ctx.io.env));
  for (const problem of report.problems) ctx.io.stdout.write(`${p.yellow('!')} ${problem.sessionId}  ${problem.message}\n`);
  const inFlight = report.sessionsInFlight > 0 ? `, ${report.sessionsInFlight} in flight not checked` : '';
  const summary =
    report.problems.length === 0
      ? `${p.green('✓')} ${report.sessionsChecked} sessions consistent${inFlight}`
      : flags.repair
        ? `${p.green('✓')} repaired ${report.repaired} problems in ${report.sessionsChecked} sessions${inFlight}`
        : `${report.problems.length} problems in ${report.sessionsChecked} sessions${inFlight}; run with --repair to settle them`;
  ctx.io.stdout.write(summary + '\n');
  return remaining === 0 ? EXIT.ok : EXIT.other;
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

async function sessionsList(ctx: Context, flags: { limit?: string; cursor?: string }): Promise<number> {
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
  held?: boolean;
  cwd?: string;
  /** Hidden alias of `cwd`. */
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
  const scope = cwdFlag(flags);
  const q: SearchQuery = {
    ...(tags.length ? (flags.allTags ? { allTags: tags } : { tags }) : {}),
    after: dateFlag(flags.after, '--after'),
    before: dateFlag(flags.before, '--before'),
    minCost: costFlag(flags.minCost, '--min-cost'),
    maxCost: costFlag(flags.maxCost, '--max-cost'),
    ...(flags.model !== undefined ? { model: modelName(flags.model, '--model') } : {}),
    ...(flags.status !== undefined ? { status: flags.status as SessionStatus } : {}),
    ...(scope !== undefined ? { scope } : {}),
    ...(flags.held ? { held: true } : {}),
    limit: limitFlag(flags.limit),
    cursor: cursorFlag(flags.cursor),
  };
  if (q.minCost !== undefined && q.maxCost !== undefined && q.minCost > q.maxCost) throw usageError('--min-cost', 'must not exceed --max-cost');
  dateRange(q.after, q.before, '--after', '--before');
  return Object.fromEntries(Object.entries(q).filter(([, v]) => v !== undefined)) as SearchQuery;
}

async function sessionsSearch(ctx: Context, flags: SearchFlags): Promise<number> {
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
  /** Set when the session's parent was deleted. */
  parentDeleted?: { sessionId: string; deletedAt: Date | null };
  messages?: { runId: string; seq: number; type: string; subtype: string | null; message: unknown }[];
}

async function sessionsShow(ctx: Context, id: string, flags: { messages?: boolean }): Promise<number> {
  const sessionId = sessionIdArg(id);
  const store = await ctx.store();
  const io = ctx.io;
  const deletedParent = async (s: SessionMetadata): Promise<Pick<ShowResult, 'parentDeleted'>> => {
    const parent = s.lineage.parentSessionId;
    if (!parent || (await store.getSession(parent))) return {};
    return { parentDeleted: { sessionId: parent, deletedAt: (await store.getTombstone(parent))?.deletedAt ?? null } };
  };
  // A deleted session: say when, by which cleanup, and where its archive is.
  const gone = async (): Promise<CliError> => {
    const t = await store.getTombstone(sessionId);
    if (!t) return notFound(sessionId);
    const archive = t.archiveRef ? `; restore it with \`claude-temporal sessions restore ${t.archiveRef}\`` : '';
    return new CliError(`Session ${sessionId} not found: it was deleted on ${t.deletedAt.toISOString().slice(0, 10)} (cleanup log ${t.logId})${archive}`, EXIT.other, { kind: 'NotFound' });
  };
  if (!flags.messages) {
    const session = await store.getSession(sessionId);
    if (!session) throw await gone();
    const extra = await deletedParent(session);
    if (io.json) printJson(io, { session, ...extra } satisfies ShowResult);
    else printSession(io, session, extra.parentDeleted);
    return EXIT.ok;
  }
  const loaded = await store.loadSession(sessionId);
  if (!loaded.found) throw await gone();
  const extra = await deletedParent(loaded.session.metadata);
  const messages: NonNullable<ShowResult['messages']> = [];
  for await (const m of loaded.session.messages()) {
    messages.push({ runId: m.runId, seq: m.seq, type: m.type, subtype: m.subtype, message: JSON.parse(m.raw) as unknown });
  }
  if (io.json) printJson(io, { session: loaded.session.metadata, ...extra, messages } satisfies ShowResult);
  else {
    printSession(io, loaded.session.metadata, extra.parentDeleted);
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

function printSession(io: Io, s: SessionMetadata, parentDeleted?: ShowResult['parentDeleted']): void {
  const p = palette(colorEnabled(io.stdout, io.env));
  const rows: [string, string][] = [
    ['session', s.sessionId],
    ['status', s.status],
    ['created', shortDate(s.createdAt)],
    ['updated', shortDate(s.updatedAt)],
    ['model', s.models.join(', ') || '-'],
    ['messages', `${s.messageCount} (${s.turnCount} assistant messages, ${s.runCount} runs)`],
    ['cost', `${usd(s.totalCostUsd)} (lineage ${usd(s.lineageCostUsd)})`],
    ['tags', s.tags.join(', ') || '-'],
    ['description', s.description ?? '-'],
    ['summary', s.summary ? truncate(s.summary, 200) : '-'],
    ['scope', s.scope ?? '-'],
    ['parent', parentDeleted ? `${parentDeletedText(parentDeleted)} (forked at message ${s.lineage.forkedAtMessage})` : s.lineage.parentSessionId ? `${s.lineage.parentSessionId} at message ${s.lineage.forkedAtMessage}` : '-'],
    ['hold', s.hold ? `${s.hold.reason} (since ${shortDate(s.hold.heldAt)})` : '-'],
    ['origin', [s.origin.pipeline, s.origin.step, s.origin.workflowId].filter(Boolean).join(' / ') || '-'],
  ];
  for (const [k, v] of rows) io.stdout.write(`${p.bold(k.padEnd(12))}${v}\n`);
}

async function sessionsLineage(ctx: Context, id: string): Promise<number> {
  const sessionId = sessionIdArg(id);
  const store = await ctx.store();
  if (!(await store.getSession(sessionId))) throw notFound(sessionId);
  const lineage = await store.getLineage(sessionId);
  if (ctx.io.json) printJson(ctx.io, lineage);
  else ctx.io.stdout.write(lineageText(lineage));
  return EXIT.ok;
}

async function sessionsTag(ctx: Context, id: string, tagValues: string[], remove: boolean): Promise<number> {
  const sessionId = sessionIdArg(id);
  const tags = tagsArg(tagValues, 'tag');
  const store = await ctx.store();
  if (!(await store.getSession(sessionId))) throw notFound(sessionId);
  const session = remove ? await store.untagSession(sessionId, tags) : await store.tagSession(sessionId, tags);
  if (ctx.io.json) printJson(ctx.io, { session });
  else ctx.io.stdout.write(`${session.sessionId}  tags: ${session.tags.join(', ') || '-'}\n`);
  return EXIT.ok;
}

async function sessionsDelete(ctx: Context, id: string): Promise<number> {
  const sessionId = sessionIdArg(id);
  const store = await ctx.store();
  const deleted = await store.deleteSession(sessionId);
  if (!deleted) throw notFound(sessionId);
  if (ctx.io.json) printJson(ctx.io, { sessionId, deleted });
  else ctx.io.stdout.write(`deleted ${sessionId}\n`);
  return EXIT.ok;
}

async function sessionsHold(ctx: Context, id: string, flags: { reason?: string; lineage?: boolean }): Promise<number> {
  const sessionId = sessionIdArg(id);
  if (flags.reason === undefined) throw usageError('--reason', 'is required: say why the session is kept');
  let reason: string;
  try {
    reason = holdReason(flags.reason, '--reason');
  } catch (err) {
    throw usageError('--reason', (err as Error).message.replace(/^Invalid [^:]+: /, ''));
  }
  const store = await ctx.store();
  if (!(await store.getSession(sessionId))) throw notFound(sessionId);
  const held = await store.holdSession(sessionId, { reason, lineage: Boolean(flags.lineage) });
  if (ctx.io.json) printJson(ctx.io, { held, reason });
  else ctx.io.stdout.write(`held ${held.length} session${held.length === 1 ? '' : 's'} (${reason}): no cleanup deletes them until released\n${held.map((h) => `  ${h}\n`).join('')}`);
  return EXIT.ok;
}

async function sessionsRelease(ctx: Context, id: string, flags: { lineage?: boolean }): Promise<number> {
  const sessionId = sessionIdArg(id);
  const store = await ctx.store();
  if (!(await store.getSession(sessionId))) throw notFound(sessionId);
  const released = await store.releaseSession(sessionId, { lineage: Boolean(flags.lineage) });
  if (ctx.io.json) printJson(ctx.io, { released });
  else ctx.io.stdout.write(`released ${released.length} session${released.length === 1 ? '' : 's'}\n`);
  return EXIT.ok;
}

async function sessionsRestore(ctx: Context, value: string): Promise<number> {
  const ref = archiveRefArg(value);
  const r = await (await ctx.store()).restoreSession(ref);
  if (ctx.io.json) printJson(ctx.io, r);
  else if (!r.restored) ctx.io.stdout.write(`${r.sessionId} is already in the store: nothing restored\n`);
  else ctx.io.stdout.write(`restored ${r.sessionId}: ${r.messages} messages, ${r.runs} ledger entries${r.transcript ? ', transcript (resumable)' : ', no transcript'}\n`);
  return EXIT.ok;
}

async function sessionsExport(ctx: Context, id: string, flags: { format?: string }): Promise<number> {
  const sessionId = sessionIdArg(id);
  const format = flags.format ?? 'jsonl';
  if (!(EXPORT_FORMATS as readonly string[]).includes(format)) throw usageError('--format', `must be one of ${EXPORT_FORMATS.join(', ')}`);
  const store = await ctx.store();
  const transcript = await store.loadTranscript(sessionId);
  if (format === 'jsonl') {
    if (!transcript) {
      if (!(await store.getSession(sessionId))) throw notFound(sessionId);
      throw new CliError(`Session ${sessionId} has no stored transcript (it never completed a run)`, EXIT.other, { kind: 'NotFound' });
    }
    ctx.io.stdout.write(Buffer.from(transcript.buffer, transcript.byteOffset, transcript.byteLength));
    return EXIT.ok;
  }
  const loaded = await store.loadSession(sessionId);
  if (!loaded.found) throw notFound(sessionId);
  ctx.io.stdout.write(markdownHeader(loaded.session.metadata));
  // The transcript holds the whole conversation, prompts included; the stored stream-json lines
  // (the fallback) hold what the CLI printed, which leaves out the prompts.
  if (transcript) {
    for (const line of Buffer.from(transcript).toString('utf8').split('\n')) if (line.trim()) ctx.io.stdout.write(markdownOf(line));
  } else {
    for await (const m of loaded.session.messages()) ctx.io.stdout.write(markdownOf(m.raw, m.runId));
  }
  return EXIT.ok;
}
