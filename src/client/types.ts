/** What the client takes and returns (beside the model's workflow types). */
import { type Client, type WorkflowHandle } from '@temporalio/client';
import { type ClaudeOptions, type RunStatus } from '../model/run.js';
import type { sessionPipeline } from '../workflows/index.js';
import {
  type CleanupInput,
  type ConversationReply,
  type ConversationState,
  type PipelineProgress,
  type PipelineResult,
  type StepActivityTuning,
} from '../model/workflow.js';
import { type LedgerReader } from './operations.js';


export interface ClientOptions {
  /** An existing Temporal client; default: one connected to `address`. */
  client?: Client;
  /** Temporal frontend; default `TEMPORAL_ADDRESS` or `127.0.0.1:7233`. */
  address?: string;
  /** Default `TEMPORAL_NAMESPACE` or `default`. */
  namespace?: string;
  /** Default `TASK_QUEUE` or `claude-temporal`. */
  taskQueue?: string;
  /** Set the ClaudeTags/ClaudePipeline search attributes (must be registered); default true. */
  searchAttributes?: boolean;
  /** Give up connecting to `address` after this long; default the SDK's (10 s). */
  connectTimeoutMs?: number;
  /** The session store, for spend in `listRuns`, `cancelRun` and message tails; default none (those go without). */
  store?: LedgerReader;
}

/** How a run helper that waits for its run (`runPipeline`, `query`, ...) treats an abort, as Ctrl-C does in the CLI. */
export interface AbortOptions {
  /** Aborting detaches: the helper rejects with `RunDetachedError` and the run goes on; default none. */
  signal?: AbortSignal;
  /** Aborting cancels the run instead, waits until it has stopped and rejects with a `Cancelled` error; default false. */
  cancelOnAbort?: boolean;
}

/** Options of a single-step call (`query`, `continue`, `resume`, `fork`). */
export interface StepCallOptions extends ClaudeOptions, AbortOptions {
  tags?: string[];
  description?: string;
  /** Working directory and scope of `continue`; default: the worker's. */
  scope?: string;
  /** Workflow id; default `<mode>-<uuid>`. */
  workflowId?: string;
  tuning?: StepActivityTuning;
}

export interface SessionRunResult {
  workflowId: string;
  sessionId: string;
  status: RunStatus;
  costUsd: number;
  numTurns: number;
  summary: string | null;
}

export interface StartOptions {
  /** Workflow id; default `pipeline-<uuid>` (`explore-<uuid>`, `cleanup-<uuid>` for those workflows). */
  workflowId?: string;
}

/** What the running step's heartbeat says: messages stored and spend so far (estimated until the run ends). */
export interface StepLiveStatus {
  messages: number;
  spendUsd: number;
  attempt: number;
  /** The step waits for another run on its session to finish (one run per session at a time). */
  waiting: boolean;
}

export interface PipelineRun {
  workflowId: string;
  /** The id had run this same request before: this is that run (its result, not a new one). */
  existing: boolean;
  handle: WorkflowHandle<typeof sessionPipeline>;
  progress(): Promise<PipelineProgress>;
  /** Progress plus the running step's last heartbeat (null between steps). */
  liveProgress(): Promise<PipelineProgress & { running: StepLiveStatus | null }>;
  result(): Promise<PipelineResult>;
  cancel(): Promise<void>;
}

export interface ConversationHandle {
  workflowId: string;
  /** One exchange; `fork` branches into a new session of the current one and continues there. */
  send(prompt: string, options?: { fork?: boolean }): Promise<ConversationReply>;
  state(): Promise<ConversationState>;
  close(): Promise<void>;
}

export interface CleanupScheduleOptions extends Omit<CleanupInput, 'schedule'> {
  /** Cron expression (UTC); default daily at 03:00. */
  cron?: string;
  scheduleId?: string;
}

/** The cleanup Schedule as the server describes it, or `exists: false`. */
export type CleanupScheduleStatus =
  | { scheduleId: string; exists: false }
  | {
      scheduleId: string;
      exists: true;
      paused: boolean;
      /** The cron as it was given (null for a Schedule made otherwise: then `spec` is the server's). */
      cron: string | null;
      spec?: unknown;
      action: { workflowType: string | undefined; taskQueue: string | undefined; input: unknown };
      /** The next five run times, ISO. */
      nextRuns: string[];
      recentActions: { scheduledAt: string; takenAt: string; workflowId: string; runId: string }[];
      runningWorkflows: string[];
    };
