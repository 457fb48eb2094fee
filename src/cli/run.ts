/**
 * Running sessions from the command line: one-step pipelines (`query`,
 * `continue`, `resume`, `fork`), pipeline files (`run`) and the fork fan-out,
 * with a live progress line read from the pipeline's progress query.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { defaultPayloadConverter } from '@temporalio/common';
import { parse as parseYaml } from 'yaml';
import { type ClaudeTemporalClient, type PipelineRun } from '../client/index.js';
import { validatePipelineInput } from '../model/validation/pipeline.js';
import { type ClaudeOptions, type ClaudeMode, PERMISSION_MODES, type PermissionMode } from '../model/run.js';
import { sessionId as validSessionId, tag as validTag } from '../model/validation/fields.js';
import { type ExploreInput, type ExploreResult, type PipelineInput, type PipelineProgress, type StepReport } from '../model/workflow.js';
import { classify, CliError, EXIT, usageError } from './errors.js';
import { colorEnabled, elapsed, type Io, palette, printJson, statusLine, truncate, usd } from './output.js';

/** Flags shared by `query`, `continue`, `resume` and `fork`. */
export interface StepFlags {
  model?: string;
  maxTurns?: string;
  allowedTools?: string;
  permissionMode?: string;
  appendSystemPrompt?: string;
  budgetUsd?: string;
  tag?: string[];
  description?: string;
  cwd?: string;
  scope?: string;
  workflowId?: string;
}

function positiveInt(value: string, field: string): number {
  const n = Number(value);
  if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(n) || n < 1) throw usageError(field, `must be a positive integer, got ${value}`);
  return n;
}

function positiveNumber(value: string, field: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0) throw usageError(field, `must be a number greater than 0, got ${value}`);
  return n;
}

/** A session id argument: a UUID, checked before anything connects. */
export function sessionIdArg(value: string, field = 'session-id'): string {
  try {
    return validSessionId(value, field);
  } catch {
    throw usageError(field, `must be a UUID, got ${JSON.stringify(truncate(value, 60))}`);
  }
}

export function tagsArg(values: string[] | undefined, field = '--tag'): string[] {
  return (values ?? []).map((t, i) => {
    try {
      return validTag(t, field);
    } catch (err) {
      throw usageError(values!.length > 1 ? `${field}[${i}]` : field, (err as Error).message.replace(/^Invalid [^:]+: /, ''));
    }
  });
}

export function stepOptions(flags: StepFlags): { options: ClaudeOptions; tags: string[]; description?: string; scope?: string } {
  const options: ClaudeOptions = {};
  if (flags.model !== undefined) {
    if (!flags.model.trim()) throw usageError('--model', 'must not be empty');
    options.model = flags.model;
  }
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
  if (flags.cwd !== undefined && flags.scope !== undefined && path.resolve(flags.cwd) !== path.resolve(flags.scope)) {
    throw usageError('--scope', 'and --cwd name the same setting; give one');
  }
  const dir = flags.scope ?? flags.cwd;
  return {
    options,
    tags: tagsArg(flags.tag),
    ...(flags.description !== undefined ? { description: flags.description } : {}),
    ...(dir !== undefined ? { scope: path.resolve(dir) } : {}),
  };
}

/** The `--json` result of a one-step command. */
export interface StepCommandResult {
  workflowId: string;
  mode: ClaudeMode;
  sessionId: string | null;
  status: StepReport['status'];
  failureType: StepReport['failureType'];
  costUsd: number;
  numTurns: number;
  messageCount: number;
  summary: string | null;
  /** Why the run stopped or failed, else null. */
  error: string | null;
}

/** A one-step pipeline, as the client's `query`/`resume`/... build it. */
export function oneStepPipeline(mode: ClaudeMode, prompt: string | undefined, sessionId: string | undefined, flags: StepFlags): PipelineInput {
  const { options, tags, description, scope } = stepOptions(flags);
  return validatePipelineInput({
    name: mode,
    steps: [{ mode, ...(prompt !== undefined ? { prompt } : {}), ...(sessionId ? { sessionId } : {}), options }],
    ...(tags.length ? { tags } : {}),
    ...(description !== undefined ? { description } : {}),
    ...(scope !== undefined ? { scope } : {}),
  });
}

