/**
 * The typed client: durable `query`, `continue`, `resume` and `fork`, plus
 * pipelines with live progress, the fork fan-out, conversations and the
 * cleanup of old sessions (now, or on a Schedule).
 */
import { randomUUID } from 'node:crypto';
import { Client, Connection, WithStartWorkflowOperation, type WorkflowHandle } from '@temporalio/client';
import {
  closeConversationSignal,
  conversationSendUpdate,
  conversationStateQuery,
  PIPELINE_SEARCH_ATTRIBUTE,
  progressQuery,
  TAGS_SEARCH_ATTRIBUTE,
} from '../workflows/definitions.js';
import { conversation, exploreAlternatives, sessionPipeline } from '../workflows/index.js';
import { type CleanupInput, type ConversationInput, type ConversationSendInput, type ExploreInput, type ExploreResult, type PipelineInput, type PipelineResult } from '../model/workflow.js';
import { describeCleanupSchedule, ensureCleanupSchedule, runCleanup } from './cleanup.js';
import { DEFAULT_TASK_QUEUE } from '../model/defaults.js';
import { describeLive, listRunning, runningStep, type RunningWorkflow } from './live.js';
import { ClaudeTemporalError } from '../model/failures.js';
import { formatUsd, oneStepPipelineName } from '../model/formats.js';
import {
  cancelRun,
  closeConversation,
  conversationOpen,
  conversationWorkflowId,
  listRuns,
  RunDetachedError,
  runFinished,
  runInfo,
  runResult,
  tailMessages,
  type CancelOptions,
  type ListRunsOptions,
  type LiveDeps,
  type TailCursor,
} from './operations.js';
import {
  type AbortOptions,
  type CleanupScheduleOptions,
  type ClientOptions,
  type ConversationHandle,
  type PipelineRun,
  type SessionRunResult,
  type StartOptions,
  type StepCallOptions,
} from './types.js';
import { renameField, validateExploreInput, validatePipelineInput } from '../model/validation/pipeline.js';
import { idText, promptText, temporalAddress } from '../model/validation/user-input.js';
import { checkWorkflowId, REQUEST_DIGEST_MEMO, requestDigest, startOnce } from './idempotency.js';

export type * from './types.js';
export * from './operations.js';

export type ClaudeTemporalClient = Awaited<ReturnType<typeof createClient>>;

