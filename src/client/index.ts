/**
 * The typed client: durable counterparts of the seed's `query`, `continue`,
 * `resume` and `fork`, plus pipelines, the fork fan-out, conversations and
 * the cleanup schedule.
 */
import { randomUUID } from 'node:crypto';
import {
  Client,
  Connection,
  ScheduleAlreadyRunning,
  ScheduleOverlapPolicy,
  WithStartWorkflowOperation,
  type WorkflowHandle,
} from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { type StepHeartbeat } from '../model/workflow.js';
import { CLEANUP_SCHEDULE_ID, DEFAULT_CLEANUP_CRON, DEFAULT_TASK_QUEUE } from '../model/defaults.js';
import { type ClaudeOptions, type RunStatus } from '../model/run.js';
import {
  closeConversationSignal,
  conversationSendUpdate,
  conversationStateQuery,
  PIPELINE_SEARCH_ATTRIBUTE,
  progressQuery,
  TAGS_SEARCH_ATTRIBUTE,
} from '../workflows/definitions.js';
import { cleanupSessions, conversation, exploreAlternatives, sessionPipeline } from '../workflows/index.js';
import {
  type CleanupInput,
  type ConversationInput,
  type ConversationReply,
  type ConversationState,
  type ExploreInput,
  type ExploreResult,
  type PipelineInput,
  type PipelineProgress,
  type PipelineResult,
  type StepActivityTuning,
} from '../model/workflow.js';
import { validatePipelineInput } from '../model/validation/pipeline.js';


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
}

/** Options of a single-step call (`query`, `continue`, `resume`, `fork`). */
export interface StepCallOptions extends ClaudeOptions {
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
  /** Workflow id; default `pipeline-<uuid>`. */
  workflowId?: string;
}

/** What the running step's heartbeat says: messages stored and spend so far (estimated until the run ends). */
export interface StepLiveStatus {
  messages: number;
  spendUsd: number;
  attempt: number;
}

export interface PipelineRun {
  workflowId: string;
  handle: WorkflowHandle<typeof sessionPipeline>;
  progress(): Promise<PipelineProgress>;
  /** Progress plus the running step's last heartbeat (null between steps). */
  liveProgress(): Promise<PipelineProgress & { running: StepLiveStatus | null }>;
  result(): Promise<PipelineResult>;
  cancel(): Promise<void>;
}

export interface ConversationHandle {
  workflowId: string;
  send(prompt: string): Promise<ConversationReply>;
  state(): Promise<ConversationState>;
  close(): Promise<void>;
}

export interface CleanupScheduleOptions extends CleanupInput {
  /** Cron expression (UTC); default daily at 03:00. */
  cron?: string;
  scheduleId?: string;
}

export type ClaudeTemporalClient = Awaited<ReturnType<typeof createClient>>;

/** The running step activity's heartbeat, read from the workflow's pending activities. */
async function runningStep(handle: WorkflowHandle): Promise<StepLiveStatus | null> {
  const { raw } = await handle.describe();
  const pending = raw.pendingActivities?.find((a) => a.activityType?.name === 'runStep');
  const payload = pending?.heartbeatDetails?.payloads?.[0];
  if (!pending || !payload) return null;
  const hb = defaultPayloadConverter.fromPayload<Partial<StepHeartbeat>>(payload);
  return { messages: hb.messages ?? 0, spendUsd: hb.spendUsd ?? 0, attempt: pending.attempt ?? 1 };
}

