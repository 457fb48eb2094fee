/**
 * The step activity: one session step run exactly once. A retry starts from the conversation as
 * it was before the step, stores no message twice and records the spend of the attempt it
 * replaces; a step already recorded complete returns its recorded outcome without running `claude` again.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { ClaudeTemporalError } from '../model/failures.js';
import { validateRunRequest } from '../model/validation/run-request.js';
import { type RunOutcome, type RunRequest } from '../model/run.js';
import { type RunLedgerEntry } from '../model/session.js';
import { type SessionStore } from '../store/types.js';
import { createsSession, startsFromSession } from '../model/step-modes.js';
import { type StepHeartbeat, type StepInput, type StepResult } from '../model/workflow.js';
import { nonRetryable, withSessionId, withTypedFailures, toApplicationFailure } from './failures.js';
import { type ActivityLogger, type ClaudeRuntime } from './index.js';
import { finishedEntry, ledgerBase, resultFromLedger } from './ledger-entries.js';
import { recordFailure, settleLostAttempts } from './lost-attempts.js';
import { accumulate, newProgress } from './progress.js';
import { readTranscript, removeTranscript, restoreTranscript } from './transcripts.js';

interface StepDeps {
  store: SessionStore;
  claude: ClaudeRuntime;
  logger: ActivityLogger;
  heartbeatIntervalMs: number;
}

/** One attempt of a step: its ids and the request the runner gets. */
interface Attempt {
  input: StepInput;
  attempt: number;
  runId: string;
  /** The session this step writes: the resumed one, or the new one (query, fork). */
  sessionId: string;
  cwd: string;
  request: RunRequest;
}