export interface WatchOutcome {
  workflowId: string;
  progress: PipelineProgress | null;
  /** The workflow's failure, when it failed. */
  failure: { type: string; message: string } | null;
}

interface LiveHeartbeat {
  messages?: number;
  spendUsd?: number;
}

/** Await a pipeline while showing its progress on stderr (a redrawn line on a TTY, plain lines otherwise). */
export async function watchPipeline(run: PipelineRun, io: Io, uiUrl?: string | null): Promise<WatchOutcome> {
  const p = palette(colorEnabled(io.stderr, io.env));
  const tty = Boolean(io.stderr.isTTY);
  // Plain progress lines would clutter a --json consumer's stderr; the TTY line is erased at the end.
  const status = statusLine(io.stderr, io.env, { quietPlain: io.json });
  const started = Date.now();
  const seen = new Map<number, StepReport['state']>();
  let last: PipelineProgress | null = null;
  let live: LiveHeartbeat = {};
  if (!io.json) status.log(p.dim(`workflow ${run.workflowId}${uiUrl ? `  ${uiUrl}/namespaces/default/workflows/${run.workflowId}` : ''}`));

  const report = (progress: PipelineProgress) => {
    for (const step of progress.steps) {
      const before = seen.get(step.index);
      if (before === step.state) continue;
      seen.set(step.index, step.state);
      const label = `step ${step.index + 1}/${progress.stepsTotal} ${step.name} (${step.mode})`;
      if (step.state === 'running' && !tty) status.log(`${label}: running`);
      if (step.state === 'done') {
        const ok = step.status === 'success';
        status.log(`${ok ? p.green('✓') : p.yellow('!')} ${label}: ${step.status}, ${step.messageCount} messages, ${usd(step.costUsd)}`);
      }
      if (step.state === 'failed') status.log(`${p.red('✗')} ${label}: failed${step.failureType ? ` (${step.failureType})` : ''}`);
      if (step.state === 'skipped' && before !== undefined) status.log(p.dim(`- ${label}: skipped`));
    }
  };
  const line = () => {
    const pr = last;
    const doneMessages = pr?.steps.reduce((s, x) => s + x.messageCount, 0) ?? 0;
    const messages = doneMessages + (live.messages ?? 0);
    const spend = (pr?.totalCostUsd ?? 0) + (live.spendUsd ?? 0);
    const current = pr?.currentStep ?? (pr ? 'finishing' : 'starting');
    return `${p.bold(current)} · ${pr?.stepsDone ?? 0}/${pr?.stepsTotal ?? '?'} steps · ${messages} messages · ${live.spendUsd ? '~' : ''}${usd(spend)} · ${elapsed(Date.now() - started)}`;
  };

  const poll = async () => {
    try {
      last = await run.progress();
      report(last);
    } catch {
      // Not started by a worker yet: the query has no handler until the first workflow task.
    }
    if (tty) {
      try {
        const desc = await run.handle.describe();
        const payload = desc.raw.pendingActivities?.[0]?.heartbeatDetails?.payloads?.[0];
        live = payload ? ((defaultPayloadConverter.fromPayload(payload) as LiveHeartbeat | undefined) ?? {}) : {};
      } catch {
        live = {};
      }
    }
    status.update(line(), '');
  };

  let settled = false;
  const result = run.result().then(
    (r) => ({ ok: true as const, r }),
    (e: unknown) => ({ ok: false as const, e }),
  ).finally(() => (settled = true));
  try {
    await poll();
    while (!settled) {
      await Promise.race([result, new Promise((r) => setTimeout(r, 500))]);
      if (!settled) await poll();
    }
    const outcome = await result;
    if (outcome.ok) {
      last = outcome.r;
      report(outcome.r);
      return { workflowId: run.workflowId, progress: outcome.r, failure: null };
    }
    // The progress of a failed workflow stays queryable: report how far it got.
    try {
      last = await run.progress();
      report(last);
    } catch {
      // Keep the last polled progress.
    }
    const c = classify(outcome.e);
    if (c.exitCode === EXIT.unavailable) throw outcome.e;
    return { workflowId: run.workflowId, progress: last, failure: { type: c.type, message: c.message } };
  } finally {
    status.stop();
  }
}

