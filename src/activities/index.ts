import { createHash } from 'node:crypto';
import { Context } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { DEFAULT_MAX_AGE_DAYS } from '../model/defaults.js';
import { ClaudeTemporalError, type FailureType } from '../model/failures.js';
import { roundUsd } from '../model/formats.js';
import { assistantText, summaryOf } from '../model/messages.js';
import { validateRunRequest } from '../model/validation/run-request.js';
import { type RunOutcome, type RunRequest } from '../model/run.js';
import { type RunLedgerEntry } from '../model/session.js';
import { type SessionStore } from '../store/types.js';
import { type CleanupInput, type CleanupWorkflowResult, type StepHeartbeat, type StepInput, type StepResult } from '../model/workflow.js';
import { readTranscript, removeTranscript, restoreTranscript } from './transcripts.js';

/** One parsed line of the CLI's output, as the runner hands it over. */
export interface StreamedMessage {
  /** Position in the run's output (1-based), the message's sequence number. */
  seq: number;
  type: string;
  /** The exact JSON line. */
  raw: string;
  /** Parsed object (for usage and text). */
  data: Record<string, unknown>;
}

/** What the step activity needs of the runner: one CLI process with this worker's configuration. */
export interface ClaudeRuntime {
  run(
    request: RunRequest,
    hooks: { configDir: string; signal: AbortSignal; onBatch: (batch: StreamedMessage[]) => Promise<void> },
  ): Promise<RunOutcome>;
  /** This worker's `CLAUDE_CONFIG_DIR`: transcripts are restored here before a resume or fork. */
  configDir: string;
  /** Working directory of runs that name none. */
  workDir: string;
}

export interface ActivityLogger {
  info(message: string, meta?: Record<string, unknown>): void;
  warn(message: string, meta?: Record<string, unknown>): void;
  error(message: string, meta?: Record<string, unknown>): void;
}

export interface ActivityDeps {
  store: SessionStore;
  claude: ClaudeRuntime;
  logger?: ActivityLogger;
  /** How often a running step heartbeats while the CLI is quiet; default 2 s. */
  heartbeatIntervalMs?: number;
}

const silentLogger: ActivityLogger = { info() {}, warn() {}, error() {} };

