/**
 * The step activity: one session step run exactly once, whatever fails.
 * - One run per session at a time: the step holds its session's lease (it waits, or fails fast
 *   with `SessionBusy`), and every write is fenced by it.
 * - A retry starts from the conversation as it was before the step, stores no message twice and
 *   records the spend of the attempt it replaces, estimated from what that attempt sent and received.
 * - A store outage is waited out within the step's timeout.
 * - A step already recorded complete returns its recorded outcome without running `claude` again.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { validateRunRequest } from '../model/validation/run-request.js';
import { type RunOutcome, type RunRequest } from '../model/run.js';
import { type RunLedgerEntry, type SessionLease, type SessionUpsert } from '../model/session.js';
import { type RunRecord, type SessionStore } from '../store/types.js';
import { createsSession, stepRunRequest } from '../model/step-modes.js';
import { stepRunId, type StepHeartbeat, type StepInput, type StepResult } from '../model/workflow.js';
import { nonRetryable, withSessionId } from './failures.js';
import { type ActivityLogger, type ClaudeRuntime } from './index.js';
import { finishedEntry, ledgerBase, resultFromLedger } from './ledger-entries.js';
import { fencedWrite, recordFailure, settleLostAttempts, type FencedWrite } from './lost-attempts.js';
import { newProgress, noteLine, spendFields } from './progress.js';
import { acquireSession, DEFAULT_LEASE_TTL_MS, HeldSession, readWhileIdle, sessionBusy } from './session-lease.js';
import { countLine, emptySpend } from './spend.js';
import { attemptDeadline, storeCaller } from './store-retry.js';
import { transcriptDigestOf } from '../store/transcripts.js';
import { localTranscript, readTranscript, removeTranscript, restoreTranscript } from './transcripts.js';

interface StepDeps {
  store: SessionStore;
  claude: ClaudeRuntime;
  logger: ActivityLogger;
  heartbeatIntervalMs: number;
}

type StoreCall = <T>(fn: () => Promise<T>) => Promise<T>;

/** One attempt of a step: its ids, the request the runner gets, and how it reaches the store. */
interface Attempt {
  input: StepInput;
  attempt: number;
  runId: string;
  /** The session this step writes: the resumed one, or the new one (query, fork). */
  sessionId: string;
  cwd: string;
  request: RunRequest;
  progress: StepHeartbeat;
  /** Store reads, retried through outages. */
  call: StoreCall;
  /** Takes a session's lease for this attempt, waiting while another run holds it. */
  hold: (sessionId: string) => Promise<SessionLease>;
  /** Takes a session's lease for this attempt if no run holds it (an expired lease is left to `hold`), else null. */
  holdIfFree: (sessionId: string) => Promise<{ lease: SessionLease; first: boolean } | null>;
  /** Reads another session while no run holds it (a fork's parent). */
  readIdle: <T>(sessionId: string, read: () => Promise<T>) => Promise<T>;
}

