/**
 * `query`, `continue`, `resume` and `fork`: one-step pipelines watched live,
 * and the fork fan-out (`fork` with several prompts).
 */
import { randomUUID } from 'node:crypto';
import { type Command, Option } from 'commander';
import type { ClaudeTemporalClient } from '../../client/index.js';
import { type ExploreInput, type ExploreResult, type PipelineInput } from '../../model/workflow.js';
import { oneStepPipelineName } from '../../model/formats.js';
import { PERMISSION_MODES, type ClaudeMode, type ClaudeOptions, type PermissionMode } from '../../model/run.js';
import { type Action, type Context } from '../context.js';
import { EXIT, usageError } from '../exit-codes.js';
import { watchInterrupts } from '../interrupt.js';
import { addCwdFlag, collect, cwdFlag, positiveInt, positiveNumber, sessionIdArg, tagsArg } from '../flags.js';
import { followOptions } from '../follow.js';
import { elapsed, usd } from '../format.js';
import { type Io, printJson } from '../output.js';
import { printExplore, printOutcome } from '../outcome.js';
import { checkStoreReachable, type FollowOptions, startPipelineOnce, statusLine, watchPipeline, workflowLine } from '../progress.js';
import { description as validDescription } from '../../model/validation/fields.js';
import { idText, integerText, modelName, promptText } from '../../model/validation/user-input.js';
import { asFlag } from '../exit-codes.js';
import { promptOf } from '../read-input.js';

/** Flags shared by `query`, `continue`, `resume` and `fork`. */
export interface StepFlags {
  promptFile?: string;
  model?: string;
  maxTurns?: string;
  allowedTools?: string;
  permissionMode?: string;
  appendSystemPrompt?: string;
  budgetUsd?: string;
  tag?: string[];
  description?: string;
  cwd?: string;
  /** Hidden alias of `cwd`. */
  scope?: string;
  workflowId?: string;
  cancelOnInterrupt?: boolean;
  failFast?: boolean;
}

function addStepFlags(cmd: Command): Command {
  cmd
    .option('--prompt-file <path>', 'read the prompt from this file (- for stdin) instead of the argument')
    .option('--model <model>', 'model alias or id')
    .option('--max-turns <n>', 'stop after this many agentic turns')
    .option('--allowed-tools <list>', 'tools allowed without asking, comma-separated')
    .addOption(new Option('--permission-mode <mode>', 'permission mode').choices(PERMISSION_MODES))
    .option('--append-system-prompt <text>', 'text appended to the system prompt')
    .option('--budget-usd <usd>', 'stop the run once it has spent this much (maxBudgetUsd)')
    .option('--tag <tag>', 'tag the session (repeatable)', collect)
    .option('--description <text>', 'session description')
    .option('--fail-fast', 'if another run is using the session, fail with SessionBusy instead of waiting for it');
  return addCwdFlag(cmd, 'working directory of the run and scope of continue (default: the worker\'s)')
    .option('--workflow-id <id>', 'workflow id (default <mode>-<uuid>)')
    .option('--cancel-on-interrupt', 'Ctrl-C cancels the run and waits for it to stop (default: the first Ctrl-C detaches)');
}

export const registerQueryCommands = (program: Command, action: Action): void => {
  addStepFlags(program.command('query').argument('[prompt]', 'the prompt (- reads it from stdin)').description('start a new session')).action(
    action((c, prompt: string, flags: StepFlags) => stepCommand(c, 'query', prompt, undefined, flags)),
  );
  addStepFlags(program.command('continue').argument('[prompt]', 'the prompt (- reads it from stdin; default: continue where you left off)').description('continue the most recent session of the working directory')).action(
    action((c, prompt: string | undefined, flags: StepFlags) => stepCommand(c, 'continue', prompt, undefined, flags)),
  );
  addStepFlags(program.command('resume').argument('<session-id>', 'session to resume').argument('[prompt]', 'the prompt (- reads it from stdin)').description('resume a session')).action(
    action((c, id: string, prompt: string | undefined, flags: StepFlags) => stepCommand(c, 'resume', prompt, sessionIdArg(id), flags)),
  );
  addStepFlags(
    program
      .command('fork')
      .argument('<session-id>', 'session to fork')
      .argument('[prompt...]', 'one prompt: one fork; several: one fork each, run in parallel (- reads one from stdin)')
      .description('fork a session into a new one (several prompts: the explore-alternatives fan-out)')
      .option('--concurrency <n>', 'forks at once for several prompts (default 3)'),
  ).action(action(forkCommand));
};

