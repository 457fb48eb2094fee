/** Defaults and limits, each stated once. Pure module. */

/** The task queue of workers and clients. */
export const DEFAULT_TASK_QUEUE = 'claude-temporal';

/** The id of the cleanup Schedule. */
export const CLEANUP_SCHEDULE_ID = 'claude-temporal-cleanup';

/** When the cleanup Schedule runs, in UTC: daily at 03:00. */
export const DEFAULT_CLEANUP_CRON = '0 3 * * *';

/** Cleanup deletes sessions not updated for this many days. */
export const DEFAULT_MAX_AGE_DAYS = 30;

/** The largest `maxAgeDays` cleanup accepts (a hundred years). */
export const MAX_MAX_AGE_DAYS = 36_500;

/** Page sizes of lists and searches. */
export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 1000;

/** Tags: safe in queries, URLs and file names, and few enough to index. */
export const MAX_TAG_LENGTH = 128;
export const MAX_TAGS = 100;

export const MAX_RUN_ID_LENGTH = 256;
export const MAX_DESCRIPTION_LENGTH = 10_000;
export const MAX_NAME_LENGTH = 512;
export const MAX_SCOPE_LENGTH = 4096;

/** The MongoDB database of workers, the CLI and the client's session store. */
export const DEFAULT_MONGO_DB = 'claude_temporal';

/** Largest prompt, in UTF-8 bytes (256 KiB): prompts reach `claude` on stdin, so the kernel's 128 KiB argument limit does not apply. */
export const MAX_PROMPT_BYTES = 256 * 1024;
/** Most steps in one pipeline. */
export const MAX_PIPELINE_STEPS = 500;
/** Largest pipeline file, and largest pipeline once validated (as JSON), in bytes (1 MiB): it travels as one workflow input. */
export const MAX_PIPELINE_BYTES = 1024 * 1024;
/** A pipeline continues as new after this many steps, keeping each run's history small; default of `tuning.continueAsNewAfterSteps`. */
export const PIPELINE_STEPS_PER_RUN = 100;
/** Longest workflow or schedule id, in characters. */
export const MAX_ID_LENGTH = 255;
/** Longest model name, in characters. */
export const MAX_MODEL_LENGTH = 256;
/** Most prompts of one fork fan-out. */
export const MAX_FORK_PROMPTS = 100;

/** A step's heartbeat timeout: a crashed worker's step is retried elsewhere within it (and its session lease expires). */
export const DEFAULT_HEARTBEAT_TIMEOUT_MS = 10_000;

/** A step's heartbeats (its live progress) reach Temporal at most this often. */
export const HEARTBEAT_FLUSH_MS = 1_000;

/** One attempt of a step may take this long; a store outage is waited out within it. */
export const DEFAULT_STEP_TIMEOUT_MS = 60 * 60 * 1000;