function stepCommandResult(mode: ClaudeMode, out: WatchOutcome): StepCommandResult {
  const s = out.progress?.steps[0];
  return {
    workflowId: out.workflowId,
    mode,
    sessionId: s?.sessionId ?? null,
    status: s?.status ?? (out.failure ? 'failed' : null),
    failureType: s?.failureType ?? (out.failure && out.failure.type !== 'WorkflowFailed' ? (out.failure.type as StepReport['failureType']) : null),
    costUsd: s?.costUsd ?? 0,
    numTurns: s?.numTurns ?? 0,
    messageCount: s?.messageCount ?? 0,
    summary: s?.summary ?? null,
    error: out.failure?.message ?? out.progress?.stoppedReason ?? null,
  };
}

/** Run one step and print it; returns the exit code. */
export async function runStepCommand(client: ClaudeTemporalClient, io: Io, input: PipelineInput, uiUrl?: string | null, workflowId?: string): Promise<number> {
  const mode = input.steps[0]!.mode;
  const run = await client.startPipeline(input, { workflowId: workflowId ?? `${mode}-${randomUUID()}` });
  const out = await watchPipeline(run, io, uiUrl);
  const result = stepCommandResult(mode, out);
  const failed = out.failure !== null || result.status !== 'success';
  if (io.json) printJson(io, result);
  else {
    const p = palette(colorEnabled(io.stdout, io.env));
    io.stdout.write(
      [
        `${p.bold('session')}  ${result.sessionId ?? '-'}`,
        `${p.bold('status')}   ${result.status === 'success' ? p.green('success') : p.red(String(result.status ?? 'failed'))}${result.failureType ? ` (${result.failureType})` : ''}`,
        `${p.bold('turns')}    ${result.numTurns}   ${p.bold('messages')} ${result.messageCount}   ${p.bold('cost')} ${usd(result.costUsd)}`,
        `${p.bold('workflow')} ${result.workflowId}`,
        ...(result.summary ? ['', result.summary] : []),
      ].join('\n') + '\n',
    );
  }
  if (failed) io.stderr.write(`error: ${result.error ?? `run ended with ${result.status}`}\n`);
  return failed ? EXIT.failedRun : EXIT.ok;
}