export function createActivities({ store, claude, logger = silentLogger, heartbeatIntervalMs = 2_000 }: ActivityDeps) {
  /** Resolve `continue` to the most recent session of a scope, once, so retries reuse it. */
  async function resolveContinueSession({ scope }: { scope: string | null }): Promise<string> {
    return await withTypedFailures(async () => {
      const latest = await store.latestSessionInScope(scope ?? claude.workDir);
      if (!latest) throw new ClaudeTemporalError('SessionNotFound', `No session to continue in ${scope ?? claude.workDir}`);
      return latest.sessionId;
    });
  }

  /**
   * Run one session step exactly once: a retry starts from the conversation
   * as it was before the step, stores no message twice and records the spend
   * of the attempt it replaces; a step already recorded complete returns its
   * recorded outcome without running `claude` again.
   */
  async function runStep(input: StepInput): Promise<StepResult> {
    const ctx = Context.current();
    const { attempt } = ctx.info;
    const runId = `${input.stepKey}#${attempt}`;
    const cwd = input.options?.cwd ?? input.scope ?? claude.workDir;
    const sessionId = input.mode === 'resume' ? input.sessionId : input.newSessionId;
    if (!sessionId) {
      throw ApplicationFailure.create({
        type: 'InvalidInput' satisfies FailureType,
        message: input.mode === 'resume' ? 'Invalid sessionId: a resume needs a session id' : 'Invalid newSessionId: required',
        nonRetryable: true,
      });
    }

    const request: RunRequest = {
      ...input.options,
      mode: input.mode,
      prompt: input.prompt,
      sessionId: input.mode === 'query' ? undefined : input.sessionId,
      newSessionId: input.mode === 'resume' ? undefined : sessionId,
      cwd,
    };
    // Bad input fails here, before anything is written (the runner would only refuse it after).
    await withTypedFailures(async () => validateRunRequest(request));

    const earlier = await withTypedFailures(() => store.runsOfStep(input.stepKey));
    const done = earlier.find((r) => r.status !== 'running' && r.status !== 'failed');
    if (done) return resultFromLedger(input.stepKey, done, earlier);
    const settled = await settleLostAttempts(earlier, ctx.info.heartbeatDetails as StepHeartbeat | undefined);

    // Start from the conversation as stored before this step, on whatever machine this is.
    if (input.mode !== 'query') {
      const sourceId = input.sessionId!;
      const transcript = await withTypedFailures(() => store.loadTranscript(sourceId));
      if (transcript) await restoreTranscript(claude.configDir, cwd, sourceId, transcript);
      else if (!(await readTranscript(claude.configDir, cwd, sourceId))) {
        // Known neither to the store nor to this machine's CLI: fail before anything is written.
        throw ApplicationFailure.create({ type: 'SessionNotFound' satisfies FailureType, message: `Session not found: ${sourceId}`, nonRetryable: true });
      }
    }
    if (input.mode !== 'resume') await removeTranscript(claude.configDir, cwd, sessionId);

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
    const startedAt = new Date();
    const base = ledgerBase(input, runId, sessionId, attempt, startedAt);
    await withTypedFailures(() => store.recordRun(base));

    const progress: StepHeartbeat = { runId, sessionId, messages: 0, inputTokens: 0, outputTokens: 0, spendUsd: 0, summary: null };
    const beat = setInterval(() => ctx.heartbeat(progress), heartbeatIntervalMs);
    let outcome: RunOutcome;
    try {
      ctx.heartbeat(progress);
      outcome = await claude.run(request, {
        configDir: claude.configDir,
        signal: ctx.cancellationSignal,
        // Messages are stored while the CLI streams; each batch also heartbeats the progress.
        onBatch: async (batch) => {
          await withTypedFailures(() => store.appendMessages(sessionId, runId, batch.map((m) => ({ seq: m.seq, raw: m.raw }))));
          for (const m of batch) accumulate(progress, m);
          ctx.heartbeat(progress);
        },
      });
    } catch (err) {
      await recordFailure(base, progress, err);
      throw toApplicationFailure(err);
    } finally {
      clearInterval(beat);
    }
    if (ctx.cancellationSignal.aborted) {
      await recordFailure(base, progress, new ClaudeTemporalError('Cancelled', 'Step cancelled'));
      throw new CancelledFailure('Step cancelled');
    }

    if (outcome.sessionId && outcome.sessionId !== sessionId) {
      logger.warn('CLI reported another session id than the one fixed', { expected: sessionId, got: outcome.sessionId });
    }
    const transcript = await readTranscript(claude.configDir, cwd, sessionId);
    if (transcript && outcome.status !== 'failed') await withTypedFailures(() => store.saveTranscript(sessionId, runId, transcript));
    const entry: RunLedgerEntry = {
      ...base,
      status: outcome.status,
      failureType: outcome.failure?.type ?? null,
      subtype: outcome.subtype,
      costUsd: outcome.runCostUsd,
      cumulativeCostUsd: outcome.cumulativeCostUsd,
      usageByModel: outcome.usageByModel,
      numTurns: outcome.numTurns,
      messageCount: outcome.messageCount,
      exitCode: outcome.exitCode,
      finishedAt: new Date(),
      durationMs: outcome.durationMs,
      model: outcome.models.at(-1) ?? null,
      summary: progress.summary,
      resultText: outcome.resultText?.slice(0, 2000) ?? null,
    };
    if (outcome.status === 'failed') {
      // The conversation goes back to where it was; the spend stays in the ledger.
      await withTypedFailures(() => store.discardRunMessages(sessionId, runId));
      // recordRun also sets the session's status from its latest run.
      await withTypedFailures(() => store.recordRun(entry));
      const f = outcome.failure!;
      throw ApplicationFailure.create({
        type: f.type,
        message: f.message,
        nonRetryable: !f.retryable,
        details: [{ runId, status: f.evidence.status ?? null, errors: f.evidence.errors ?? [], stderrTail: (f.evidence.stderrTail ?? '').slice(-2000) }],
      });
    }
    await withTypedFailures(() => store.recordRun(entry));
    return resultFromLedger(input.stepKey, entry, settled, false);
  }

  /**
   * Attempts that died with their worker left a `running` entry: record their spend, drop their
   * messages. Returns the step's earlier attempts as they now stand.
   */
  async function settleLostAttempts(earlier: RunLedgerEntry[], heartbeat: StepHeartbeat | undefined): Promise<RunLedgerEntry[]> {
    const settled: RunLedgerEntry[] = [];
    for (const run of earlier) {
      if (run.status !== 'running') {
        settled.push(run);
        continue;
      }
      const hb = heartbeat?.runId === run.runId ? heartbeat : undefined;
      const lost: RunLedgerEntry = {
        ...run,
        status: 'failed',
        failureType: 'Crashed',
        costUsd: hb?.spendUsd ?? run.costUsd,
        usageByModel: hb ? { estimated: estimatedUsage(hb) } : run.usageByModel,
        messageCount: hb?.messages ?? run.messageCount,
        finishedAt: new Date(),
      };
      await withTypedFailures(() => store.discardRunMessages(run.sessionId, run.runId));
      await withTypedFailures(() => store.recordRun(lost));
      settled.push(lost);
      logger.warn('Recorded a lost attempt of a step', { runId: run.runId, spendUsd: lost.costUsd });
    }
    return settled;
  }

  async function recordFailure(base: RunLedgerEntry, progress: StepHeartbeat, err: unknown): Promise<void> {
    const type = err instanceof ClaudeTemporalError ? err.type : 'Crashed';
    await withTypedFailures(() => store.discardRunMessages(base.sessionId, base.runId)).catch(() => undefined);
    await withTypedFailures(() =>
      store.recordRun({ ...base, status: 'failed', failureType: type, costUsd: progress.spendUsd, finishedAt: new Date() }),
    ).catch((e) => logger.error('Could not record a failed run', { runId: base.runId, error: String(e) }));
  }

  /** Delete old sessions in batches, heartbeating after each. */
  async function cleanupSessions(input: CleanupInput): Promise<CleanupWorkflowResult> {
    const ctx = Context.current();
    const result = await withTypedFailures(() =>
      store.cleanupOldSessions({
        maxAgeDays: input.maxAgeDays ?? DEFAULT_MAX_AGE_DAYS,
        keepTags: input.keepTags ?? [],
        dryRun: input.dryRun ?? false,
        onBatch: ({ deleted }) => ctx.heartbeat({ deleted }),
      }),
    );
    return { deletedCount: result.deletedCount, sessionIds: result.sessionIds.slice(0, 100), dryRun: result.dryRun };
  }

  return { runStep, resolveContinueSession, cleanupSessions };
}

