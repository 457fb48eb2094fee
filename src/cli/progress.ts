/**
 * Live progress on stderr: a status line redrawn in place on a TTY (plain
 * lines elsewhere) and the watcher that follows a pipeline with it.
 */
import type { CancelOutcome, ClaudeTemporalClient, LedgerReader, PipelineRun, StepLiveStatus } from '../client/index.js';
import { type PipelineInput, type PipelineProgress, type StepReport } from '../model/workflow.js';
import { type Context } from './context.js';
import { classify, EXIT, usageError } from './exit-codes.js';
import { elapsed, truncate, usd } from './format.js';
import { ANSI_RE, colorEnabled, type Io, palette, visibleLength } from './output.js';
import { type Interruption, watchInterrupts } from './interrupt.js';

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/**
 * A status line that redraws in place on a TTY (spinner + text) and prints
 * one plain line per change of text elsewhere.
 */
export interface StatusLine {
  /** `plain`: the line for non-TTY streams (printed when it changes); default `text`. */
  update(text: string, plain?: string): void;
  /** Print a permanent line above the status line. */
  log(text: string): void;
  stop(): void;
}

export function statusLine(stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv, options: { quietPlain?: boolean } = {}): StatusLine {
  const tty = Boolean(stream.isTTY);
  const p = palette(colorEnabled(stream, env));
  let text = '';
  let frame = 0;
  let lastPlain = '';
  let timer: NodeJS.Timeout | undefined;
  // A pseudo-terminal without a size reports 0 columns.
  const columns = () => Math.max(20, (stream.columns || 100) - 1);
  const draw = () => {
    const line = `${p.cyan(FRAMES[frame % FRAMES.length]!)} ${text}`;
    stream.write(`\r\u001b[2K${visibleLength(line) > columns() ? truncate(line.replace(ANSI_RE, ''), columns()) : line}`);
  };
  if (tty) {
    timer = setInterval(() => {
      frame += 1;
      if (text) draw();
    }, 120);
    timer.unref();
  }
  return {
    update(next, plain = next) {
      text = next;
      if (tty) draw();
      else if (!options.quietPlain && plain !== lastPlain) {
        lastPlain = plain;
        stream.write(plain + '\n');
      }
    },
    log(line) {
      if (tty) stream.write(`\r\u001b[2K${line}\n`);
      else if (!options.quietPlain) stream.write(line + '\n');
      if (tty && text) draw();
    },
    stop() {
      if (timer) clearInterval(timer);
      if (tty) stream.write('\r\u001b[2K');
    },
  };
}

/** The line naming a workflow, with its Temporal UI link when the UI runs. */
export function workflowLine(workflowId: string, uiUrl?: string | null): string {
  return `workflow ${workflowId}${uiUrl ? `  ${uiUrl}/namespaces/default/workflows/${workflowId}` : ''}`;
}

export interface WatchOutcome {
  workflowId: string;
  progress: PipelineProgress | null;
  /** The workflow's failure, when it failed (type `Cancelled` when it was cancelled). */
  failure: { type: string; message: string } | null;
  /** Ctrl-C detached from the run, which goes on. */
  detached: boolean;
  /** Spend the ledger records for a run cancelled from here (its cancelled step included), else null. */
  recordedSpendUsd: number | null;
}

/** What following a run may do besides showing progress: Ctrl-C handling and the step's messages. */
export interface FollowOptions {
  uiUrl?: string | null;
  /** The first Ctrl-C cancels instead of detaching; default false. */
  cancelOnInterrupt?: boolean;
  /** Print the running step's stored messages; default none. */
  messages?: { store: LedgerReader } | null;
  /** Cancel the run and wait until it has stopped (Ctrl-C twice); default: Ctrl-C is left to the process. */
  cancel?: (workflowId: string) => Promise<CancelOutcome>;
}

/**
 * Starts a pipeline under `--workflow-id` (or `fallback`): the id is an idempotency key, so the
 * same request again shows the earlier run's result (said on stderr), and another request under a
 * used id is refused naming the flag.
 */
export async function startPipelineOnce(client: ClaudeTemporalClient, io: Io, input: PipelineInput, workflowId: string | undefined, fallback: string): Promise<PipelineRun> {
  if (workflowId !== undefined && workflowId.trim() === '') throw usageError('--workflow-id', 'must not be empty');
  try {
    const run = await client.startPipeline(input, { workflowId: workflowId ?? fallback });
    if (run.existing) io.stderr.write(`workflow ${run.workflowId} already ran this request: showing its result, nothing was run again\n`);
    return run;
  } catch (err) {
    const e = err as { type?: string; evidence?: { field?: string }; message?: string };
    if (e.type === 'InvalidInput' && e.evidence?.field === 'workflowId') throw usageError('--workflow-id', String(e.message).replace(/^Invalid workflowId: /, ''));
    throw err;
  }
}

