/**
 * Live work: `ps` (what runs and ran), `watch` (re-attach), `cancel` (stop and wait) and `result` (a finished
 * run's outcome, printed as `run`/`query` print it).
 */
import { type Command } from 'commander';
import type { RunListing, RunState } from '../../client/index.js';
import { type ExploreResult } from '../../model/workflow.js';
import { type Action, type Context } from '../context.js';
import { classify, CliError, EXIT, usageError } from '../exit-codes.js';
import { collect, tagsArg } from '../flags.js';
import { followOptions, liveDeps } from '../follow.js';
import { age, table, truncate, usd } from '../format.js';
import { followCommands, watchInterrupts } from '../interrupt.js';
import { oneStepMode, printExplore, printOutcome } from '../outcome.js';
import { colorEnabled, palette, printJson } from '../output.js';
import { watchPipeline, type WatchOutcome } from '../progress.js';

/** Same as RUN_STATES of the client, without loading it for `--help`. */
const STATES = ['running', 'completed', 'stopped', 'failed', 'cancelled', 'terminated', 'timed-out', 'continued'] as const;
const CANCEL_ON_INTERRUPT = 'Ctrl-C cancels the run and waits for it to stop (default: the first Ctrl-C detaches)';

export const registerLiveCommands = (program: Command, action: Action): void => {
  program
    .command('ps')
    .description('running and recent pipelines, fan-outs and conversations of the task queue')
    .option('--tag <tag>', 'with any of these tags (repeatable)', collect)
    .option('--status <status>', STATES.join(', '))
    .option('--limit <n>', 'most recent first, at most this many (1-1000, default 20)')
    .action(action(ps));
  program
    .command('watch')
    .argument('<workflow-id>', 'the run (as `ps` lists it)')
    .description('re-attach to a run\'s live progress; exits with the run\'s exit code')
    .option('--messages', 'also print the running step\'s messages as the worker stores them')
    .option('--cancel-on-interrupt', CANCEL_ON_INTERRUPT)
    .action(action(watch));
  program
    .command('cancel')
    .argument('<workflow-id>', 'the run (as `ps` lists it)')
    .description('cancel a run, wait until its claude processes are gone and report the spend recorded')
    .option('--timeout-seconds <s>', 'stop waiting after this long (default 120)')
    .action(action(cancel));
  program
    .command('result')
    .argument('<workflow-id>', 'the run (as `ps` lists it)')
    .description('a finished run\'s result, printed as `run` or `query` print it')
    .action(action(result));
};

export interface PsFlags {
  tag?: string[];
  status?: string;
  limit?: string;
}

async function ps(c: Context, flags: PsFlags): Promise<number> {
  const tags = tagsArg(flags.tag);
  if (flags.status !== undefined && !(STATES as readonly string[]).includes(flags.status)) {
    throw usageError('--status', `must be one of ${STATES.join(', ')}`);
  }
  let limit = 20;
  if (flags.limit !== undefined) {
    limit = Number(flags.limit);
    if (!/^\d+$/.test(flags.limit) || limit < 1 || limit > 1000) throw usageError('--limit', `must be an integer from 1 to 1000, got ${flags.limit}`);
  }
  const { listRuns } = await import('../../client/index.js');
  const runs = await listRuns(await liveDeps(c), { tags, status: flags.status as RunState | undefined, limit });
  if (c.io.json) {
    printJson(c.io, { runs });
    return EXIT.ok;
  }
  if (runs.length === 0) {
    c.io.stderr.write('no runs\n');
    return EXIT.ok;
  }
  const p = palette(colorEnabled(c.io.stdout, c.io.env));
  const colour = (s: RunState) => (s === 'running' ? p.cyan(s) : s === 'completed' ? p.green(s) : s === 'failed' ? p.red(s) : p.yellow(s));
  c.io.stdout.write(
    table<RunListing>(
      runs,
      [
        { header: 'WORKFLOW', value: (r) => r.workflowId },
        { header: 'KIND', value: (r) => r.kind },
        { header: 'NAME', value: (r) => r.name, max: 24 },
        { header: 'STATUS', value: (r) => colour(r.status) },
        { header: 'STEP', value: (r) => r.currentStep ?? '-', max: 20 },
        { header: 'SPEND', value: (r) => `${r.spendEstimated ? '~' : ''}${usd(r.spendUsd)}`, right: true },
        { header: 'AGE', value: (r) => age(r.ageMs), right: true },
        { header: 'TAGS', value: (r) => r.tags.join(','), max: 30 },
      ],
      p,
    ),
  );
  return EXIT.ok;
}

