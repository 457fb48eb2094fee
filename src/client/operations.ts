/**
 * Operating live work: what is running (from Temporal's visibility, with spend from the ledger), cancelling a
 * run and waiting until it has stopped, a finished run's result, and the running step's stored messages.
 * The CLI (`ps`, `watch`, `cancel`, `result`, `chat`) and the web console build on these.
 */
import { type Client, type WorkflowExecutionInfo, type WorkflowHandle } from '@temporalio/client';
import { type RunLedgerEntry, type StoredMessage } from '../model/session.js';
import { closeConversationSignal, conversationStateQuery, progressQuery, TAGS_SEARCH_ATTRIBUTE } from '../workflows/definitions.js';
import { kindOfType, runningSteps, type RunKind } from './live.js';
import { type ConversationCarry, type ExploreResult, type PipelineProgress } from '../model/workflow.js';
import { roundUsd } from '../model/formats.js';
import { messageLines, type MessageLine } from './messages.js';

export { messageLines, type MessageLine } from './messages.js';

/** What live operations read of the session store (the store implements it): the ledger and stored messages. */
export interface LedgerReader {
  runsOfWorkflows(workflowIds: readonly string[]): Promise<RunLedgerEntry[]>;
  messagesOfRun(runId: string, afterSeq?: number, limit?: number): Promise<StoredMessage[]>;
}

/** What a live operation needs: a Temporal client, the task queue it looks at and (for spend and messages) the store. */
export interface LiveDeps {
  temporal: Client;
  taskQueue: string;
  store?: LedgerReader;
}

export { RUN_KINDS, type RunKind } from './live.js';

/** A run's status: a pipeline's own status while it is one, else the workflow's. */
export const RUN_STATES = ['running', 'completed', 'stopped', 'failed', 'cancelled', 'terminated', 'timed-out', 'continued'] as const;
export type RunState = (typeof RUN_STATES)[number];

/** One line of `ps`. */
export interface RunListing {
  workflowId: string;
  kind: RunKind;
  /** Pipeline name (`one-step query` for a single command, `conversation`, ...). */
  name: string;
  tags: string[];
  status: RunState;
  /** The step running now (a pipeline's step name, a conversation's exchange), else null. */
  currentStep: string | null;
  /** Spend so far: the ledger's recorded runs plus the running steps' estimates. */
  spendUsd: number;
  /** True while part of `spendUsd` is a running step's estimate. */
  spendEstimated: boolean;
  startedAt: string;
  closedAt: string | null;
  ageMs: number;
}

export interface ListRunsOptions {
  /** Runs with any of these tags. */
  tags?: string[];
  /** Only runs in this state; default all. */
  status?: RunState;
  /** Most recent first, at most this many; default 20. */
  limit?: number;
}

const STATE_OF_STATUS: Record<string, RunState> = {
  RUNNING: 'running',
  COMPLETED: 'completed',
  FAILED: 'failed',
  CANCELLED: 'cancelled',
  TERMINATED: 'terminated',
  TIMED_OUT: 'timed-out',
  CONTINUED_AS_NEW: 'continued',
};

const STATUS_OF_STATE: Partial<Record<RunState, string>> = {
  running: 'Running',
  completed: 'Completed',
  stopped: 'Completed',
  failed: 'Failed',
  cancelled: 'Canceled',
  terminated: 'Terminated',
  'timed-out': 'TimedOut',
  continued: 'ContinuedAsNew',
};

/** Queries and describes on a live run wait this long for a worker before the listing goes without them. */
const LIVE_QUERY_DEADLINE_MS = 3_000;

const quoted = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/** Running and recent runs of the task queue, most recent first. */
export async function listRuns(deps: LiveDeps, options: ListRunsOptions = {}): Promise<RunListing[]> {
  const limit = options.limit ?? 20;
  const clauses = [`TaskQueue = ${quoted(deps.taskQueue)}`];
  if (options.tags?.length) clauses.push(`${TAGS_SEARCH_ATTRIBUTE.name} IN (${options.tags.map(quoted).join(', ')})`);
  if (options.status) clauses.push(`ExecutionStatus = ${quoted(STATUS_OF_STATE[options.status]!)}`);
  // A stopped pipeline is a completed workflow: fetch some more and keep those whose result says so.
  const wanted = options.status === 'stopped' || options.status === 'completed' ? limit * 5 : limit;
  const infos: WorkflowExecutionInfo[] = [];
  for await (const info of deps.temporal.workflow.list({ query: clauses.join(' AND '), pageSize: Math.min(wanted, 1000) })) {
    infos.push(info);
    if (infos.length >= wanted) break;
  }
  const ledger = deps.store ? await deps.store.runsOfWorkflows(infos.map((i) => i.workflowId)) : [];
  const rows = await Promise.all(infos.map((info) => listing(deps, info, ledger.filter((r) => r.workflowId === info.workflowId))));
  return rows.filter((r) => !options.status || r.status === options.status).slice(0, limit);
}

