/**
 * Inputs and results of the workflows and of the step activity. Types only:
 * shared by workflows, activities, the client and the CLI. Everything here
 * crosses into workflow history, so it stays small: ids, counts, costs.
 */
import { type FailureType } from './failures.js';
import { type ClaudeMode, type ClaudeOptions, type RunStatus } from './run.js';
import { type Origin } from './session.js';

/** What to do when a step ends at its turn or budget limit. */
export type LimitPolicy = 'stop' | 'continue';

export interface PipelineStep {
  /** Name for progress, reports and `from` references; default `step-<n>` (1-based). */
  name?: string;
  mode: ClaudeMode;
  /** The prompt; optional for `continue` and `resume`. */
  prompt?: string;
  /** Session to resume or fork; default: the session of `from`, else of the previous step. */
  sessionId?: string;
  /** An earlier step (name or 0-based index) whose session this step resumes or forks. */
  from?: string | number;
  /** Options of this step, over the pipeline's `defaults`. */
  options?: ClaudeOptions;
  /** On `max_turns` or `budget_exceeded`: stop the pipeline or go on; default `stop`. */
  onLimit?: LimitPolicy;
}

/** Per-activity timeouts and retries; defaults suit real CLI runs. */
export interface StepActivityTuning {
  /** Heartbeat timeout; default 10 s (cancellation and worker loss are noticed within it). */
  heartbeatTimeoutMs?: number;
  /** Attempts of a step for retryable failures; default 5. */
  maximumAttempts?: number;
  /** First retry delay; default 1 s, doubling. */
  initialRetryIntervalMs?: number;
  /** One attempt's limit (store outages are waited out within it); default 1 hour. */
  startToCloseTimeoutMs?: number;
  /** A pipeline continues as new after this many steps (its history stays bounded); default `PIPELINE_STEPS_PER_RUN`. */
  continueAsNewAfterSteps?: number;
}

export interface PipelineInput {
  /** Pipeline name, for reports and the UI; default `pipeline`. */
  name?: string;
  steps: PipelineStep[];
  /** Tags applied to every session the pipeline creates or runs. */
  tags?: string[];
  description?: string;
  /** Stop before a step once this much has been spent; default: no limit. */
  budgetUsd?: number;
  /** Working directory of the runs and scope of `continue`; default: the worker's work directory. */
  scope?: string;
  /** Options applied to every step. */
  defaults?: ClaudeOptions;
  tuning?: StepActivityTuning;
  /** When a step's session is busy with another run, fail with `SessionBusy` instead of waiting; default false. */
  failFast?: boolean;
  /** Set by the pipeline itself when it continues as new; never by callers. */
  carry?: PipelineCarry;
}

/** What a pipeline hands to its next run: where to go on and the reports so far. */
export interface PipelineCarry {
  /** Index of the next step to run. */
  next: number;
  steps: StepReport[];
  stepsDone: number;
  totalCostUsd: number;
}

/** The run id of a step's attempt (attempts count from 1): its ledger entry's and its messages' key. */
export function stepRunId(stepKey: string, attempt: number): string {
  return `${stepKey}#${attempt}`;
}

/** One step as the step activity runs it (`continue` already resolved to `resume`). */
export interface StepInput {
  /** Stable over retries: `<workflowId>/<step index>`. */
  stepKey: string;
  mode: Exclude<ClaudeMode, 'continue'>;
  prompt?: string;
  /** Source session of a resume or fork. */
  sessionId?: string;
  /** Id of the new session of a query or fork, fixed by the workflow so retries are deterministic. */
  newSessionId?: string;
  options?: ClaudeOptions;
  tags?: string[];
  description?: string;
  scope?: string;
  origin?: Origin;
  /** A conversation's exchange: the activity records the key's session in the store once the step completes. */
  conversation?: { key: string; exchange: number };
  /** Fail with `SessionBusy` instead of waiting for a busy session. */
  failFast?: boolean;
}

export interface StepResult {
  stepKey: string;
  /** The session this step ran in (new for query and fork). */
  sessionId: string;
  status: RunStatus;
  failureType: FailureType | null;
  /** Spend of the attempt that produced this result. */
  costUsd: number;
  /** Spend of every attempt of this step, failed ones included. */
  totalCostUsd: number;
  numTurns: number;
  /** Messages stored for this step. */
  messageCount: number;
  /** First assistant text of the step, 200 characters. */
  summary: string | null;
  /** The CLI's final text, cut to 2,000 characters. */
  resultText: string | null;
  attempt: number;
  /** True when the step had already completed and its recorded outcome was returned. */
  fromRecord: boolean;
}

