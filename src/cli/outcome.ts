/**
 * How a run ended, printed the same way by the command that started it (`query`, `run`, `fork`), by
 * `watch` and by `result`: the shapes of docs/cli.md, and the exit code.
 */
import { oneStepPipelineName } from '../model/formats.js';
import { type ClaudeMode } from '../model/run.js';
import { type ExploreResult, type PipelineInput, type PipelineProgress, type StepReport } from '../model/workflow.js';
import { EXIT } from './exit-codes.js';
import { followCommands } from './interrupt.js';
import { truncate, usd } from './format.js';
import { colorEnabled, type Io, palette, printJson } from './output.js';
import { type WatchOutcome } from './progress.js';

/** The `--json` result of a one-step command. */
export interface StepCommandResult {
  workflowId: string;
  mode: ClaudeMode;
  sessionId: string | null;
  /** The run's status, `cancelled` when it was cancelled, null when it never ran. */
  status: StepReport['status'] | 'cancelled';
  failureType: StepReport['failureType'];
  costUsd: number;
  numTurns: number;
  messageCount: number;
  summary: string | null;
  /** Why the run stopped or failed, else null. */
  error: string | null;
}

/** The `--json` result of `run`: the pipeline's final progress with its workflow id. */
export type PipelineCommandResult = PipelineProgress & { workflowId: string; error: string | null; failureType: string | null };

/** The mode of a single command's pipeline, to print it as that command does; undefined for a pipeline file. */
export function oneStepMode(progress: PipelineProgress | null): ClaudeMode | undefined {
  const step = progress?.steps.length === 1 ? progress.steps[0]! : null;
  return step && progress!.name === oneStepPipelineName(step.mode) ? step.mode : undefined;
}

/** Print how a followed pipeline ended, as `query` (one step of `mode`) or `run` (no mode) print it; returns the exit code. */
export function printOutcome(io: Io, out: WatchOutcome, mode?: ClaudeMode, input?: PipelineInput): number {
  if (out.detached) {
    if (io.json) printJson(io, { workflowId: out.workflowId, detached: true, ...followCommands(out.workflowId) });
    return EXIT.detached;
  }
  return mode ? printStepOutcome(io, out, mode) : printPipelineOutcome(io, out, input);
}

function stepCommandResult(mode: ClaudeMode, out: WatchOutcome): StepCommandResult {
  const s = out.progress?.steps[0];
  const cancelled = out.failure?.type === 'Cancelled';
  return {
    workflowId: out.workflowId,
    mode,
    sessionId: s?.sessionId ?? null,
    status: s?.status ?? (cancelled ? 'cancelled' : out.failure ? 'failed' : null),
    failureType: s?.failureType ?? (out.failure && out.failure.type !== 'WorkflowFailed' ? (out.failure.type as StepReport['failureType']) : null),
    // A cancelled step's spend is in the ledger, not in the workflow's progress.
    costUsd: s?.costUsd || out.recordedSpendUsd || 0,
    numTurns: s?.numTurns ?? 0,
    messageCount: s?.messageCount ?? 0,
    summary: s?.summary ?? null,
    error: out.failure?.message ?? out.progress?.stoppedReason ?? null,
  };
}

function printStepOutcome(io: Io, out: WatchOutcome, mode: ClaudeMode): number {
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
  if (result.status === 'cancelled') {
    io.stderr.write(`cancelled: ${result.workflowId}, ${usd(result.costUsd)} spent\n`);
    return EXIT.cancelled;
  }
  if (failed) io.stderr.write(`error: ${result.error ?? `run ended with ${result.status}`}\n`);
  return failed ? EXIT.failedRun : EXIT.ok;
}

function pipelineCommandResult(out: WatchOutcome, input?: PipelineInput): PipelineCommandResult {
  const cancelled = out.failure?.type === 'Cancelled';
  const progress: PipelineProgress = out.progress ?? {
    name: input?.name ?? 'pipeline',
    status: cancelled ? 'cancelled' : 'failed',
    stepsDone: 0,
    stepsTotal: input?.steps.length ?? 0,
    currentStep: null,
    totalCostUsd: 0,
    budgetUsd: input?.budgetUsd ?? null,
    steps: [],
    stoppedReason: null,
  };
  return {
    workflowId: out.workflowId,
    ...progress,
    status: cancelled ? 'cancelled' : out.failure ? 'failed' : progress.status,
    // Recorded spend includes the cancelled step's, which the workflow never heard of.
    totalCostUsd: Math.max(out.recordedSpendUsd ?? 0, progress.totalCostUsd),
    error: out.failure?.message ?? progress.stoppedReason,
    failureType: out.failure?.type ?? null,
  };
}

function printPipelineOutcome(io: Io, out: WatchOutcome, input?: PipelineInput): number {
  const result = pipelineCommandResult(out, input);
  if (io.json) printJson(io, result);
  else io.stdout.write(pipelineSummary(result, palette(colorEnabled(io.stdout, io.env))));
  if (result.status === 'cancelled') {
    io.stderr.write(`cancelled: ${result.workflowId}, ${usd(result.totalCostUsd)} spent\n`);
    return EXIT.cancelled;
  }
  const failed = result.status !== 'completed';
  if (failed) io.stderr.write(`error: ${result.error ?? `pipeline ${result.status}`}\n`);
  return failed ? EXIT.failedRun : EXIT.ok;
}

function pipelineSummary(r: PipelineCommandResult, p = palette(false)): string {
  const lines = [
    `${p.bold('pipeline')} ${r.name}  ${r.status === 'completed' ? p.green(r.status) : p.red(r.status)}  ${r.stepsDone}/${r.stepsTotal} steps  ${usd(r.totalCostUsd)}`,
    `${p.bold('workflow')} ${r.workflowId}`,
  ];
  for (const s of r.steps) {
    lines.push(`  ${String(s.index + 1).padStart(2)}. ${s.name.padEnd(16)} ${s.state.padEnd(9)} ${(s.status ?? '').padEnd(15)} ${s.sessionId ?? ''}  ${usd(s.costUsd)}`);
    if (s.summary) lines.push(p.dim(`      ${truncate(s.summary, 100)}`));
  }
  if (r.error) lines.push(`${p.yellow('note')} ${r.error}`);
  return lines.join('\n') + '\n';
}

/** Print a fan-out's result; returns the exit code. */
export function printExplore(io: Io, workflowId: string, result: ExploreResult): number {
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