export async function createClient(options: ClientOptions = {}) {
  const ownsConnection = !options.client;
  const client = options.client ?? (await connect(options));
  const taskQueue = options.taskQueue ?? process.env.TASK_QUEUE ?? DEFAULT_TASK_QUEUE;
  const searchable = options.searchAttributes ?? true;

  const startOptions = (workflowId: string, name: string, tags: string[] = [], description?: string, digest?: string) => ({
    taskQueue,
    workflowId,
    memo: { name, tags, ...(description ? { description } : {}), ...(digest ? { [REQUEST_DIGEST_MEMO]: digest } : {}) },
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
    const workflowId = opts.workflowId === undefined ? `pipeline-${randomUUID()}` : checkWorkflowId(idText(opts.workflowId, 'workflowId'));
    const digest = requestDigest(valid);
    const { handle, existing } = await startOnce(client, workflowId, digest, () =>
      client.workflow.start(sessionPipeline, {
        ...startOptions(workflowId, valid.name ?? 'pipeline', valid.tags, valid.description, digest),
        args: [valid],
        // A closed run's id is not reused: the same request gets that run's result instead.
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
      }),
    );
    return { ...pipelineRun(handle), existing };
  }

  /** A pipeline started earlier (by anyone), to follow or cancel. */
  function pipelineRun(handle: WorkflowHandle<typeof sessionPipeline>): PipelineRun {
    const workflowId = handle.workflowId;
    return {
      workflowId,
      existing: false,
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

  async function runPipeline(input: PipelineInput, opts: StartOptions & AbortOptions = {}): Promise<PipelineResult> {
    const run = await startPipeline(input, opts);
    return await untilDoneOrAborted(run.workflowId, run.result(), opts);
  }

  const live: LiveDeps = { temporal: client, taskQueue, store: options.store };

  /** The run's result, unless the signal aborts first: then detach, or cancel and wait. */
  async function untilDoneOrAborted<T>(workflowId: string, result: Promise<T>, { signal, cancelOnAbort }: AbortOptions): Promise<T> {
    if (!signal) return await result;
    result.catch(() => undefined);
    if (signal.aborted) throw await aborted(workflowId, cancelOnAbort);
    let onAbort: (() => void) | undefined;
    let abortStarted = false;
    const abort = new Promise<never>((_, reject) => {
      onAbort = () => {
        abortStarted = true;
        void aborted(workflowId, cancelOnAbort).then(reject, reject);
      };
      signal.addEventListener('abort', onAbort, { once: true });
    });
    abort.catch(() => undefined);
    try {
      return await Promise.race([result, abort]);
    } catch (err) {
      // The cancellation closes the workflow before the wait for its processes ends: report the cancellation.
      if (abortStarted) return await abort;
      throw err;
    } finally {
      signal.removeEventListener('abort', onAbort!);
    }
  }

  async function aborted(workflowId: string, cancel = false): Promise<Error> {
    if (!cancel) return new RunDetachedError(workflowId);
    const c = await cancelRun(live, workflowId);
    return new ClaudeTemporalError('Cancelled', `Run ${workflowId} cancelled after spending ${formatUsd(c.spendUsd)}`);
  }

  async function oneStep(step: PipelineInput['steps'][number], opts: StepCallOptions): Promise<SessionRunResult> {
    const { tags, description, scope, workflowId, tuning, signal, cancelOnAbort, ...claudeOptions } = opts;
    const id = workflowId === undefined ? `${step.mode}-${randomUUID()}` : idText(workflowId, 'workflowId');
    // Errors name the call's own arguments (`prompt`, `model`), not the one-step pipeline's paths.
    const input = renameField(
      () => validatePipelineInput({ name: oneStepPipelineName(step.mode), steps: [{ ...step, options: claudeOptions }], tags, description, scope, tuning }),
      (field) => field.replace(/^steps\[0\]\.(options\.)?/, ''),
    );
    const result = await runPipeline(input, { workflowId: id, signal, cancelOnAbort });
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
    const valid = validateExploreInput(input);
    const workflowId = opts.workflowId === undefined ? `explore-${randomUUID()}` : idText(opts.workflowId, 'workflowId');
    return await client.workflow.start(exploreAlternatives, {
      ...startOptions(workflowId, valid.name ?? 'explore-alternatives', valid.tags, valid.description),
      args: [valid],
    });
  }

  return {
    temporal: client,
    taskQueue,
    startPipeline,
    runPipeline,
    /** Follow a pipeline started earlier, by workflow id. */
    attachPipeline: (workflowId: string) => pipelineRun(client.workflow.getHandle<typeof sessionPipeline>(workflowId)),
    /** Running and recent runs of the task queue (pipelines, fan-outs, conversations), most recent first. */
    listRuns: (opts?: ListRunsOptions) => listRuns(live, opts),
    /** Cancel a run and wait until it has stopped; reports the spend recorded. */
    cancelRun: (workflowId: string, opts?: CancelOptions) => cancelRun(live, workflowId, opts),
    /** A finished run's result (status `running` when it has not finished). */
    runResult: (workflowId: string) => runResult(live, workflowId),
    /** A run's kind and status, without waiting. */
    runInfo: (workflowId: string) => runInfo(live, workflowId),
    /** Wait until a run has finished; resolves to its status. */
    runFinished: (workflowId: string) => runFinished(live, workflowId),
    /** The next stored messages of a run's steps, as lines; needs the store. */
    tailMessages: (workflowId: string, cursor: TailCursor) => {
      if (!options.store) throw new Error('tailMessages needs the client to be given the store');
      return tailMessages(options.store, workflowId, cursor);
    },
    /** Whether the key's conversation is open. */
    conversationOpen: (key: string) => conversationOpen(live, key),
    /** Close the key's conversation and wait until it has ended; false when none was open. */
    closeConversation: (key: string) => closeConversation(live, key),
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
      const workflowId = conversationWorkflowId(key);
      const handle = client.workflow.getHandle<typeof conversation>(workflowId);
      return {
        workflowId,
        async send(prompt: string, sendOptions: { fork?: boolean } = {}) {
          promptText(prompt, 'prompt');
          const start = new WithStartWorkflowOperation(conversation, {
            ...startOptions(workflowId, 'conversation', input.tags, input.description),
            args: [{ ...input, key }],
            workflowIdConflictPolicy: 'USE_EXISTING',
          });
          const args: [ConversationSendInput] = [sendOptions.fork ? { prompt, fork: true } : { prompt }];
          return await client.workflow.executeUpdateWithStart(conversationSendUpdate, { args, startWorkflowOperation: start });
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

    /** Running pipelines, fan-outs and conversations of the namespace, newest first. */
    listRunning: (opts: { limit?: number; taskQueue?: string } = {}) => listRunning(client, opts),
    /** Progress and running steps of one of them; null once it has finished. */
    describeLive: (w: RunningWorkflow) => describeLive(client, w),

    async close() {
      if (ownsConnection) await client.connection.close();
    },
  };
}

/** A connection of our own, checked to be Temporal: a gRPC server that is something else accepts the connection. */
async function connect(options: ClientOptions): Promise<Client> {
  const address = temporalAddress(options.address ?? process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233', 'address');
  const timeout = options.connectTimeoutMs ?? 10_000;
  const connection = await Connection.connect({ address, ...(options.connectTimeoutMs !== undefined ? { connectTimeout: options.connectTimeoutMs } : {}) });
  try {
    await connection.withDeadline(Date.now() + timeout, () => connection.workflowService.getSystemInfo({}));
  } catch (err) {
    await connection.close().catch(() => {});
    const e = new Error(`No Temporal server at ${address}: it answered, but not as Temporal (${(err as Error).message})`, { cause: err });
    e.name = 'NotTemporalError';
    throw e;
  }
  return new Client({ connection, namespace: options.namespace ?? process.env.TEMPORAL_NAMESPACE ?? 'default' });
}