export function stepOptions(flags: StepFlags): { options: ClaudeOptions; tags: string[]; description?: string; scope?: string } {
  const options: ClaudeOptions = {};
  if (flags.model !== undefined) options.model = modelName(flags.model, '--model');
  if (flags.maxTurns !== undefined) options.maxTurns = positiveInt(flags.maxTurns, '--max-turns');
  if (flags.budgetUsd !== undefined) options.maxBudgetUsd = positiveNumber(flags.budgetUsd, '--budget-usd');
  if (flags.allowedTools !== undefined) {
    const tools = flags.allowedTools.split(',').map((t) => t.trim()).filter(Boolean);
    if (tools.length === 0) throw usageError('--allowed-tools', 'must name at least one tool');
    options.allowedTools = tools;
  }
  if (flags.permissionMode !== undefined) {
    if (!(PERMISSION_MODES as readonly string[]).includes(flags.permissionMode)) {
      throw usageError('--permission-mode', `must be one of ${PERMISSION_MODES.join(', ')}`);
    }
    options.permissionMode = flags.permissionMode as PermissionMode;
  }
  if (flags.appendSystemPrompt !== undefined) options.appendSystemPrompt = flags.appendSystemPrompt;
  if (flags.description !== undefined) asFlag('--description', () => validDescription(flags.description));
  if (flags.workflowId !== undefined) idText(flags.workflowId, '--workflow-id');
  const scope = cwdFlag(flags);
  return {
    options,
    tags: tagsArg(flags.tag),
    ...(flags.description !== undefined ? { description: flags.description } : {}),
    ...(scope !== undefined ? { scope } : {}),
  };
}

/** Pipeline fields of a one-step command as its user knows them: arguments and flags. */
const STEP_FIELD_FLAGS: Readonly<Record<string, string>> = {
  prompt: 'prompt',
  sessionId: 'session-id',
  model: '--model',
  maxTurns: '--max-turns',
  maxBudgetUsd: '--budget-usd',
  allowedTools: '--allowed-tools',
  permissionMode: '--permission-mode',
  appendSystemPrompt: '--append-system-prompt',
  tags: '--tag',
  description: '--description',
  scope: '--cwd',
};

/** `steps[0].options.model` → `--model`, `tags[2]` → `--tag`. */
export function stepFieldFlag(field: string): string {
  const key = /^(?:steps\[0\]\.(?:options\.)?)?([A-Za-z]+)/.exec(field)?.[1];
  return (key && STEP_FIELD_FLAGS[key]) ?? field;
}

/** A one-step pipeline, as the client's `query`/`resume`/... build it; errors name the command's arguments and flags. */
async function oneStepPipeline(mode: ClaudeMode, prompt: string | undefined, sessionId: string | undefined, flags: StepFlags): Promise<PipelineInput> {
  const { options, tags, description, scope } = stepOptions(flags);
  const { renameField, validatePipelineInput } = await import('../../model/validation/pipeline.js');
  const input = {
    name: oneStepPipelineName(mode),
    steps: [{ mode, ...(prompt !== undefined ? { prompt } : {}), ...(sessionId ? { sessionId } : {}), options }],
    ...(tags.length ? { tags } : {}),
    ...(description !== undefined ? { description } : {}),
    ...(scope !== undefined ? { scope } : {}),
  };
  return renameField(() => validatePipelineInput(input), stepFieldFlag);
}

