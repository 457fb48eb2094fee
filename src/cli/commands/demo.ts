/**
 * `demo`: six stories end to end on a throwaway local stack (a documentation
 * pipeline, a fork fan-out, a conversation, search by tag, a cost report and
 * a cleanup dry run), with an in-process worker running the real `claude` CLI
 * against the Messages API stub (or the real API when ANTHROPIC_API_KEY is
 * set and `--stub` is not).
 */
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { type Command } from 'commander';
import type { ClaudeTemporalClient } from '../../client/index.js';
import type { SessionStore } from '../../client/sessions.js';
import { type PipelineInput } from '../../model/workflow.js';
import type { Stack } from '../../stack/stack.js';
import { type Action } from '../context.js';
import { DEFAULT_MONGO_DB } from '../../model/defaults.js';
import { EXIT, unavailable } from '../exit-codes.js';
import { table, truncate, usd } from '../format.js';
import { colorEnabled, type Io, palette, printJson } from '../output.js';
import { watchPipeline } from '../progress.js';
import { costText, lineageText } from '../reports.js';

export const registerDemoCommand = (program: Command, action: Action): void => {
  program
    .command('demo')
    .description('a documentation pipeline, a fork fan-out, a conversation, search, costs and cleanup, end to end on a throwaway local stack')
    .option('--stub', 'use the Messages API stub even when ANTHROPIC_API_KEY is set')
    .option('--no-ui', 'no Temporal Web UI')
    .option('--use-running-stack', 'run the stories on the stack of `stack up` (database of MONGODB_DB, default claude_temporal) and leave it running, e.g. for `console`')
    .action(action(async (c, flags: DemoFlags) => await demo(c.io, flags)));
};

const SAMPLE_CODE = `// A small module for the demo to document.
export function slugify(text) {
  return text.toLowerCase().trim().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
}

export function truncate(text, max) {
  return text.length <= max ? text : text.slice(0, max - 1) + '…';
}

export function wordCount(text) {
  return text.split(/\\s+/).filter(Boolean).length;
}
`;

export interface DemoFlags {
  stub?: boolean;
  ui?: boolean;
  useRunningStack?: boolean;
}

/** The stack of `stack up`, kept running when the demo ends; its database is the one the CLI and the console read. */
async function runningStack(env: NodeJS.ProcessEnv): Promise<{ stack: Stack; dbName: string }> {
  const { readStackState, stackRunning } = await import('../../stack/state.js');
  const state = await readStackState(env);
  if (!state || !stackRunning(state)) throw unavailable('No local stack is running: start one with `claude-temporal stack up`, or run the demo without --use-running-stack');
  if (!state.stubUrl) throw unavailable('The running local stack has no Messages API stub: restart it with `claude-temporal stack up`');
  return { stack: { ...state, stop: async () => {} }, dbName: env.MONGODB_DB || DEFAULT_MONGO_DB };
}

