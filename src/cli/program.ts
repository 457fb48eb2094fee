/**
 * The `claude-temporal` command tree (commander). Each action returns an exit
 * code; `runCli` maps thrown errors to exit codes and `error: ...` lines.
 */
import { Command, CommanderError, Option } from 'commander';
import { type Context, createContext, type GlobalFlags } from './context.js';
import { classify, EXIT, usageError } from './errors.js';
import { printJson } from './output.js';
// Top-level `import type` (erased) rather than inline `type` specifiers, which keep the module import:
// the command modules load on use.
import type { DemoFlags } from './demo.js';
import type { StepFlags } from './run.js';
import type { CleanupFlags, SearchFlags } from './sessions.js';
import type { WorkerFlags } from './worker.js';
import { CLEANUP_SCHEDULE_ID, DEFAULT_CLEANUP_CRON, DEFAULT_MAX_AGE_DAYS } from '../model/defaults.js';
import type { ExploreInput } from '../model/workflow.js';

// Command modules load on use: `--help` and usage errors stay fast, and only `worker` and `demo` load the worker SDK.
const runModule = () => import('./run.js');
const sessionsModule = () => import('./sessions.js');
const stackModule = () => import('./stack.js');

export interface CliStreams {
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  env: NodeJS.ProcessEnv;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

function addStepFlags(cmd: Command): Command {
  return cmd
    .option('--model <model>', 'model alias or id')
    .option('--max-turns <n>', 'stop after this many agentic turns')
    .option('--allowed-tools <list>', 'tools allowed without asking, comma-separated')
    .addOption(new Option('--permission-mode <mode>', 'permission mode').choices(['default', 'acceptEdits', 'bypassPermissions', 'plan', 'dontAsk']))
    .option('--append-system-prompt <text>', 'text appended to the system prompt')
    .option('--budget-usd <usd>', 'stop the run once it has spent this much (maxBudgetUsd)')
    .option('--tag <tag>', 'tag the session (repeatable)', collect)
    .option('--description <text>', 'session description')
    .option('--scope <dir>', 'working directory of the run and scope of continue (default: the worker\'s)')
    .option('--cwd <dir>', 'same as --scope')
    .option('--workflow-id <id>', 'workflow id (default <mode>-<uuid>)');
}

/** Build the program; `exitCode` receives each action's code. */
export function buildProgram(streams: CliStreams, onExit: (code: number) => void): Command {
  let ctx: Context | undefined;
  const program = new Command('claude-temporal');
  const context = (cmd: Command): Context => (ctx ??= createContext(cmd.optsWithGlobals<GlobalFlags>(), streams));
  const action =
    <A extends unknown[]>(fn: (ctx: Context, ...args: A) => Promise<number>) =>
    async (...args: unknown[]) => {
      const cmd = args.at(-1) as Command;
      const c = context(cmd);
      try {
        onExit(await fn(c, ...(args.slice(0, -1) as A)));
      } finally {
        await c.close();
      }
    };

  program
    .description('Run Claude Code sessions as durable Temporal workflows, sessions kept in MongoDB')
    .version('0.1.0')
    .option('--json', 'print results as JSON (shapes in docs/cli.md)')
    .option('--config <file>', 'config file (default $CLAUDE_TEMPORAL_CONFIG or ~/.config/claude-temporal/config.json)')
    .option('--temporal-address <host:port>', 'Temporal frontend (env TEMPORAL_ADDRESS)')
    .option('--namespace <ns>', 'Temporal namespace (env TEMPORAL_NAMESPACE, default default)')
    .option('--task-queue <name>', 'task queue (env TASK_QUEUE, default claude-temporal)')
    .option('--mongodb-uri <uri>', 'MongoDB URI (env MONGODB_URI)')
    .option('--mongodb-db <name>', 'MongoDB database (env MONGODB_DB, default claude_temporal)')
    .option('--claude-path <path>', 'the claude binary, for `worker` (env CLAUDE_PATH)')
    .showSuggestionAfterError()
    .exitOverride()
    .configureOutput({ writeOut: (s) => streams.stdout.write(s), writeErr: (s) => streams.stderr.write(s) });

  program
    .command('worker')
    .description('run a worker: executes the workflows and claude runs of the task queue until SIGINT/SIGTERM')
    .option('--max-concurrent-steps <n>', 'claude processes at once (env MAX_CONCURRENT_STEPS, default 2)')
    .option('--work-dir <dir>', 'default working directory of sessions (env CLAUDE_TEMPORAL_WORK_DIR)')
    .option('--shutdown-grace-ms <ms>', 'on shutdown, let running steps finish this long (env SHUTDOWN_GRACE_MS)')
    .option('--stub', 'point claude at the local stack\'s Messages API stub (no API key needed)')
    .action(action(async (c, flags: WorkerFlags) => (await import('./worker.js')).runWorker(c, flags)));

  addStepFlags(program.command('query').argument('<prompt>', 'the prompt').description('start a new session'))
    .action(action((c, prompt: string, flags: StepFlags) => stepCommand(c, 'query', prompt, undefined, flags)));
  addStepFlags(program.command('continue').argument('[prompt]', 'the prompt (default: continue where you left off)').description('continue the most recent session of the scope'))
    .action(action((c, prompt: string | undefined, flags: StepFlags) => stepCommand(c, 'continue', prompt, undefined, flags)));
  addStepFlags(program.command('resume').argument('<session-id>', 'session to resume').argument('[prompt]', 'the prompt').description('resume a session'))
    .action(action(async (c, id: string, prompt: string | undefined, flags: StepFlags) => stepCommand(c, 'resume', prompt, (await runModule()).sessionIdArg(id), flags)));
  addStepFlags(
    program
      .command('fork')
      .argument('<session-id>', 'session to fork')
      .argument('<prompt...>', 'one prompt: one fork; several: one fork each, run in parallel')
      .description('fork a session into a new one (several prompts: the explore-alternatives fan-out)')
      .option('--concurrency <n>', 'forks at once for several prompts (default 3)'),
  ).action(
    action(async (c, id: string, prompts: string[], flags: StepFlags & { concurrency?: string }) => {
      const { sessionIdArg, stepOptions, exploreCommand } = await runModule();
      const sessionId = sessionIdArg(id);
      if (prompts.length === 1) return await stepCommand(c, 'fork', prompts[0], sessionId, flags);
      const { options, tags, description, scope } = stepOptions(flags);
      prompts.forEach((pr, i) => {
        if (!pr.trim()) throw usageError(`prompt[${i}]`, 'must not be empty');
      });
      let concurrency: number | undefined;
      if (flags.concurrency !== undefined) {
        concurrency = Number(flags.concurrency);
        if (!Number.isInteger(concurrency) || concurrency < 1) throw usageError('--concurrency', `must be a positive integer, got ${flags.concurrency}`);
      }
      const input: ExploreInput = { sessionId, prompts, options, ...(tags.length ? { tags } : {}), ...(description ? { description } : {}), ...(scope ? { scope } : {}), ...(concurrency ? { concurrency } : {}) };
      const client = await c.temporal();
      return await exploreCommand(client, c.io, input, c.config.stack?.temporalUiUrl);
    }),
  );

  program
    .command('run')
    .argument('<pipeline-file>', 'pipeline in YAML or JSON (schema: `claude-temporal schema`)')
    .description('run a pipeline file with live progress')
    .option('--workflow-id <id>', 'workflow id (default pipeline-<uuid>)')
    .action(
      action(async (c, file: string, flags: { workflowId?: string }) => {
        const { readPipelineFile, runPipelineCommand } = await runModule();
        const input = await readPipelineFile(file);
        const client = await c.temporal();
        return await runPipelineCommand(client, c.io, input, c.config.stack?.temporalUiUrl, flags.workflowId);
      }),
    );

  const sessions = program.command('sessions').description('list, search, show, tag and delete stored sessions');
  sessions
    .command('list')
    .description('sessions, most recently updated first')
    .option('--limit <n>', 'page size (1-1000, default 50)')
    .option('--cursor <cursor>', 'next page, from a previous listing')
    .action(action(async (c, flags: { limit?: string; cursor?: string }) => (await sessionsModule()).sessionsList(c, flags)));
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
    .option('--scope <dir>', 'ran in this working directory')
    .option('--limit <n>', 'page size (1-1000, default 50)')
    .option('--cursor <cursor>', 'next page, from a previous search with the same filters')
    .action(action(async (c, flags: SearchFlags) => (await sessionsModule()).sessionsSearch(c, flags)));
  sessions
    .command('show')
    .argument('<session-id>')
    .option('--messages', 'also print the stored messages')
    .description('one session\'s metadata (and messages)')
    .action(action(async (c, id: string, flags: { messages?: boolean }) => (await sessionsModule()).sessionsShow(c, id, flags)));
  sessions
    .command('lineage')
    .argument('<session-id>')
    .description('ancestors and forks of a session')
    .action(action(async (c, id: string) => (await sessionsModule()).sessionsLineage(c, id)));
  sessions
    .command('tag')
    .argument('<session-id>')
    .argument('<tags...>')
    .description('add tags')
    .action(action(async (c, id: string, tags: string[]) => (await sessionsModule()).sessionsTag(c, id, tags, false)));
  sessions
    .command('untag')
    .argument('<session-id>')
    .argument('<tags...>')
    .description('remove tags')
    .action(action(async (c, id: string, tags: string[]) => (await sessionsModule()).sessionsTag(c, id, tags, true)));
  sessions
    .command('delete')
    .argument('<session-id>')
    .description('delete a session, its messages and transcript')
    .action(action(async (c, id: string) => (await sessionsModule()).sessionsDelete(c, id)));

  program
    .command('costs')
    .description('spend report from the run ledger (bar chart for --by day)')
    .option('--by <dimension>', 'total, tag, model, day, month or pipeline', 'total')
    .option('--since <date>', 'runs started at or after (YYYY-MM-DD or ISO date-time)')
    .option('--until <date>', 'runs started before')
    .option('--tag <tag>', 'only sessions with any of these tags (repeatable)', collect)
    .action(action(async (c, flags: { by?: string; since?: string; until?: string; tag?: string[] }) => (await sessionsModule()).costs(c, flags)));

  const cleanup = program.command('cleanup').description('delete old sessions: now, or on a Temporal Schedule');
  const cleanupFlags = (cmd: Command) =>
    cmd
      .option('--max-age-days <n>', 'delete sessions not updated for this many days', String(DEFAULT_MAX_AGE_DAYS))
      .option('--keep-tag <tag>', 'never delete sessions with this tag (repeatable)', collect)
      .option('--dry-run', 'report what would be deleted, delete nothing');
  const scheduleIdFlag = (cmd: Command) => cmd.option('--schedule-id <id>', 'the Schedule', CLEANUP_SCHEDULE_ID);
  cleanupFlags(scheduleIdFlag(cleanup.command('schedule').description('create or update the cleanup Schedule').option('--cron <expr>', 'when, in UTC', DEFAULT_CLEANUP_CRON))).action(
    action(async (c, flags: CleanupFlags) => (await sessionsModule()).cleanupSchedule(c, flags)),
  );
  cleanupFlags(cleanup.command('run').description('clean up now, directly in the store').option('--workflow', 'run as a cleanupSessions workflow on a worker instead')).action(
    action(async (c, flags: CleanupFlags) => (await sessionsModule()).cleanupRun(c, flags)),
  );
  scheduleIdFlag(cleanup.command('status').description('the cleanup Schedule: spec, next runs, recent actions')).action(
    action(async (c, flags: { scheduleId?: string }) => (await sessionsModule()).cleanupStatus(c, flags)),
  );

  const stack = program.command('stack').description('the embedded local stack: Temporal dev server, MongoDB wire server, Messages API stub');
  stack
    .command('up')
    .description('start it in the background (data in $CLAUDE_TEMPORAL_HOME or .local/stack)')
    .option('--no-ui', 'no Temporal Web UI')
    .action(action(async (c, flags: { ui?: boolean }) => (await stackModule()).stackUp(c, flags)));
  stack.command('down').description('stop it (data is kept)').action(action(async (c) => (await stackModule()).stackDown(c)));
  stack.command('status').description('addresses and processes').action(action(async (c) => (await stackModule()).stackStatus(c)));

  program
    .command('demo')
    .description('the seed\'s stories end to end on a throwaway local stack')
    .option('--stub', 'use the Messages API stub even when ANTHROPIC_API_KEY is set')
    .option('--no-ui', 'no Temporal Web UI')
    .action(action(async (c, flags: DemoFlags) => (await import('./demo.js')).demo(c.io, flags)));

  program
    .command('schema')
    .description('print the JSON Schema of pipeline files')
    .action(
      action(async (c) => {
        const { pipelineJsonSchema } = await import('../model/validation/pipeline.js');
        printJson(c.io, pipelineJsonSchema());
        return EXIT.ok;
      }),
    );

  return program;
}

async function stepCommand(c: Context, mode: 'query' | 'continue' | 'resume' | 'fork', prompt: string | undefined, sessionId: string | undefined, flags: StepFlags): Promise<number> {
  const { oneStepPipeline, runStepCommand } = await runModule();
  // Validate everything before connecting: bad input writes nothing.
  const input = oneStepPipeline(mode, prompt, sessionId, flags);
  const client = await c.temporal();
  return await runStepCommand(client, c.io, input, c.config.stack?.temporalUiUrl, flags.workflowId);
}

/** Parse and run; resolves to the process exit code (never throws). */
export async function runCli(argv: string[], streams: CliStreams): Promise<number> {
  let code: number = EXIT.ok;
  const json = argv.includes('--json');
  const program = buildProgram(streams, (c) => (code = c));
  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (err) {
    if (err instanceof CommanderError || (err as { code?: string }).code?.startsWith?.('commander.')) {
      const e = err as CommanderError;
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return EXIT.ok;
      if (json) printJson({ stdout: streams.stdout, stderr: streams.stderr, env: streams.env, json }, { error: { type: 'InvalidInput', message: e.message.replace(/^error: /, ''), exitCode: EXIT.usage } });
      return EXIT.usage;
    }
    const c = classify(err);
    streams.stderr.write(`error: ${c.message}\n`);
    if (json) printJson({ stdout: streams.stdout, stderr: streams.stderr, env: streams.env, json }, { error: { type: c.type, message: c.message, ...(c.field ? { field: c.field } : {}), exitCode: c.exitCode } });
    if (streams.env.CLAUDE_TEMPORAL_DEBUG && err instanceof Error && err.stack) streams.stderr.write(err.stack + '\n');
    return c.exitCode;
  }
}
