import os from 'node:os';
import path from 'node:path';
import { invalidInput } from '../model/failures.js';
import { DEFAULT_MONGO_DB, DEFAULT_TASK_QUEUE } from '../model/defaults.js';

export interface WorkerConfig {
  /** Temporal frontend; default `127.0.0.1:7233`. */
  temporalAddress: string;
  /** Default `default`. */
  namespace: string;
  /** Default `claude-temporal`. */
  taskQueue: string;
  /** Default `mongodb://127.0.0.1:27017`. */
  mongoUri: string;
  /** Default `claude_temporal`. */
  mongoDb: string;
  /** The `claude` binary; default the pinned npm package's. */
  claudePath: string | undefined;
  /** Sessions' default working directory; transcripts live in `<workDir>/.claude-config` unless `CLAUDE_CONFIG_DIR` is set. */
  workDir: string;
  configDir: string;
  /** Claude processes at once; default 2 (each is a few hundred MB). */
  maxConcurrentSteps: number;
  /** CLAUDE_CODE_MAX_RETRIES of each run; default 2: the durable layer retries. */
  claudeMaxRetries: number;
  /** On SIGTERM, let running steps finish this long before cancelling them; default 30 s. */
  shutdownGraceMs: number;
  /** Passed to each run: ANTHROPIC_BASE_URL, ANTHROPIC_API_KEY and the like. */
  claudeEnv: Record<string, string>;
}

/** Variables forwarded to the `claude` child when set (the rest of the environment is not). */
export const FORWARDED_CLAUDE_ENV = [
  'ANTHROPIC_API_KEY',
  'ANTHROPIC_AUTH_TOKEN',
  'ANTHROPIC_BASE_URL',
  'ANTHROPIC_MODEL',
  'CLAUDE_CODE_USE_BEDROCK',
  'CLAUDE_CODE_USE_VERTEX',
  'HTTPS_PROXY',
  'HTTP_PROXY',
  'NO_PROXY',
] as const;

function int(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw invalidInput(name, `must be an integer >= ${min}, got ${raw}`);
  return n;
}

/** Worker configuration from the environment; bad values name the variable. */
export function workerConfigFromEnv(env: NodeJS.ProcessEnv = process.env): WorkerConfig {
  const workDir = path.resolve(env.CLAUDE_TEMPORAL_WORK_DIR ?? path.join(os.homedir(), '.claude-temporal', 'work'));
  const claudeEnv: Record<string, string> = {};
  for (const name of FORWARDED_CLAUDE_ENV) if (env[name]) claudeEnv[name] = env[name]!;
  return {
    temporalAddress: env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233',
    namespace: env.TEMPORAL_NAMESPACE ?? 'default',
    taskQueue: env.TASK_QUEUE ?? DEFAULT_TASK_QUEUE,
    mongoUri: env.MONGODB_URI ?? 'mongodb://127.0.0.1:27017',
    mongoDb: env.MONGODB_DB ?? DEFAULT_MONGO_DB,
    claudePath: env.CLAUDE_PATH,
    workDir,
    configDir: path.resolve(env.CLAUDE_CONFIG_DIR ?? path.join(workDir, '.claude-config')),
    maxConcurrentSteps: int(env, 'MAX_CONCURRENT_STEPS', 2, 1),
    claudeMaxRetries: int(env, 'CLAUDE_CODE_MAX_RETRIES', 2, 0),
    shutdownGraceMs: int(env, 'SHUTDOWN_GRACE_MS', 30_000, 0),
    claudeEnv,
  };
}