export type Activities = ReturnType<typeof createActivities>;

function ledgerBase(input: StepInput, runId: string, sessionId: string, attempt: number, startedAt: Date): RunLedgerEntry {
  const iso = startedAt.toISOString();
  return {
    runId,
    sessionId,
    mode: input.mode,
    promptDigest: createHash('sha256').update(input.prompt ?? '').digest('hex'),
    status: 'running',
    failureType: null,
    subtype: null,
    costUsd: 0,
    cumulativeCostUsd: 0,
    usageByModel: {},
    numTurns: 0,
    messageCount: 0,
    exitCode: null,
    startedAt,
    finishedAt: null,
    durationMs: 0,
    stepKey: input.stepKey,
    attempt,
    day: iso.slice(0, 10),
    month: iso.slice(0, 7),
    tags: input.tags ?? [],
    model: input.options?.model ?? null,
    pipeline: input.origin?.pipeline ?? null,
    workflowId: input.origin?.workflowId ?? null,
  };
}

function resultFromLedger(stepKey: string, entry: RunLedgerEntry, all: RunLedgerEntry[], fromRecord = true): StepResult {
  const total = all.filter((r) => r.runId !== entry.runId).reduce((s, r) => s + r.costUsd, 0) + entry.costUsd;
  return {
    stepKey,
    sessionId: entry.sessionId,
    status: entry.status === 'running' ? 'failed' : entry.status,
    failureType: entry.failureType,
    costUsd: entry.costUsd,
    totalCostUsd: roundUsd(total),
    numTurns: entry.numTurns,
    messageCount: entry.messageCount,
    summary: entry.summary ?? null,
    resultText: entry.resultText ?? null,
    attempt: entry.attempt,
    fromRecord,
  };
}

/** Token counts of assistant messages, and a rough price, for a lost attempt's heartbeat. */
function accumulate(progress: StepHeartbeat, m: StreamedMessage): void {
  progress.messages += 1;
  if (m.type !== 'assistant') return;
  const message = m.data.message as { usage?: Record<string, unknown> } | undefined;
  const text = progress.summary === null ? assistantText(m.data) : null;
  if (text) progress.summary = summaryOf(text);
  const usage = message?.usage ?? {};
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
  progress.inputTokens += num(usage.input_tokens) + num(usage.cache_creation_input_tokens) + num(usage.cache_read_input_tokens);
  progress.outputTokens += num(usage.output_tokens);
  // List price of a Sonnet-class model; the CLI's own figure replaces this when the run completes.
  progress.spendUsd = roundUsd((progress.inputTokens * 3 + progress.outputTokens * 15) / 1e6);
}

function estimatedUsage(hb: StepHeartbeat) {
  return { inputTokens: hb.inputTokens, outputTokens: hb.outputTokens, cacheReadInputTokens: 0, cacheCreationInputTokens: 0, costUSD: hb.spendUsd };
}

/**
 * Runs `fn` so that what it throws crosses the activity boundary typed: a project error keeps its
 * type (store trouble is `StoreUnavailable`, retryable; rejected input `InvalidInput`), anything else is `Crashed`.
 */
async function withTypedFailures<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw toApplicationFailure(err);
  }
}

function toApplicationFailure(err: unknown): Error {
  if (err instanceof ApplicationFailure) return err;
  if (err instanceof ClaudeTemporalError) {
    return ApplicationFailure.create({ type: err.type, message: err.message, nonRetryable: !err.retryable, cause: err, details: [err.evidence] });
  }
  return ApplicationFailure.create({ type: 'Crashed', message: err instanceof Error ? err.message : String(err), cause: err instanceof Error ? err : undefined });
}