export function createStepActivity(deps: StepDeps): (input: StepInput) => Promise<StepResult> {
  const { store, claude, logger, heartbeatIntervalMs } = deps;

  async function runStep(input: StepInput): Promise<StepResult> {
    const ctx = Context.current();
    const step = planAttempt(input, ctx.info.attempt);
    // Bad input fails here, before anything is written (the runner would only refuse it after),
    // and so does what only this machine can check (the working directory, the permission mode for this user).
    await withTypedFailures(async () => {
      validateRunRequest(step.request);
      await claude.check?.(step.request, step.cwd);
    });
    const earlier = await withTypedFailures(() => store.runsOfStep(input.stepKey));
    const done = earlier.find((r) => r.status !== 'running' && r.status !== 'failed');
    if (done) return resultFromLedger(input.stepKey, done, earlier);
    const settled = await settleLostAttempts(deps, earlier, ctx.info.heartbeatDetails as StepHeartbeat | undefined);
    await prepareTranscript(step);
    await openSession(step);
    const base = ledgerBase(input, step.runId, step.sessionId, step.attempt, new Date());
    await withTypedFailures(() => store.recordRun(base));
    const { outcome, progress } = await runWithHeartbeats(ctx, step, base);
    const entry = await recordOutcome(step, base, outcome, progress);
    return resultFromLedger(input.stepKey, entry, settled, false);
  }

  function planAttempt(input: StepInput, attempt: number): Attempt {
    const cwd = input.options?.cwd ?? input.scope ?? claude.workDir;
    const sessionId = createsSession(input.mode) ? input.newSessionId : input.sessionId;
    if (!sessionId) {
      throw nonRetryable('InvalidInput', createsSession(input.mode) ? 'Invalid newSessionId: required' : 'Invalid sessionId: a resume needs a session id');
    }
    const request: RunRequest = {
      ...input.options,
      mode: input.mode,
      prompt: input.prompt,
      sessionId: startsFromSession(input.mode) ? input.sessionId : undefined,
      newSessionId: createsSession(input.mode) ? sessionId : undefined,
      cwd,
    };
    return { input, attempt, runId: `${input.stepKey}#${attempt}`, sessionId, cwd, request };
  }

  /** Start from the conversation as stored before this step, on whatever machine this is. */
  async function prepareTranscript({ input, cwd, sessionId }: Attempt): Promise<void> {
    if (startsFromSession(input.mode)) {
      const sourceId = input.sessionId!;
      const transcript = await withTypedFailures(() => store.loadTranscript(sourceId));
      if (transcript) await restoreTranscript(claude.configDir, cwd, sourceId, transcript);
      else if (!(await readTranscript(claude.configDir, cwd, sourceId))) {
        // Known neither to the store nor to this machine's CLI: fail before anything is written.
        throw nonRetryable('SessionNotFound', `Session not found: ${sourceId}`);
      }
    }
    // A new session id must be free: drop what a failed attempt with the same id left.
    if (createsSession(input.mode)) await removeTranscript(claude.configDir, cwd, sessionId);
  }

  async function openSession({ input, cwd, sessionId }: Attempt): Promise<void> {
    const parent = input.mode === 'fork' ? await withTypedFailures(() => store.getSession(input.sessionId!)) : null;
    await withTypedFailures(() =>
      store.upsertSession({
        sessionId,
        // A fork stays attributed to what its parent was for (project, team): it inherits the tags.
        tags: [...new Set([...(parent?.tags ?? []), ...(input.tags ?? [])])],
        description: input.description,
        scope: cwd,
        origin: input.origin,
        status: 'active',
        ...(input.mode === 'fork' ? { parentSessionId: input.sessionId!, forkedAtMessage: parent?.messageCount ?? null } : {}),
      }),
    );
  }

  /** Runs the CLI, storing messages as they stream; each batch, and a timer while the CLI is quiet, heartbeats the progress. */
  async function runWithHeartbeats(ctx: Context, step: Attempt, base: RunLedgerEntry): Promise<{ outcome: RunOutcome; progress: StepHeartbeat }> {
    const progress = newProgress(step.runId, step.sessionId);
    const beat = setInterval(() => ctx.heartbeat(progress), heartbeatIntervalMs);
    let outcome: RunOutcome;
    try {
      ctx.heartbeat(progress);
      outcome = await claude.run(step.request, {
        configDir: claude.configDir,
        signal: ctx.cancellationSignal,
        onBatch: async (batch) => {
          await withTypedFailures(() => store.appendMessages(step.sessionId, step.runId, batch.map((m) => ({ seq: m.seq, raw: m.raw }))));
          for (const m of batch) accumulate(progress, m);
          ctx.heartbeat(progress);
        },
      });
    } catch (err) {
      const cancelled = ctx.cancellationSignal.aborted;
      await recordFailure(deps, base, progress, cancelled ? new ClaudeTemporalError('Cancelled', 'Step cancelled') : err);
      if (cancelled) throw new CancelledFailure('Step cancelled');
      throw withSessionId(toApplicationFailure(err), step.sessionId);
    } finally {
      clearInterval(beat);
    }
    if (ctx.cancellationSignal.aborted) {
      // The process tree is gone by now (the runner waits for it): the ledger says `Cancelled` with what was spent,
      // the CLI's own figure when it printed one before it stopped, else the estimate.
      const spent = outcome.runCostUsd > 0 ? outcome.runCostUsd : progress.spendUsd;
      await recordFailure(deps, base, { ...progress, spendUsd: spent }, new ClaudeTemporalError('Cancelled', 'Step cancelled'));
      throw new CancelledFailure('Step cancelled');
    }
    return { outcome, progress };
  }

  /** Keeps the transcript of a good run and records the entry; a failed run's messages go (its spend stays) and its failure is thrown. */
  async function recordOutcome(step: Attempt, base: RunLedgerEntry, outcome: RunOutcome, progress: StepHeartbeat): Promise<RunLedgerEntry> {
    const { sessionId, runId } = step;
    if (outcome.sessionId && outcome.sessionId !== sessionId) {
      logger.warn('CLI reported another session id than the one fixed', { expected: sessionId, got: outcome.sessionId });
    }
    const transcript = await readTranscript(claude.configDir, step.cwd, sessionId);
    if (transcript && outcome.status !== 'failed') await withTypedFailures(() => store.saveTranscript(sessionId, runId, transcript));
    const entry = finishedEntry(base, outcome, progress);
    if (outcome.status !== 'failed') {
      await withTypedFailures(() => store.recordRun(entry));
      if (step.input.conversation) {
        // The key's session, for a conversation re-opened later: recorded once the exchange is.
        const { key, exchange } = step.input.conversation;
        await withTypedFailures(() => store.recordConversation({ key, sessionId, exchanges: exchange }));
      }
      return entry;
    }
    // The conversation goes back to where it was; recordRun also sets the session's status from its latest run.
    await withTypedFailures(() => store.discardRunMessages(sessionId, runId));
    await withTypedFailures(() => store.recordRun(entry));
    const f = outcome.failure!;
    throw ApplicationFailure.create({
      type: f.type,
      message: f.message,
      nonRetryable: !f.retryable,
      details: [{ runId, sessionId, status: f.evidence.status ?? null, errors: f.evidence.errors ?? [], stderrTail: (f.evidence.stderrTail ?? '').slice(-2000) }],
    });
  }

  return runStep;
}