/** Heartbeat details of a running step: what a retry needs to account for a lost attempt. */
export interface StepHeartbeat {
  runId: string;
  sessionId: string;
  messages: number;
  /** Assistant messages among `messages`. */
  assistantMessages?: number;
  /** API requests the attempt started. */
  requests: number;
  inputTokens: number;
  outputTokens: number;
  cacheReadInputTokens: number;
  cacheCreationInputTokens: number;
  /** The model the API named for those requests; null until known. */
  model: string | null;
  /** The run this step is waiting for (another run holds its session); null when not waiting. */
  waitingFor: string | null;
  /** Why the attempt is failing, when it knows (a lost attempt is recorded with it, else as `Crashed`). */
  failure: FailureType | null;
  /** Estimated from tokens until the CLI's result reports the real figure. */
  spendUsd: number;
  /** First assistant text, 200 characters. */
  summary: string | null;
}

export const STEP_STATES = ['pending', 'running', 'done', 'failed', 'cancelled', 'skipped'] as const;
export type StepState = (typeof STEP_STATES)[number];

export interface StepReport {
  index: number;
  name: string;
  mode: ClaudeMode;
  state: StepState;
  sessionId: string | null;
  status: RunStatus | null;
  failureType: FailureType | null;
  costUsd: number;
  numTurns: number;
  messageCount: number;
  summary: string | null;
}

export const PIPELINE_STATUSES = ['running', 'completed', 'stopped', 'failed', 'cancelled'] as const;
export type PipelineStatus = (typeof PIPELINE_STATUSES)[number];

export interface PipelineProgress {
  name: string;
  status: PipelineStatus;
  stepsDone: number;
  stepsTotal: number;
  currentStep: string | null;
  totalCostUsd: number;
  budgetUsd: number | null;
  steps: StepReport[];
  /** Why the pipeline stopped early, when it did. */
  stoppedReason: string | null;
}

export type PipelineResult = PipelineProgress;

export interface ExploreInput {
  /** The session every branch forks from. */
  sessionId: string;
  prompts: string[];
  /** Forks running at once; default 3. */
  concurrency?: number;
  options?: ClaudeOptions;
  tags?: string[];
  description?: string;
  scope?: string;
  name?: string;
  tuning?: StepActivityTuning;
}

export interface BranchResult {
  prompt: string;
  status: 'completed' | 'failed';
  sessionId: string | null;
  parentSessionId: string;
  summary: string | null;
  costUsd: number;
  failureType: FailureType | null;
  error: string | null;
}

export interface ExploreResult {
  parentSessionId: string;
  branches: BranchResult[];
  totalCostUsd: number;
}

export interface ConversationInput {
  /** The conversation's key, e.g. a user id. */
  key: string;
  options?: ClaudeOptions;
  tags?: string[];
  description?: string;
  scope?: string;
  tuning?: StepActivityTuning;
  /** Continue-as-new once history has this many events, besides when Temporal suggests it; default 10,000. */
  continueAsNewAfterEvents?: number;
  /** Start a new session even when the store holds one for this key; default false (resume the key's session). */
  newSession?: boolean;
  /** Carried over continue-as-new. */
  state?: ConversationCarry;
}

export interface ConversationCarry {
  /** Fixed at the first run, so step keys of a later conversation with the same key never collide. */
  conversationId: string;
  sessionId: string | null;
  /** Exchanges so far (prompt-and-reply pairs), counted across re-openings of the key. */
  turns: number;
  totalCostUsd: number;
  generation: number;
}

export interface ConversationSendInput {
  prompt: string;
  /** Branch the conversation: fork its session with this prompt and continue in the new session; default false. */
  fork?: boolean;
}


export interface ConversationReply {
  sessionId: string;
  /** This exchange's number in the conversation (1-based). */
  turn: number;
  summary: string | null;
  resultText: string | null;
  costUsd: number;
  status: RunStatus;
}

export interface ConversationState extends ConversationCarry {
  key: string;
  pending: number;
  closed: boolean;
}

export interface CleanupInput {
  /** Delete sessions not updated for this many days; default 30. */
  maxAgeDays?: number;
  /** Keep sessions with any of these tags; default none. */
  keepTags?: string[];
  /** Report only; default false. */
  dryRun?: boolean;
  /** Archive each session before deleting it (`gridfs`, `gridfs:<bucket>` or a directory); default none. */
  archive?: string;
  /** Also remove ledger entries of deleted sessions older than this many days; default never. */
  purgeLedgerOlderThanDays?: number;
  /** Set by the cleanup Schedule: which one, and its cron as given. */
  schedule?: { id: string; cron: string };
}

interface CleanupWorkflowOutcome {
  /** The first 100 ids (history stays small). */
  sessionIds: string[];
  /** The deletion-log record of this run (`cleanup log`). */
  logId: string;
  /** Sessions passed over because a run was going on in them. */
  skippedBusy: number;
}

/** A dry run reports `wouldDelete`; a real one `deletedCount`. */
export type CleanupWorkflowResult =
  | (CleanupWorkflowOutcome & { dryRun: true; wouldDelete: number })
  | (CleanupWorkflowOutcome & { dryRun: false; deletedCount: number; bytesFreed: number; archiveRefs: string[]; ledgerEntriesPurged: number });