/** Read a pipeline file (YAML or JSON) and validate it; errors name the file, the step and the field. */
export async function readPipelineFile(file: string): Promise<PipelineInput> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw usageError('pipeline-file', `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  let data: unknown;
  try {
    data = /\.json$/i.test(file) ? JSON.parse(text) : parseYaml(text, { prettyErrors: true });
  } catch (err) {
    throw usageError('pipeline-file', `${file} is not valid ${/\.json$/i.test(file) ? 'JSON' : 'YAML'}: ${(err as Error).message.split('\n')[0]}`);
  }
  try {
    return validatePipelineInput(data);
  } catch (err) {
    const e = err as { type?: string; message: string; evidence?: { field?: string } };
    if (e.type === 'InvalidInput') throw new CliError(`${e.message} (in ${file})`, EXIT.usage, { field: e.evidence?.field });
    throw err;
  }
}

/** The `--json` result of `run`: the pipeline's final progress with its workflow id. */
export type PipelineCommandResult = PipelineProgress & { workflowId: string; error: string | null; failureType: string | null };

export async function runPipelineCommand(client: ClaudeTemporalClient, io: Io, input: PipelineInput, uiUrl?: string | null, workflowId?: string): Promise<number> {
  const run = await client.startPipeline(input, { workflowId: workflowId ?? `pipeline-${randomUUID()}` });
  const out = await watchPipeline(run, io, uiUrl);
  const progress: PipelineProgress = out.progress ?? {
    name: input.name ?? 'pipeline',
    status: 'failed',
    stepsDone: 0,
    stepsTotal: input.steps.length,
    currentStep: null,
    totalCostUsd: 0,
    budgetUsd: input.budgetUsd ?? null,
    steps: [],
    stoppedReason: null,
  };
  const result: PipelineCommandResult = {
    workflowId: out.workflowId,
    ...progress,
    status: out.failure ? 'failed' : progress.status,
    error: out.failure?.message ?? progress.stoppedReason,
    failureType: out.failure?.type ?? null,
  };
  if (io.json) printJson(io, result);
  else io.stdout.write(pipelineSummary(result, palette(colorEnabled(io.stdout, io.env))));
  const failed = result.status !== 'completed';
  if (failed) io.stderr.write(`error: ${result.error ?? `pipeline ${result.status}`}\n`);
  return failed ? EXIT.failedRun : EXIT.ok;
}

export function pipelineSummary(r: PipelineCommandResult, p = palette(false)): string {
  const lines = [
    `${p.bold('pipeline')} ${r.name}  ${r.status === 'completed' ? p.green(r.status) : p.red(r.status)}  ${r.stepsDone}/${r.stepsTotal} steps  ${usd(r.totalCostUsd)}`,
    `${p.bold('workflow')} ${r.workflowId}`,
  ];
  for (const s of r.steps) {
    lines.push(`  ${String(s.index + 1).padStart(2)}. ${s.name.padEnd(16)} ${s.state.padEnd(8)} ${(s.status ?? '').padEnd(15)} ${s.sessionId ?? ''}  ${usd(s.costUsd)}`);
    if (s.summary) lines.push(p.dim(`      ${truncate(s.summary, 100)}`));
  }
  if (r.error) lines.push(`${p.yellow('note')} ${r.error}`);
  return lines.join('\n') + '\n';
}

/** The fork fan-out: one session, several prompts, each its own fork. */
export async function exploreCommand(client: ClaudeTemporalClient, io: Io, input: ExploreInput, uiUrl?: string | null): Promise<number> {
  const workflowId = `explore-${randomUUID()}`;
  const handle = await client.startExploreAlternatives(input, { workflowId });
  const status = statusLine(io.stderr, io.env, { quietPlain: io.json });
  if (!io.json) status.log(`workflow ${workflowId}${uiUrl ? `  ${uiUrl}/namespaces/default/workflows/${workflowId}` : ''}`);
  const started = Date.now();
  status.update(`forking ${input.prompts.length} branches of ${input.sessionId}`);
  const timer = setInterval(() => status.update(`forking ${input.prompts.length} branches of ${input.sessionId} · ${elapsed(Date.now() - started)}`, ''), 500);
  let result: ExploreResult;
  try {
    result = await handle.result();
  } finally {
    clearInterval(timer);
    status.stop();
  }
  const failed = result.branches.filter((b) => b.status !== 'completed').length;
  if (io.json) printJson(io, { workflowId, ...result });
  else {
    const p = palette(colorEnabled(io.stdout, io.env));
    io.stdout.write(`${p.bold('parent')}   ${result.parentSessionId}\n${p.bold('workflow')} ${workflowId}\n`);
    result.branches.forEach((b, i) => {
      io.stdout.write(`  ${i + 1}. ${b.status === 'completed' ? p.green('✓') : p.red('✗')} ${b.sessionId ?? '-'}  ${usd(b.costUsd)}  ${truncate(b.prompt, 50)}\n`);
      if (b.summary) io.stdout.write(p.dim(`     ${truncate(b.summary, 100)}\n`));
      if (b.error) io.stdout.write(p.red(`     ${truncate(b.error, 100)}\n`));
    });
    io.stdout.write(`${p.bold('total')}    ${usd(result.totalCostUsd)}\n`);
  }
  if (failed) io.stderr.write(`error: ${failed} of ${result.branches.length} branches failed\n`);
  return failed ? EXIT.failedRun : EXIT.ok;
}