async function watch(c: Context, workflowId: string, flags: { messages?: boolean; cancelOnInterrupt?: boolean }): Promise<number> {
  const client = await c.temporal();
  if ((await client.runInfo(workflowId)).kind !== 'pipeline') {
    // Fan-outs and conversations have no progress query: wait for the outcome, Ctrl-C as for a pipeline.
    const follow = await followOptions(c, flags);
    const interrupts = watchInterrupts(workflowId, { cancelOnInterrupt: follow.cancelOnInterrupt, note: (l) => c.io.stderr.write(`${l}\n`) });
    try {
      const first = await Promise.race([client.runFinished(workflowId), interrupts.decided]);
      if (first === 'detach') return printOutcome(c.io, { workflowId, progress: null, failure: null, detached: true, recordedSpendUsd: null });
      if (first === 'cancel') await follow.cancel!(workflowId);
    } finally {
      interrupts.dispose();
    }
    return await result(c, workflowId);
  }
  const out = await watchPipeline(client.attachPipeline(workflowId), c.io, await followOptions(c, flags));
  return printOutcome(c.io, out, oneStepMode(out.progress));
}

async function cancel(c: Context, workflowId: string, flags: { timeoutSeconds?: string }): Promise<number> {
  let timeoutMs: number | undefined;
  if (flags.timeoutSeconds !== undefined) {
    timeoutMs = Number(flags.timeoutSeconds) * 1000;
    if (!(timeoutMs > 0) || !Number.isFinite(timeoutMs)) throw usageError('--timeout-seconds', `must be a number greater than 0, got ${flags.timeoutSeconds}`);
  }
  const deps = await liveDeps(c, { needStore: true });
  if (!c.io.json) c.io.stderr.write(`cancelling ${workflowId} and waiting for it to stop…\n`);
  const { cancelRun } = await import('../../client/index.js');
  const outcome = await cancelRun(deps, workflowId, { timeoutMs });
  if (c.io.json) printJson(c.io, outcome);
  else if (!outcome.requested) c.io.stdout.write(`${workflowId} had already ${outcome.status === 'cancelled' ? 'been cancelled' : `ended (${outcome.status})`}; ${usd(outcome.spendUsd)} recorded\n`);
  else {
    c.io.stdout.write(`${outcome.stopped ? 'cancelled' : 'cancellation requested'} ${workflowId}: ${usd(outcome.spendUsd)} spent\n`);
    for (const r of outcome.cancelledRuns) c.io.stdout.write(`  stopped run ${r.runId} of session ${r.sessionId}: ${usd(r.costUsd)}\n`);
  }
  if (outcome.requested && !outcome.stopped) {
    c.io.stderr.write(`error: ${workflowId} has not stopped yet (is its worker running?); it stops when a worker gets to it\n`);
    return EXIT.other;
  }
  return EXIT.ok;
}

async function result(c: Context, workflowId: string): Promise<number> {
  const deps = await liveDeps(c);
  const { runResult } = await import('../../client/index.js');
  const r = await runResult(deps, workflowId);
  if (r.status === 'running') {
    const cmds = followCommands(workflowId);
    throw new CliError(`${workflowId} is still running: follow it with \`${cmds.watch}\``, EXIT.other, { kind: 'Running' });
  }
  const failure = r.failure ? classify(r.failure) : null;
  if (r.kind === 'pipeline') {
    const spend = r.status === 'cancelled' && deps.store ? (await deps.store.runsOfWorkflows([workflowId])).reduce((s, e) => s + e.costUsd, 0) : null;
    const out: WatchOutcome = { workflowId, progress: r.progress, failure: failure && { type: failure.type, message: failure.message }, detached: false, recordedSpendUsd: spend };
    return printOutcome(c.io, out, oneStepMode(r.progress));
  }
  if (r.kind === 'fan-out' && r.result) return printExplore(c.io, workflowId, r.result as ExploreResult);
  if (c.io.json) printJson(c.io, { workflowId, kind: r.kind, status: r.status, result: r.result, ...(failure ? { error: failure.message, failureType: failure.type } : {}) });
  else c.io.stdout.write(`${r.kind} ${workflowId}: ${r.status}${r.result ? `\n${truncate(JSON.stringify(r.result), 400)}` : ''}\n`);
  if (failure) {
    c.io.stderr.write(`${failure.type === 'Cancelled' ? 'cancelled' : 'error'}: ${failure.message}\n`);
    return failure.exitCode;
  }
  return EXIT.ok;
}