async function listing(deps: LiveDeps, info: WorkflowExecutionInfo, runs: RunLedgerEntry[]): Promise<RunListing> {
  const kind = kindOfType(info.type);
  const memo = (info.memo ?? {}) as { name?: unknown; tags?: unknown };
  const handle = deps.temporal.workflow.getHandle(info.workflowId, info.runId);
  let status = STATE_OF_STATUS[info.status.name] ?? 'running';
  let currentStep: string | null = null;
  let estimate = 0;
  if (status === 'running') {
    [currentStep, estimate] = await Promise.all([currentStepOf(deps, handle, kind), runningSpend(deps, handle)]);
  } else if (status === 'completed' && kind === 'pipeline') {
    status = ((await handle.result().catch(() => null)) as PipelineProgress | null)?.status === 'stopped' ? 'stopped' : 'completed';
  }
  const recorded = runs.reduce((sum, r) => sum + r.costUsd, 0);
  const startedAt = info.startTime;
  return {
    workflowId: info.workflowId,
    kind,
    name: typeof memo.name === 'string' ? memo.name : info.type,
    tags: Array.isArray(memo.tags) ? memo.tags.filter((t): t is string => typeof t === 'string') : [],
    status,
    currentStep,
    spendUsd: roundUsd(recorded + estimate),
    spendEstimated: estimate > 0,
    startedAt: startedAt.toISOString(),
    closedAt: info.closeTime ? info.closeTime.toISOString() : null,
    ageMs: Math.max(0, Date.now() - startedAt.getTime()),
  };
}

/** Within the live-query deadline, or null: a run whose worker is gone still lists. */
async function withDeadline<T>(deps: LiveDeps, fn: () => Promise<T>): Promise<T | null> {
  try {
    return await deps.temporal.connection.withDeadline(Date.now() + LIVE_QUERY_DEADLINE_MS, fn);
  } catch {
    return null;
  }
}

async function currentStepOf(deps: LiveDeps, handle: WorkflowHandle, kind: RunKind): Promise<string | null> {
  if (kind === 'pipeline') return (await withDeadline(deps, () => handle.query(progressQuery)))?.currentStep ?? null;
  if (kind === 'conversation') {
    const state = await withDeadline(deps, () => handle.query(conversationStateQuery));
    return state && state.pending > 0 ? `exchange ${state.turns + 1}` : null;
  }
  return null;
}

/** Heartbeat estimates of the steps running now (replaced by the CLI's figure in the ledger when each ends). */
async function runningSpend(deps: LiveDeps, handle: WorkflowHandle): Promise<number> {
  const steps = (await withDeadline(deps, () => runningSteps(handle))) ?? [];
  return steps.reduce((sum, s) => sum + s.spendUsd, 0);
}

/** What `cancelRun` found and did. */
export interface CancelOutcome {
  workflowId: string;
  /** The run's status when the wait ended (`cancelled` once the cancellation went through). */
  status: RunState;
  /** False when the run had already finished: nothing was cancelled. */
  requested: boolean;
  /** True once the workflow closed and none of its ledger entries is still `running`. */
  stopped: boolean;
  /** Everything the run spent, as the ledger records it (cancelled steps included). */
  spendUsd: number;
  /** The steps the cancellation stopped: their ledger entries, `Cancelled` with their spend. */
  cancelledRuns: { runId: string; sessionId: string; costUsd: number }[];
}

export interface CancelOptions {
  /** Give up waiting after this long (the run still stops when its worker gets to it); default 120 s. */
  timeoutMs?: number;
}

/**
 * Cancel a run and wait until it has stopped. The client cannot see worker processes; what it waits for is
 * the workflow closing and every ledger entry of the run leaving `running`. The step activity writes its
 * entry only after the runner has seen the `claude` process tree exit (or killed it), and the workflow waits
 * for the activity's cancellation to complete before it closes, so both together mean the processes are gone.
 */
export async function cancelRun(deps: LiveDeps, workflowId: string, options: CancelOptions = {}): Promise<CancelOutcome> {
  const deadline = Date.now() + (options.timeoutMs ?? 120_000);
  const handle = deps.temporal.workflow.getHandle(workflowId);
  const before = await handle.describe();
  const requested = before.status.name === 'RUNNING';
  if (requested) await handle.cancel();
  let status = STATE_OF_STATUS[before.status.name] ?? 'running';
  while (status === 'running' && Date.now() < deadline) {
    await sleep(300);
    status = STATE_OF_STATUS[(await handle.describe()).status.name] ?? 'running';
  }
  let runs = deps.store ? await deps.store.runsOfWorkflows([workflowId]) : [];
  while (deps.store && runs.some((r) => r.status === 'running') && Date.now() < deadline) {
    await sleep(300);
    runs = await deps.store.runsOfWorkflows([workflowId]);
  }
  return {
    workflowId,
    status,
    requested,
    stopped: status !== 'running' && !runs.some((r) => r.status === 'running'),
    spendUsd: roundUsd(runs.reduce((sum, r) => sum + r.costUsd, 0)),
    cancelledRuns: runs.filter((r) => r.failureType === 'Cancelled').map((r) => ({ runId: r.runId, sessionId: r.sessionId, costUsd: r.costUsd })),
  };
}