/** A run needs the store: a store that does not answer is exit 4 now, not a step failing later. */
export async function checkStoreReachable(c: Context): Promise<void> {
  if (c.config.values.mongodbUri) await c.store();
}

/** Await a pipeline while showing its progress on stderr (a redrawn line on a TTY, plain lines otherwise). */
export async function watchPipeline(run: PipelineRun, io: Io, follow: FollowOptions = {}): Promise<WatchOutcome> {
  const uiUrl = follow.uiUrl;
  const p = palette(colorEnabled(io.stderr, io.env));
  const tty = Boolean(io.stderr.isTTY);
  // Plain progress lines would clutter a --json consumer's stderr; the TTY line is erased at the end.
  const status = statusLine(io.stderr, io.env, { quietPlain: io.json });
  const started = Date.now();
  const seen = new Map<number, StepReport['state']>();
  let last: PipelineProgress | null = null;
  let live: StepLiveStatus | null = null;
  if (!io.json) status.log(p.dim(workflowLine(run.workflowId, uiUrl)));

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
      if (step.state === 'cancelled') status.log(`${p.yellow('■')} ${label}: cancelled`);
      if (step.state === 'skipped' && before !== undefined) status.log(p.dim(`- ${label}: skipped`));
    }
  };
  const line = () => {
    const pr = last;
    const doneMessages = pr?.steps.reduce((s, x) => s + x.messageCount, 0) ?? 0;
    const messages = doneMessages + (live?.messages ?? 0);
    const spend = (pr?.totalCostUsd ?? 0) + (live?.spendUsd ?? 0);
    const current = pr?.currentStep ?? (pr ? 'finishing' : 'starting');
    if (live?.waiting) return `${p.bold(current)} · waiting for another run on this session to finish · ${elapsed(Date.now() - started)}`;
    return `${p.bold(current)} · ${pr?.stepsDone ?? 0}/${pr?.stepsTotal ?? '?'} steps · ${messages} messages · ${live?.spendUsd ? '~' : ''}${usd(spend)} · ${elapsed(Date.now() - started)}`;
  };

  const poll = async () => {
    try {
      // Only the redrawn TTY line shows the running step's heartbeat figures.
      if (tty) {
        const { running, ...progress } = await run.liveProgress().catch(async () => ({ ...(await run.progress()), running: null }));
        [last, live] = [progress, running];
      } else last = await run.progress();
      report(last);
    } catch {
      // Not started by a worker yet: the query has no handler until the first workflow task.
      live = null;
    }
    status.update(line(), '');
  };

  const tail = follow.messages ? { store: follow.messages.store, cursor: (await import('../client/index.js')).tailCursor() } : null;
  const printMessages = async () => {
    if (!tail) return;
    try {
      const { tailMessages } = await import('../client/index.js');
      for (const m of await tailMessages(tail.store, run.workflowId, tail.cursor)) status.log(m.kind === 'tool' ? p.cyan(`  ⚙ ${m.text}`) : `  ${m.text}`);
    } catch {
      // A store hiccup costs a poll's lines, never the watch.
    }
  };

  let settled = false;
  const result = run.result().then(
    (r) => ({ ok: true as const, r }),
    (e: unknown) => ({ ok: false as const, e }),
  ).finally(() => (settled = true));
  const interrupts = follow.cancel ? watchInterrupts(run.workflowId, { cancelOnInterrupt: follow.cancelOnInterrupt, note: (l) => status.log(l) }) : null;
  let decision: Interruption | null = null;
  void interrupts?.decided.then((d) => (decision = d));
  let recordedSpendUsd: number | null = null;
  const base = { workflowId: run.workflowId, detached: false };
  try {
    await poll();
    while (!settled && decision === null) {
      await Promise.race([result, interrupts?.decided, new Promise((r) => setTimeout(r, 500))]);
      await printMessages();
      if (!settled && decision === null) await poll();
    }
    if (decision === 'detach' && !settled) return { ...base, progress: last, failure: null, detached: true, recordedSpendUsd };
    if (decision === 'cancel' && !settled) {
      status.update(`cancelling ${run.workflowId}`);
      recordedSpendUsd = (await follow.cancel!(run.workflowId)).spendUsd;
    }
    const outcome = await result;
    await printMessages();
    if (outcome.ok) {
      last = outcome.r;
      report(outcome.r);
      return { ...base, progress: outcome.r, failure: null, recordedSpendUsd };
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
    return { ...base, progress: last, failure: { type: c.type, message: c.message }, recordedSpendUsd };
  } finally {
    interrupts?.dispose();
    status.stop();
  }
}