export function createStepActivities(deps: StepDeps) {
  const { store, claude, logger, heartbeatIntervalMs } = deps;

  async function runStep(input: StepInput): Promise<StepResult> {
    const ctx = Context.current();
    const step = planAttempt(ctx, input);
    // Bad input fails here, before anything is written (the runner would only refuse it after).
    await step.call(async () => {
      validateRunRequest(step.request);
      await claude.check?.(step.request, step.cwd);
    });
    // The step's attempts so far (by key: this one's too, which a reset workflow can find recorded), and a
    // first try at its session's lease that takes it only if it is free. The CLI starts up meanwhile; it is
    // stopped before it reads its prompt if the step does not run now.
    const early = async (): Promise<Claimed> => {
      const [earlier, free] = await Promise.all([step.call(() => store.runsOfStep(input.stepKey, { attempts: step.attempt })), step.holdIfFree(step.sessionId)]);
      const done = earlier.find((r) => r.status !== 'running' && r.status !== 'failed');
      if (done || !free) throw new NotNow(earlier, free?.lease ?? null, done);
      return { earlier, ...free };
    };
    try {
      return await execute(ctx, step, early);
    } catch (error) {
      if (!(error instanceof NotNow)) throw error;
      const { earlier, lease, done } = error;
      if (done) {
        if (lease) await store.releaseLease(lease).catch(() => undefined);
        return resultFromLedger(input.stepKey, done, earlier);
      }
      // Another run holds the session: wait for it, then run.
      return await execute(ctx, step, async () => ({ earlier, lease: await step.hold(step.sessionId), first: false }));
    }
  }

  /**
   * One run of the step under its session's lease (`claim`). The CLI is spawned at once and starts up
   * while the claim goes out, lost attempts are settled, the conversation is put in place and the
   * session and its `running` entry are written: it reads its prompt to EOF, and only then its
   * transcript, so it can spend only once they are (a lost attempt is always found and settled).
   */
  async function execute(ctx: Context, step: Attempt, claim: () => Promise<Claimed>): Promise<StepResult> {
    // A new session's id must be free on this machine before the CLI starts: it checks at start-up,
    // before it reads its prompt. What an earlier attempt with the same id left goes (the store keeps
    // the transcript of one that completed).
    if (createsSession(step.input.mode)) await removeTranscript(claude.configDir, step.cwd, step.sessionId);
    const ttlMs = ctx.info.heartbeatTimeoutMs || DEFAULT_LEASE_TTL_MS;
    const stop = new AbortController();
    // The claim's store commands go out after the spawn, not ahead of it.
    let go!: () => void;
    const claimed = new Promise<void>((resolve) => (go = resolve)).then(claim);
    let held: HeldSession | undefined;
    let beat: NodeJS.Timeout | undefined;
    const holding = claimed.then(({ lease }) => {
      held = new HeldSession(store, lease, ttlMs, () => stop.abort());
      // Each heartbeat is a write in Temporal: the first waits for the CLI's output or the timer, unless
      // it replaces what is shown now (a wait, a store outage, or an earlier attempt's figures).
      if (step.attempt > 1 || step.progress.waitingFor !== null || step.progress.failure !== null) {
        step.progress.waitingFor = null;
        step.progress.failure = null;
        ctx.heartbeat(step.progress);
      }
      beat = setInterval(() => {
        held!.renew();
        ctx.heartbeat(step.progress);
      }, heartbeatIntervalMs);
      return held;
    });
    // Awaited by every write; a step that does not run now fails them all with why.
    holding.catch(() => undefined);
    // Every write of this step first checks that the session is still its own.
    const check = async () => (await holding).check();
    const write = fencedWrite(step.call, check);
    let spawnedAt: Date | undefined;
    const prepared = claimed.then(async ({ earlier, first }) => {
      await holding;
      const settled = await settleLostAttempts(deps, earlier, ctx.info.heartbeatDetails as Partial<StepHeartbeat> | undefined, write);
      // The run starts when its process does.
      const base = ledgerBase(step.input, step.runId, step.sessionId, step.attempt, spawnedAt ?? new Date());
      const parent = await prepareConversation(step);
      // What is known already is not read again: the parent's lineage, and that a session this step creates is new.
      const known = {
        ...(parent ? { parent: { sessionId: parent.sessionId, rootSessionId: parent.lineage.rootSessionId } } : {}),
        ...(first && createsSession(step.input.mode) ? { fresh: true } : {}),
      };
      // Fenced like every write: the check goes out with the entry's reads. The run's end derives from what it writes.
      const started = await step.call(() => store.startRun(base, { session: sessionOf(step, parent), check, ...known }));
      return { settled, base, started };
    });
    // The run, once recorded complete: it deletes the transcript versions it replaced.
    let recorded: RunRecord | null = null;
    try {
      // The process is spawned, or the run ended without one: called once or twice.
      const spawned = () => {
        spawnedAt ??= new Date();
        go();
      };
      const outcome = await runClaude(ctx, step, prepared, stop.signal, write, spawned);
      const { base, settled, started } = await prepared;
      const entry = await recordOutcome(step, base, outcome, write, check, started);
      recorded = started;
      return resultFromLedger(step.input.stepKey, entry, settled, false);
    } finally {
      clearInterval(beat);
      await held?.release().catch(() => undefined);
      // The transcripts the run replaced go while the step answers: pruning never touches the current
      // one, and one cut short is finished by the next.
      if (recorded) void recorded.pruneReplaced().catch(() => undefined);
    }
  }

  function planAttempt(ctx: Context, input: StepInput): Attempt {
    const { attempt } = ctx.info;
    const cwd = input.options?.cwd ?? input.scope ?? claude.workDir;
    const sessionId = createsSession(input.mode) ? input.newSessionId : input.sessionId;
    if (!sessionId) {
      throw nonRetryable('InvalidInput', createsSession(input.mode) ? 'Invalid newSessionId: required' : 'Invalid sessionId: a resume needs a session id');
    }
    const runId = stepRunId(input.stepKey, attempt);
    const request = stepRunRequest(input, cwd);
    const progress = newProgress(runId, sessionId);
    const call = storeCaller({
      deadline: attemptDeadline(ctx.info),
      signal: ctx.cancellationSignal,
      onRetry: () => {
        // Waiting out an outage: alive for Temporal, and a lost attempt is not recorded as a crash.
        progress.failure = 'StoreUnavailable';
        ctx.heartbeat(progress);
      },
    });
    const waiting = {
      failFast: input.failFast === true,
      signal: ctx.cancellationSignal,
      call,
      onWait: (holder: string) => {
        progress.waitingFor = holder;
        ctx.heartbeat(progress);
      },
    };
    const lease = { holder: runId, stepKey: input.stepKey, ttlMs: ctx.info.heartbeatTimeoutMs || DEFAULT_LEASE_TTL_MS };
    const hold = (sid: string) => acquireSession(store, { ...waiting, ...lease, sessionId: sid });
    const holdIfFree = async (sid: string) => {
      const got = await call(() => store.tryAcquireLease({ ...lease, sessionId: sid }, () => false));
      return got.acquired ? { lease: got.lease, first: got.first } : null;
    };
    const readIdle = <T>(sid: string, read: () => Promise<T>) => readWhileIdle(store, { ...waiting, sessionId: sid }, read);
    return { input, attempt, runId, sessionId, cwd, request, progress, call, hold, holdIfFree, readIdle };
  }

  /**
   * Puts the conversation this step starts from on this machine: the stored transcript of its
   * source session. A fork reads its parent while no run holds it (forks of one parent read side
   * by side), so the transcript and the message count it records are of one moment, never of a
   * run halfway through.
   */
  async function prepareConversation(step: Attempt) {
    const { input, cwd, call, readIdle } = step;
    if (input.mode === 'query') return null;
    const sourceId = input.sessionId!;
    const snapshot = () => Promise.all([storedTranscript(step), input.mode === 'fork' ? call(() => store.getSession(sourceId)) : null]);
    const [transcript, parent] = input.mode === 'fork' ? await readIdle(sourceId, snapshot) : await snapshot();
    if (transcript instanceof Uint8Array) await restoreTranscript(claude.configDir, cwd, sourceId, transcript);
    else if (transcript === null && !(await readTranscript(claude.configDir, cwd, sourceId))) {
      // Known neither to the store nor to this machine's CLI: fail before anything is written.
      throw nonRetryable('SessionNotFound', `Session not found: ${sourceId}`);
    }
    return input.mode === 'resume' ? null : parent;
  }

  /**
   * The stored transcript of the step's source session, or `same` when this machine's copy is
   * that one already (the previous step ran here): then nothing is read but its digest.
   */
  async function storedTranscript({ input, cwd, call }: Attempt): Promise<Uint8Array | 'same' | null> {
    const sourceId = input.sessionId!;
    const [digest, local] = await Promise.all([call(() => store.transcriptDigest(sourceId)), localTranscript(claude.configDir, cwd, sourceId)]);
    if (digest !== null && local !== null && transcriptDigestOf(local) === digest) return 'same';
    return call(() => store.loadTranscript(sourceId));
  }

  /** The session as this step opens it (written with its `running` entry). */
  function sessionOf({ input, cwd, sessionId }: Attempt, parent: { tags: string[]; messageCount: number } | null): SessionUpsert {
    return {
      sessionId,
      // A fork stays attributed to what its parent was for (project, team): it inherits the tags.
      tags: [...new Set([...(parent?.tags ?? []), ...(input.tags ?? [])])],
      description: input.description,
      scope: cwd,
      origin: input.origin,
      status: 'active',
      ...(input.mode === 'fork' ? { parentSessionId: input.sessionId!, forkedAtMessage: parent?.messageCount ?? null } : {}),
    };
  }

  /** Runs the CLI, storing its lines as they stream and counting what it spends; each batch heartbeats the progress. */
  async function runClaude(
    ctx: Context,
    step: Attempt,
    prepared: Promise<{ base: RunLedgerEntry }>,
    leaseLost: AbortSignal,
    write: FencedWrite,
    spawned: () => void,
  ): Promise<RunOutcome> {
    const { progress, sessionId, runId } = step;
    const spend = emptySpend();
    // Awaited after the run; a failure before then stops the run through `promptAfter`.
    prepared.catch(() => undefined);
    let run: { outcome: RunOutcome } | { error: unknown };
    try {
      const outcome = await claude.run(step.request, {
        configDir: claude.configDir,
        signal: AbortSignal.any([ctx.cancellationSignal, leaseLost]),
        promptAfter: prepared,
        onSpawn: spawned,
        onBatch: async (batch) => {
          for (const m of batch) countLine(spend, m.type, m.data);
          // Partial-message events only feed the estimate: the conversation is the complete lines.
          const lines = batch.filter((m) => m.type !== 'stream_event');
          if (lines.length > 0) await write(() => store.appendMessages(sessionId, runId, lines.map((m) => ({ seq: m.seq, raw: m.raw }))));
          for (const m of lines) noteLine(progress, m);
          Object.assign(progress, spendFields(spend));
          ctx.heartbeat(progress);
        },
      });
      run = { outcome };
    } catch (error) {
      run = { error };
    }
    spawned();
    // Nothing more is written before the session and its entry are; if they could not be, the CLI
    // never had its prompt, so there is nothing to record and this throws why.
    const { base } = await prepared;
    if ('error' in run) {
      const cancelled = ctx.cancellationSignal.aborted;
      const failure = await recordFailure(deps, base, progress, cancelled ? new CancelledFailure('Step cancelled') : run.error, write);
      throw cancelled ? failure : withSessionId(failure, sessionId);
    }
    const { outcome } = run;
    // Another run took the session over: this attempt must not write anything more.
    if (leaseLost.aborted) throw sessionBusy(sessionId, 'that took the session over', false);
    if (ctx.cancellationSignal.aborted) {
      // The process tree is gone by now (the runner waits for it): the ledger says `Cancelled` with what was spent,
      // the CLI's own figure when it printed one before it stopped, else the estimate.
      const spent = outcome.runCostUsd > 0 ? outcome.runCostUsd : progress.spendUsd;
      await recordFailure(deps, base, { ...progress, spendUsd: spent }, new CancelledFailure('Step cancelled'), write);
      throw new CancelledFailure('Step cancelled');
    }
    return outcome;
  }

  /** Keeps the transcript of a good run and records the entry; a failed run's messages go (its spend stays) and its failure is thrown. */
  async function recordOutcome(
    step: Attempt,
    base: RunLedgerEntry,
    outcome: RunOutcome,
    write: FencedWrite,
    check: () => Promise<void>,
    started: RunRecord,
  ): Promise<RunLedgerEntry> {
    const { sessionId, runId } = step;
    if (outcome.sessionId && outcome.sessionId !== sessionId) {
      logger.warn('CLI reported another session id than the one fixed', { expected: sessionId, got: outcome.sessionId });
    }
    const entry = finishedEntry(base, outcome, step.progress);
    if (outcome.status !== 'failed') {
      // The transcript is stored with the entry, before the run is recorded complete (a retry of a recorded step does not run again).
      // Fenced like every write: the check goes out with the transcript's file.
      const transcript = await readTranscript(claude.configDir, step.cwd, sessionId);
      const options = { ...(transcript ? { transcript } : {}), check };
      await step.call(() => started.record(entry, options));
      if (step.input.conversation) {
        // The key's session, for a conversation re-opened later: recorded once the exchange is.
        const { key, exchange } = step.input.conversation;
        await write(() => store.recordConversation({ key, sessionId, exchanges: exchange }));
      }
      return entry;
    }
    // The conversation goes back to where it was; recordRun also sets the session's status from its latest run.
    await write(() => store.discardRunMessages(sessionId, runId));
    await write(() => store.recordRun(entry));
    const f = outcome.failure!;
    throw ApplicationFailure.create({
      type: f.type,
      message: f.message,
      nonRetryable: !f.retryable,
      details: [{ runId, sessionId, status: f.evidence.status ?? null, errors: f.evidence.errors ?? [], stderrTail: (f.evidence.stderrTail ?? '').slice(-2000) }],
    });
  }

  return { runStep };
}

/** What a run of the step starts from: its attempts so far and its session's lease (`first`: the session's first). */
interface Claimed {
  earlier: RunLedgerEntry[];
  lease: SessionLease;
  first: boolean;
}

/** The step does not run in this attempt's first try: it is done already, or another run holds its session. */
class NotNow extends Error {
  constructor(
    readonly earlier: RunLedgerEntry[],
    /** The lease the first try took (a done step's, to release). */
    readonly lease: SessionLease | null,
    /** The step's recorded run, when it is done. */
    readonly done: RunLedgerEntry | undefined,
  ) {
    super(done ? 'Step already recorded' : 'Session busy');
  }
}