async function stepCommand(c: Context, mode: ClaudeMode, arg: string | undefined, sessionId: string | undefined, flags: StepFlags): Promise<number> {
  // Validate everything before connecting: bad input writes nothing.
  const prompt = await promptOf(arg, flags.promptFile);
  if (prompt === undefined && (mode === 'query' || mode === 'fork')) throw usageError('prompt', 'is required: give it as an argument, - to read stdin, or --prompt-file <path>');
  const input = await oneStepPipeline(mode, prompt, sessionId, flags);
  if (flags.failFast) input.failFast = true;
  const client = await c.temporal();
  await checkStoreReachable(c);
  return await runStep(client, c.io, input, await followOptions(c, flags), flags.workflowId);
}

/** Run one step and print it; returns the exit code. */
async function runStep(client: ClaudeTemporalClient, io: Io, input: PipelineInput, follow: FollowOptions, workflowId?: string): Promise<number> {
  const mode = input.steps[0]!.mode;
  const run = await startPipelineOnce(client, io, input, workflowId, `${mode}-${randomUUID()}`);
  return printOutcome(io, await watchPipeline(run, io, follow), mode);
}

async function forkCommand(c: Context, id: string, prompts: string[], flags: StepFlags & { concurrency?: string }): Promise<number> {
  const sessionId = sessionIdArg(id);
  if (prompts.length <= 1) return await stepCommand(c, 'fork', prompts[0], sessionId, flags);
  if (flags.promptFile !== undefined) throw usageError('--prompt-file', 'takes the place of one prompt argument, not several');
  const { options, tags, description, scope } = stepOptions(flags);
  prompts.forEach((pr, i) => promptText(pr, `prompt[${i}]`));
  const concurrency = flags.concurrency === undefined ? undefined : integerText(flags.concurrency, '--concurrency', 1, prompts.length);
  const input: ExploreInput = { sessionId, prompts, options, ...(tags.length ? { tags } : {}), ...(description ? { description } : {}), ...(scope ? { scope } : {}), ...(concurrency ? { concurrency } : {}) };
  const client = await c.temporal();
  return await exploreAlternatives(client, c.io, input, await followOptions(c, flags));
}

/** The fork fan-out: one session, several prompts, each its own fork. */
async function exploreAlternatives(client: ClaudeTemporalClient, io: Io, input: ExploreInput, follow: FollowOptions): Promise<number> {
  const workflowId = `explore-${randomUUID()}`;
  const handle = await client.startExploreAlternatives(input, { workflowId });
  const status = statusLine(io.stderr, io.env, { quietPlain: io.json });
  if (!io.json) status.log(workflowLine(workflowId, follow.uiUrl));
  const started = Date.now();
  status.update(`forking ${input.prompts.length} branches of ${input.sessionId}`);
  const timer = setInterval(() => status.update(`forking ${input.prompts.length} branches of ${input.sessionId} · ${elapsed(Date.now() - started)}`, ''), 500);
  const interrupts = watchInterrupts(workflowId, { cancelOnInterrupt: follow.cancelOnInterrupt, note: (l) => status.log(l) });
  const done = handle.result().then((r) => ({ r }));
  done.catch(() => undefined);
  let result: ExploreResult;
  try {
    const first = await Promise.race([done, interrupts.decided]);
    if (first === 'detach') return printOutcome(io, { workflowId, progress: null, failure: null, detached: true, recordedSpendUsd: null });
    if (first === 'cancel') {
      status.update(`cancelling ${workflowId}`);
      const cancelled = await follow.cancel!(workflowId);
      io.stderr.write(`cancelled: ${workflowId}, ${usd(cancelled.spendUsd)} spent\n`);
      if (io.json) printJson(io, { workflowId, cancelled: true, spendUsd: cancelled.spendUsd });
      return EXIT.cancelled;
    }
    result = first.r;
  } finally {
    interrupts.dispose();
    clearInterval(timer);
    status.stop();
  }
  return printExplore(io, workflowId, result);
}
