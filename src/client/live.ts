/**
 * Live work for operators: the running pipelines, fan-outs and
 * conversations of a namespace, each with its progress and the steps its
 * worker is running now (from the step activities' heartbeats). Cancelling
 * one is `cancelRun` (operations.ts), as for `ps` and `cancel`.
 */
import { type Client, type WorkflowHandle } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { type StepHeartbeat } from '../model/workflow.js';
import { conversationStateQuery, progressQuery } from '../workflows/definitions.js';
import { type ConversationState, type PipelineProgress } from '../model/workflow.js';
import { type StepLiveStatus } from './types.js';

export const RUN_KINDS = ['pipeline', 'fan-out', 'conversation', 'cleanup', 'other'] as const;
export type RunKind = (typeof RUN_KINDS)[number];

/** What each workflow type is, as `ps` and the console name it. */
const KIND_OF_TYPE = {
  sessionPipeline: 'pipeline',
  exploreAlternatives: 'fan-out',
  conversation: 'conversation',
  cleanupSessions: 'cleanup',
} as const satisfies Record<string, RunKind>;

/** A workflow type's kind; `other` for a type this package does not define. */
export function kindOfType(type: string): RunKind {
  return (KIND_OF_TYPE as Record<string, RunKind>)[type] ?? 'other';
}

/** The workflow types shown as live work: all but the cleanup. */
export const LIVE_WORKFLOW_TYPES = ['sessionPipeline', 'exploreAlternatives', 'conversation'] as const satisfies ReadonlyArray<keyof typeof KIND_OF_TYPE>;
export type LiveWorkflowType = (typeof LIVE_WORKFLOW_TYPES)[number];

export interface RunningWorkflow {
  workflowId: string;
  runId: string;
  type: LiveWorkflowType;
  /** The memo's name (pipeline name, `explore-alternatives`, `conversation`). */
  name: string;
  tags: string[];
  startTime: Date;
  taskQueue: string;
}

/** One step activity running now, as its last heartbeat tells. */
export interface RunningStep {
  activityId: string;
  attempt: number;
  /** Null until the step's first heartbeat. */
  runId: string | null;
  sessionId: string | null;
  messages: number;
  /** Spend so far (estimated until the run ends). */
  spendUsd: number;
  /** Waiting for another run on its session to finish. */
  waiting: boolean;
}

export interface LiveDetail extends RunningWorkflow {
  /** Finished units (steps, branches or turns) and their total when known. */
  done: number;
  total: number | null;
  costUsd: number;
  currentStep: string | null;
  steps: RunningStep[];
  pipeline: PipelineProgress | null;
  conversation: ConversationState | null;
}

/** Running live work of the namespace, newest first (at most `limit`, default 50). */
export async function listRunning(client: Client, opts: { limit?: number; taskQueue?: string } = {}): Promise<RunningWorkflow[]> {
  const types = LIVE_WORKFLOW_TYPES.map((t) => `'${t}'`).join(', ');
  const queue = opts.taskQueue ? ` AND TaskQueue = '${opts.taskQueue.replace(/'/g, '')}'` : '';
  const out: RunningWorkflow[] = [];
  for await (const w of client.workflow.list({ query: `ExecutionStatus = 'Running' AND WorkflowType IN (${types})${queue}` })) {
    const memo = (w.memo ?? {}) as { name?: unknown; tags?: unknown };
    out.push({
      workflowId: w.workflowId,
      runId: w.runId,
      type: w.type as LiveWorkflowType,
      name: typeof memo.name === 'string' ? memo.name : w.type,
      tags: Array.isArray(memo.tags) ? memo.tags.filter((t): t is string => typeof t === 'string') : [],
      startTime: w.startTime,
      taskQueue: w.taskQueue,
    });
    if (out.length >= (opts.limit ?? 50)) break;
  }
  return out.sort((a, b) => b.startTime.getTime() - a.startTime.getTime());
}

/** The step activities a workflow is running now, with the workflow's status. */
export async function stepActivities(handle: WorkflowHandle): Promise<{ steps: RunningStep[]; status: string }> {
  const { raw, status } = await handle.describe();
  const steps = (raw.pendingActivities ?? [])
    .filter((a) => a.activityType?.name === 'runStep')
    .map((a): RunningStep => {
      const payload = a.heartbeatDetails?.payloads?.[0];
      const hb = payload ? defaultPayloadConverter.fromPayload<Partial<StepHeartbeat>>(payload) : {};
      return { activityId: a.activityId ?? '', attempt: a.attempt ?? 1, runId: hb.runId ?? null, sessionId: hb.sessionId ?? null, messages: hb.messages ?? 0, spendUsd: hb.spendUsd ?? 0, waiting: typeof hb.waitingFor === 'string' };
    });
  return { steps, status: status.name };
}

/** The running step activity's heartbeat, or null when no step runs or it has not heartbeated yet. */
export async function runningStep(handle: WorkflowHandle): Promise<StepLiveStatus | null> {
  return (await runningSteps(handle))[0] ?? null;
}

/** The heartbeats of every step activity running now (a fan-out runs several). */
export async function runningSteps(handle: WorkflowHandle): Promise<StepLiveStatus[]> {
  return (await stepActivities(handle)).steps.filter((s) => s.runId !== null).map((s) => ({ messages: s.messages, spendUsd: s.spendUsd, attempt: s.attempt, waiting: s.waiting }));
}

/** A fan-out's branch count and finished branches, from its (small) history. */
async function fanOutProgress(handle: WorkflowHandle): Promise<{ done: number; total: number | null }> {
  const history = await handle.fetchHistory();
  let total: number | null = null;
  let done = 0;
  for (const e of history.events ?? []) {
    if (e.workflowExecutionStartedEventAttributes) {
      const payload = e.workflowExecutionStartedEventAttributes.input?.payloads?.[0];
      const input = payload ? defaultPayloadConverter.fromPayload<{ prompts?: unknown[] }>(payload) : null;
      total = Array.isArray(input?.prompts) ? input.prompts.length : null;
    } else if (e.activityTaskCompletedEventAttributes || e.activityTaskFailedEventAttributes) done += 1;
  }
  return { done, total };
}

/** Progress and running steps of one live workflow; null when it is no longer running. */
export async function describeLive(client: Client, w: RunningWorkflow): Promise<LiveDetail | null> {
  const handle = client.workflow.getHandle(w.workflowId, w.runId);
  const { steps, status } = await stepActivities(handle);
  if (status !== 'RUNNING') return null;
  const base = { ...w, steps, pipeline: null, conversation: null, currentStep: null };
  if (w.type === 'sessionPipeline') {
    const p = await handle.query(progressQuery);
    return { ...base, pipeline: p, done: p.stepsDone, total: p.stepsTotal, costUsd: p.totalCostUsd, currentStep: p.currentStep };
  }
  if (w.type === 'conversation') {
    const c = await handle.query(conversationStateQuery);
    return { ...base, conversation: c, done: c.turns, total: null, costUsd: c.totalCostUsd };
  }
  const f = await fanOutProgress(handle);
  return { ...base, ...f, costUsd: steps.reduce((s, x) => s + x.spendUsd, 0) };
}