/** A finished run's result, by kind; `failure` when the workflow failed or was cancelled. */
export type RunResult =
  | { kind: 'pipeline'; workflowId: string; status: RunState; progress: PipelineProgress | null; failure: unknown }
  | { kind: 'fan-out'; workflowId: string; status: RunState; result: ExploreResult | null; failure: unknown }
  | { kind: 'conversation'; workflowId: string; status: RunState; result: ConversationCarry | null; failure: unknown }
  | { kind: 'cleanup' | 'other'; workflowId: string; status: RunState; result: unknown; failure: unknown };

/** A run's outcome; `running` status when it has not finished (nothing is awaited). */
export async function runResult(deps: LiveDeps, workflowId: string): Promise<RunResult> {
  const handle = deps.temporal.workflow.getHandle(workflowId);
  const desc = await handle.describe();
  const kind = kindOfType(desc.type);
  const status = STATE_OF_STATUS[desc.status.name] ?? 'running';
  let result: unknown = null;
  let failure: unknown = null;
  if (status !== 'running') {
    try {
      result = await handle.result();
    } catch (err) {
      failure = err;
    }
  }
  if (kind === 'pipeline') {
    // A failed or cancelled pipeline's progress stays queryable (replayed by a worker) and says how far it got.
    const progress = (result as PipelineProgress | null) ?? (await withDeadline(deps, () => handle.query(progressQuery)));
    return { kind, workflowId, status: status === 'completed' && progress?.status === 'stopped' ? 'stopped' : status, progress, failure };
  }
  return { kind, workflowId, status, result, failure } as RunResult;
}

/** Where a message tail is: the runs followed and the last sequence number printed of each. */
export interface TailCursor {
  /** Runs that started at or after this instant are followed (plus any running when the tail began). */
  since: number;
  seqs: Record<string, number>;
}

export function tailCursor(since = Date.now()): TailCursor {
  return { since, seqs: {} };
}

/** One stored message of a run as lines a person reads (assistant text and tool calls). */
export interface TailLine extends MessageLine {
  runId: string;
  seq: number;
}

/**
 * The next stored messages of the run's steps (those running, and those started since the tail began), as
 * lines, in order per step; advances the cursor. Reads the store only: the worker writes messages as they arrive.
 */
export async function tailMessages(store: LedgerReader, workflowId: string, cursor: TailCursor): Promise<TailLine[]> {
  const runs = await store.runsOfWorkflows([workflowId]);
  const out: TailLine[] = [];
  for (const run of runs) {
    const followed = run.runId in cursor.seqs;
    if (!followed && run.status !== 'running' && run.startedAt.getTime() < cursor.since) continue;
    if (!followed && run.status === 'running' && run.startedAt.getTime() < cursor.since) cursor.seqs[run.runId] = 0;
    for (;;) {
      const batch = await store.messagesOfRun(run.runId, cursor.seqs[run.runId] ?? 0, 500);
      for (const m of batch) {
        cursor.seqs[run.runId] = m.seq;
        for (const line of messageLines(m.raw)) out.push({ ...line, runId: run.runId, seq: m.seq });
      }
      if (batch.length < 500) break;
    }
    cursor.seqs[run.runId] ??= 0;
  }
  return out;
}

/** A run's kind and status, without waiting for it. */
export async function runInfo(deps: LiveDeps, workflowId: string): Promise<{ workflowId: string; kind: RunKind; status: RunState }> {
  const desc = await deps.temporal.workflow.getHandle(workflowId).describe();
  return { workflowId, kind: kindOfType(desc.type), status: STATE_OF_STATUS[desc.status.name] ?? 'running' };
}

/** Wait until a run has finished, whatever its outcome; resolves to its status. */
export async function runFinished(deps: LiveDeps, workflowId: string): Promise<RunState> {
  await deps.temporal.workflow.getHandle(workflowId).result().catch(() => undefined);
  return (await runInfo(deps, workflowId)).status;
}

/** The workflow id of a conversation key. */
export const conversationWorkflowId = (key: string) => `conversation-${key}`;

/** Whether the key's conversation workflow is open (running). */
export async function conversationOpen(deps: LiveDeps, key: string): Promise<boolean> {
  const desc = await deps.temporal.workflow.getHandle(conversationWorkflowId(key)).describe().catch(() => null);
  return desc?.status.name === 'RUNNING';
}

/** Close the key's conversation and wait until it has ended (a reply on its way finishes first); false when none was open. */
export async function closeConversation(deps: LiveDeps, key: string): Promise<boolean> {
  if (!(await conversationOpen(deps, key))) return false;
  const handle = deps.temporal.workflow.getHandle(conversationWorkflowId(key));
  await handle.signal(closeConversationSignal);
  await handle.result().catch(() => undefined);
  return true;
}

/** The run goes on in the background: watch it or cancel it by `workflowId`. */
export class RunDetachedError extends Error {
  readonly workflowId: string;
  constructor(workflowId: string) {
    super(`Detached from ${workflowId}; the run goes on`);
    this.name = 'RunDetachedError';
    this.workflowId = workflowId;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