async function demo(io: Io, flags: DemoFlags): Promise<number> {
  const p = palette(colorEnabled(io.stdout, io.env));
  // Story output goes to stdout; with --json it goes to stderr and stdout gets one summary object.
  const out = io.json ? io.stderr : io.stdout;
  const say = (s = '') => out.write(s + '\n');
  const heading = (s: string) => say(`\n${p.bold(p.cyan(`== ${s}`))}`);
  const realApi = Boolean(io.env.ANTHROPIC_API_KEY) && !flags.stub;
  const summary: Record<string, unknown> = { mode: realApi ? 'anthropic-api' : 'stub' };

  // The stack, the store and the worker SDK load only here.
  const [{ createClient }, { openSessionStore }, { startStack }, { workerConfigFromEnv }, { createClaudeTemporalWorker }, { quietRuntime }] = await Promise.all([
    import('../../client/index.js'),
    import('../../client/sessions.js'),
    import('../../stack/stack.js'),
    import('../../worker/config.js'),
    import('../../worker/worker.js'),
    import('../../worker/runtime.js'),
  ]);
  say(p.bold('claude-temporal demo'));
  let stack: Stack;
  let dbName = 'claude_temporal_demo';
  if (flags.useRunningStack) {
    ({ stack, dbName } = await runningStack(io.env));
    say(`using the running local stack (database ${dbName}); it keeps running afterwards`);
  } else {
    say('starting the local stack (Temporal dev server, MongoDB wire server, Messages API stub) ...');
    try {
      stack = await startStack({ ui: flags.ui !== false, stub: true });
    } catch (err) {
      if (flags.ui === false) throw err;
      say(p.dim(`the Temporal UI did not start (${(err as Error).message.split('\n')[0]}); going on without it`));
      stack = await startStack({ ui: false, stub: true });
    }
  }
  const workDir = await mkdtemp(path.join(os.tmpdir(), 'claude-temporal-demo-'));
  const link = (id: string) => (stack.temporalUiUrl ? p.dim(`  ${stack.temporalUiUrl}/namespaces/default/workflows/${encodeURIComponent(id)}`) : '');
  let worker: Awaited<ReturnType<typeof createClaudeTemporalWorker>> | undefined;
  let running: Promise<void> | undefined;
  let client: ClaudeTemporalClient | undefined;
  let store: SessionStore | undefined;
  try {
    store = await openSessionStore({ uri: stack.mongoUri, dbName, timeoutMs: 3_000 });
    say(`Temporal ${stack.temporalAddress}  MongoDB ${stack.mongoUri}  stub ${stack.stubUrl}`);
    if (stack.temporalUiUrl) say(`Temporal UI ${stack.temporalUiUrl}`);
    say(
      realApi
        ? p.yellow('using the real Anthropic API (ANTHROPIC_API_KEY is set; pass --stub to use the local stub): this spends money')
        : `using the local Messages API stub at ${stack.stubUrl} (replies are canned; set ANTHROPIC_API_KEY to use the real API)`,
    );
    await mkdir(path.join(workDir, 'lib'), { recursive: true });
    await writeFile(path.join(workDir, 'lib', 'strings.js'), SAMPLE_CODE);

    const taskQueue = `demo-${randomUUID()}`;
    quietRuntime(io.env);
    const base = workerConfigFromEnv({ ...io.env, CLAUDE_CONFIG_DIR: undefined });
    worker = await createClaudeTemporalWorker({
      ...base,
      temporalAddress: stack.temporalAddress,
      namespace: 'default',
      taskQueue,
      mongoUri: stack.mongoUri,
      mongoDb: dbName,
      workDir,
      configDir: path.join(workDir, '.claude-config'),
      maxConcurrentSteps: 3,
      shutdownGraceMs: 2_000,
      claudeMaxRetries: realApi ? base.claudeMaxRetries : 0,
      claudeEnv: realApi ? base.claudeEnv : { ANTHROPIC_BASE_URL: stack.stubUrl!, ANTHROPIC_API_KEY: 'sk-demo-stub' },
    });
    running = worker.run();
    say(`worker running in this process on task queue ${taskQueue}, work dir ${workDir}`);
    client = await createClient({ address: stack.temporalAddress, taskQueue });
    const options = { maxTurns: 10, allowedTools: ['Read', 'Glob', 'Grep'] };

    heading('1. a three-step documentation pipeline (query, resume, resume)');
    const docs: PipelineInput = {
      name: 'generate-docs',
      tags: ['documentation', 'automated'],
      description: 'Auto-generated docs for lib/strings.js',
      defaults: options,
      steps: [
        { name: 'analyze', mode: 'query', prompt: 'Analyze the code in lib/strings.js and identify public functions' },
        { name: 'document', mode: 'resume', prompt: 'Now generate JSDoc comments for each function' },
        { name: 'review', mode: 'resume', prompt: 'Review the documentation for completeness and add examples' },
      ],
    };
    const run = await client.startPipeline(docs);
    const watched = await watchPipeline(run, { ...io, json: false, stdout: io.stdout, stderr: io.stderr }, { uiUrl: stack.temporalUiUrl });
    const pipeline = watched.progress!;
    if (watched.failure || pipeline.status !== 'completed') throw new Error(`The documentation pipeline did not complete: ${watched.failure?.message ?? pipeline.stoppedReason}`);
    for (const s of pipeline.steps) say(`  ${s.name.padEnd(9)} ${s.sessionId}  ${usd(s.costUsd)}  ${p.dim(truncate(s.summary ?? '', 80))}`);
    say(`  ${pipeline.stepsDone}/${pipeline.stepsTotal} steps, ${usd(pipeline.totalCostUsd)}${link(run.workflowId)}`);
    const docSession = pipeline.steps.at(-1)!.sessionId!;
    summary.pipeline = { workflowId: run.workflowId, ...pipeline };

    heading('2. a fork fan-out: three alternatives from that session');
    const explore = await client.startExploreAlternatives({
      sessionId: docSession,
      prompts: ['Use PostgreSQL for the database', 'Use MongoDB for the database', 'Use a hybrid approach with both SQL and NoSQL'],
      tags: ['alternatives'],
      options,
    });
    const alternatives = await explore.result();
    for (const b of alternatives.branches) say(`  ${b.status === 'completed' ? p.green('✓') : p.red('✗')} ${b.sessionId ?? '-'}  ${truncate(b.prompt, 46).padEnd(46)} ${p.dim(truncate(b.summary ?? b.error ?? '', 60))}`);
    say(`  every branch is a new session forked from ${docSession}; the parent is unchanged${link(explore.workflowId)}`);
    const lineage = await store.getLineage(docSession);
    say(lineageText(lineage).trimEnd().replace(/^/gm, '  '));
    summary.alternatives = { workflowId: explore.workflowId, ...alternatives };

    heading('3. a conversation: two turns, one session');
    const conversation = client.conversation(`demo-${randomUUID().slice(0, 8)}`, { tags: ['conversation'], options });
    const first = await conversation.send('My name is Ada. Remember it.');
    say(`  you: My name is Ada. Remember it.\n  claude: ${truncate(first.resultText ?? first.summary ?? '', 100)}`);
    const second = await conversation.send('What is my name?');
    say(`  you: What is my name?\n  claude: ${truncate(second.resultText ?? second.summary ?? '', 100)}`);
    say(`  both turns ran in session ${second.sessionId} (turn ${second.turn})${realApi ? '' : '; the stub counts the user prompts it was sent, so "after 2 user prompts" shows the first turn was remembered'}${link(conversation.workflowId)}`);
    await conversation.close();
    summary.conversation = { workflowId: conversation.workflowId, turns: [first, second] };

    heading('4. search sessions by tag "documentation"');
    const found = await store.search({ tags: ['documentation'] });
    say(
      table(found.items, [
        { header: 'SESSION', value: (s) => s.sessionId },
        { header: 'MSGS', value: (s) => String(s.messageCount), right: true },
        { header: 'COST', value: (s) => usd(s.totalCostUsd), right: true },
        { header: 'TAGS', value: (s) => s.tags.join(',') },
        { header: 'DESCRIPTION', value: (s) => s.description ?? '', max: 40 },
      ], p).trimEnd().replace(/^/gm, '  '),
    );
    summary.search = found;

    heading('5. cost report by tag');
    const report = await store.costReport({ by: 'tag' });
    say(costText(report, p).trimEnd().replace(/^/gm, '  '));
    summary.costs = report;

    heading('6. cleanup dry run: sessions idle for 0 days, keeping tag "documentation"');
    const cleanup = await store.cleanupOldSessions({ maxAgeDays: 0, keepTags: ['documentation'], dryRun: true });
    say(`  would delete ${cleanup.sessionIds.length} of the sessions above; the documentation session and its forks (which inherit its tags) are kept; nothing was deleted (a real cleanup keeps the cost ledger too)`);
    for (const id of cleanup.sessionIds) say(`    ${id}`);
    summary.cleanup = cleanup;

    heading('done');
    if (flags.useRunningStack) say('stopping the worker; the stack keeps running: `claude-temporal console` shows these sessions, costs and runs');
    else say(`stopping the worker and the stack${stack.temporalUiUrl ? ' (the UI links above stop working now)' : ''}`);
    if (io.json) printJson(io, summary);
    return EXIT.ok;
  } finally {
    await client?.close().catch(() => {});
    if (worker) {
      worker.shutdown();
      await running?.catch(() => {});
    }
    await store?.close().catch(() => {});
    await stack.stop();
    await rm(workDir, { recursive: true, force: true });
  }
}
