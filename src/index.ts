/** The library: the typed client, the worker, the store, the runner and the shared types. */
export * from './model/failures.js';
export { CLEANUP_SCHEDULE_ID, DEFAULT_TASK_QUEUE } from './model/defaults.js';
export { createClient } from './client/index.js';
export type { CleanupScheduleOptions, CleanupScheduleStatus, ClaudeTemporalClient, ClientOptions, ConversationHandle, PipelineRun, SessionRunResult, StartOptions, StepCallOptions, StepLiveStatus } from './client/index.js';
export { validatePipelineInput, pipelineJsonSchema } from './model/validation/pipeline.js';
export { createActivities, type Activities, type ActivityDeps } from './activities/index.js';
export { createClaudeRuntime } from './activities/claude-runtime.js';
export { createClaudeTemporalWorker, WORKFLOWS_PATH } from './worker/worker.js';
export { workerConfigFromEnv, type WorkerConfig } from './worker/config.js';
export { createMongoStore, type MongoSessionStore, type MongoStoreOptions } from './store/mongo-store.js';
export type * from './model/session.js';
export type * from './store/types.js';
export type * from './model/workflow.js';
export * from './runner/index.js';