export async function createClient(options: ClientOptions = {}) {
  const ownsConnection = !options.client;
  const client =
    options.client ??
    new Client({
      connection: await Connection.connect({ address: options.address ?? process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233' }),
      namespace: options.namespace ?? process.env.TEMPORAL_NAMESPACE ?? 'default',
    });
  const taskQueue = options.taskQueue ?? process.env.TASK_QUEUE ?? DEFAULT_TASK_QUEUE;
  const searchable = options.searchAttributes ?? true;

  const startOptions = (workflowId: string, name: string, tags: string[] = [], description?: string) => ({
    taskQueue,
    workflowId,
    memo: { name, tags, ...(description ? { description } : {}) },
    ...(searchable
      ? {
          typedSearchAttributes: [
            { key: TAGS_SEARCH_ATTRIBUTE, value: tags },
            { key: PIPELINE_SEARCH_ATTRIBUTE, value: name },
          ],
        }
      : {}),
  });

  async function startPipeline(input: PipelineInput, opts: StartOptions = {}): Promise<PipelineRun> {
    const valid = validatePipelineInput(input);
    const workflowId = opts.workflowId ?? `pipeline-${randomUUID()}`;
    const handle = await client.workflow.start(sessionPipeline, {
      ...startOptions(workflowId, valid.name ?? 'pipeline', valid.tags, valid.description),
      args: [valid],
    });
    return {
      workflowId,
      handle,
      progress: () => handle.query(progressQuery),
      liveProgress: async () => {
        const [progress, running] = await Promise.all([handle.query(progressQuery), runningStep(handle)]);
        return { ...progress, running };
      },
      result: () => handle.result(),
      cancel: async () => void (await handle.cancel()),
    };
  }

  async function runPipeline(input: PipelineInput, opts: StartOptions = {}): Promise<PipelineResult> {
    return await (await startPipeline(input, opts)).result();
  }

  async function oneStep(step: PipelineInput['steps'][number], opts: StepCallOptions): Promise<SessionRunResult> {
    const { tags, description, scope, workflowId, tuning, ...claudeOptions } = opts;
    const id = workflowId ?? `${step.mode}-${randomUUID()}`;
    const result = await runPipeline(
      { name: step.mode, steps: [{ ...step, options: claudeOptions }], tags, description, scope, tuning },
      { workflowId: id },
    );
    const s = result.steps[0]!;
    return {
      workflowId: id,
      sessionId: s.sessionId!,
      status: s.status!,
      costUsd: s.costUsd,
      numTurns: s.numTurns,
      summary: s.summary,
    };
  }

  async function startExploreAlternatives(input: ExploreInput, opts: StartOptions = {}) {
    const workflowId = opts.workflowId ?? `explore-${randomUUID()}`;
    return await client.workflow.start(exploreAlternatives, {
      ...startOptions(workflowId, input.name ?? 'explore-alternatives', input.tags, input.description),
      args: [input],
    });
  }

  return {
    temporal: client,
    taskQueue,
    startPipeline,
    runPipeline,
    /** A new session. */
    query: (prompt: string, opts: StepCallOptions = {}) => oneStep({ mode: 'query', prompt }, opts),
    /** The most recent session of the scope. */
    continue: (prompt?: string, opts: StepCallOptions = {}) => oneStep({ mode: 'continue', prompt }, opts),
    /** A given session. */
    resume: (sessionId: string, prompt?: string, opts: StepCallOptions = {}) => oneStep({ mode: 'resume', sessionId, prompt }, opts),
    /** A new branch of a given session. */
    fork: (sessionId: string, prompt: string, opts: StepCallOptions = {}) => oneStep({ mode: 'fork', sessionId, prompt }, opts),

    startExploreAlternatives,
    async exploreAlternatives(input: ExploreInput, opts: StartOptions = {}): Promise<ExploreResult> {
      return await (await startExploreAlternatives(input, opts)).result();
    },

    /** The conversation of a key: started on first use, one prompt at a time. */
    conversation(key: string, input: Omit<ConversationInput, 'key'> = {}): ConversationHandle {
      const workflowId = `conversation-${key}`;
      const handle = client.workflow.getHandle<typeof conversation>(workflowId);
      return {
        workflowId,
        async send(prompt: string) {
          const start = new WithStartWorkflowOperation(conversation, {
            ...startOptions(workflowId, 'conversation', input.tags, input.description),
            args: [{ ...input, key }],
            workflowIdConflictPolicy: 'USE_EXISTING',
          });
          return await client.workflow.executeUpdateWithStart(conversationSendUpdate, { args: [{ prompt }], startWorkflowOperation: start });
        },
        state: () => handle.query(conversationStateQuery),
        close: () => handle.signal(closeConversationSignal),
      };
    },

    /** Create or update the cleanup Schedule (one per namespace); overlapping runs are skipped. */
    async ensureCleanupSchedule(opts: CleanupScheduleOptions = {}) {
      const scheduleId = opts.scheduleId ?? CLEANUP_SCHEDULE_ID;
      const cron = opts.cron ?? DEFAULT_CLEANUP_CRON;
      const args: [CleanupInput] = [{ maxAgeDays: opts.maxAgeDays ?? 30, keepTags: opts.keepTags ?? [], dryRun: opts.dryRun ?? false }];
      const spec = { cronExpressions: [cron] };
      const action = { type: 'startWorkflow' as const, workflowType: cleanupSessions, taskQueue, args, workflowId: `${scheduleId}-run` };
      const policies = { overlap: ScheduleOverlapPolicy.SKIP };
      try {
        await client.schedule.create({ scheduleId, spec, action, policies });
        return { scheduleId, created: true };
      } catch (err) {
        if (!(err instanceof ScheduleAlreadyRunning)) throw err;
        await client.schedule.getHandle(scheduleId).update((prev) => ({ ...prev, spec, action, policies: { ...prev.policies, ...policies } }));
        return { scheduleId, created: false };
      }
    },

    async close() {
      if (ownsConnection) await client.connection.close();
    },
  };
}
