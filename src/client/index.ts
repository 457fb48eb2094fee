/**
 * The typed client: durable `query`, `continue`, `resume` and `fork`, plus
 * pipelines with live progress, the fork fan-out, conversations and the
 * cleanup of old sessions (now, or on a Schedule).
 */
import { randomUUID } from 'node:crypto';
import { Client, Connection, WithStartWorkflowOperation } from '@temporalio/client';
import {
  closeConversationSignal,
  conversationSendUpdate,
  conversationStateQuery,
  PIPELINE_SEARCH_ATTRIBUTE,
  progressQuery,
  TAGS_SEARCH_ATTRIBUTE,
} from '../workflows/definitions.js';
import { conversation, exploreAlternatives, sessionPipeline } from '../workflows/index.js';
import { type CleanupInput, type ConversationInput, type ExploreInput, type ExploreResult, type PipelineInput, type PipelineResult } from '../model/workflow.js';
import { describeCleanupSchedule, ensureCleanupSchedule, runCleanup } from './cleanup.js';
import { DEFAULT_TASK_QUEUE } from '../model/defaults.js';
import { runningStep } from './live.js';
import {
  type CleanupScheduleOptions,
  type ClientOptions,
  type ConversationHandle,
  type PipelineRun,
  type SessionRunResult,
  type StartOptions,
  type StepCallOptions,
} from './types.js';
import { validatePipelineInput } from '../model/validation/pipeline.js';

export type * from './types.js';

export type ClaudeTemporalClient = Awaited<ReturnType<typeof createClient>>;

export async function createClient(options: ClientOptions = {}) {
  const ownsConnection = !options.client;
  const client =
    options.client ??
    new Client({
      connection: await Connection.connect({
        address: options.address ?? process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233',
        ...(options.connectTimeoutMs !== undefined ? { connectTimeout: options.connectTimeoutMs } : {}),
      }),
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
    ensureCleanupSchedule: (opts: CleanupScheduleOptions = {}) => ensureCleanupSchedule(client, taskQueue, opts),
    /** The cleanup Schedule's spec, next runs and recent actions; default id `CLEANUP_SCHEDULE_ID`. */
    describeCleanupSchedule: (scheduleId?: string) => describeCleanupSchedule(client, scheduleId),
    /** Clean up now as a workflow on a worker of the task queue; default id `cleanup-<uuid>`. */
    runCleanup: (input: CleanupInput, opts: StartOptions = {}) => runCleanup(client, taskQueue, input, opts),

    async close() {
      if (ownsConnection) await client.connection.close();
    },
  };
}
