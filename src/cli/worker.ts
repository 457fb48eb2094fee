/**
 * `worker`: the worker process, configured like every command (flags >
 * environment > config file > the local stack), both servers checked first so
 * an unreachable one fails fast with exit 4.
 */
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { workerConfigFromEnv } from '../worker/config.js';
import { createClaudeTemporalWorker } from '../worker/worker.js';
import { DEFAULT_MONGO_DB, withLocalStack } from './config.js';
import { type Context } from './context.js';
import { EXIT, unavailable } from './errors.js';
import { printJson } from './output.js';

export interface WorkerFlags {
  maxConcurrentSteps?: string;
  workDir?: string;
  shutdownGraceMs?: string;
  stub?: boolean;
}

export async function runWorker(ctx: Context, flags: WorkerFlags): Promise<number> {
  const { io } = ctx;
  // Fail fast on a missing or unreachable server before the worker bundles its workflows.
  await ctx.temporal();
  const store = await ctx.store();
  const values = ctx.config.values;
  const env: NodeJS.ProcessEnv = {
    ...io.env,
    TEMPORAL_ADDRESS: values.temporalAddress,
    TEMPORAL_NAMESPACE: values.temporalNamespace ?? io.env.TEMPORAL_NAMESPACE,
    TASK_QUEUE: values.taskQueue ?? io.env.TASK_QUEUE,
    MONGODB_URI: values.mongodbUri,
    MONGODB_DB: values.mongodbDb ?? DEFAULT_MONGO_DB,
    CLAUDE_PATH: values.claudePath ?? io.env.CLAUDE_PATH,
    ...(flags.maxConcurrentSteps !== undefined ? { MAX_CONCURRENT_STEPS: flags.maxConcurrentSteps } : {}),
    ...(flags.workDir !== undefined ? { CLAUDE_TEMPORAL_WORK_DIR: flags.workDir } : {}),
    ...(flags.shutdownGraceMs !== undefined ? { SHUTDOWN_GRACE_MS: flags.shutdownGraceMs } : {}),
  };
  const config = workerConfigFromEnv(env);
  if (flags.stub) {
    const withStack = await withLocalStack({ ...ctx.config, values: {} }, { temporal: true }, io.env, io.stderr);
    if (!withStack.stack?.stubUrl) throw unavailable('The local stack has no Messages API stub: run `claude-temporal stack up`');
    config.claudeEnv = { ...config.claudeEnv, ANTHROPIC_BASE_URL: withStack.stack.stubUrl, ANTHROPIC_API_KEY: 'sk-local-stub' };
  }
  quietRuntime(io.env);
  const worker = await createClaudeTemporalWorker(config, { store });
  const ready = {
    event: 'ready',
    taskQueue: config.taskQueue,
    temporalAddress: config.temporalAddress,
    namespace: config.namespace,
    mongoDb: config.mongoDb,
    workDir: config.workDir,
    maxConcurrentSteps: config.maxConcurrentSteps,
    anthropicBaseUrl: config.claudeEnv.ANTHROPIC_BASE_URL ?? null,
  };
  if (io.json) printJson(io, ready);
  else io.stdout.write(`worker ready: task queue ${config.taskQueue} on ${config.temporalAddress}, ${config.maxConcurrentSteps} concurrent steps (stop with Ctrl-C)\n`);
  await worker.run();
  if (!io.json) io.stderr.write('worker stopped\n');
  return EXIT.ok;
}

/** The SDK logs the workflow bundle build at INFO; keep WARN and above unless LOG_LEVEL says otherwise. */
export function quietRuntime(env: NodeJS.ProcessEnv): void {
  const level = (env.LOG_LEVEL?.toUpperCase() ?? 'WARN') as 'TRACE' | 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
  try {
    Runtime.install({ logger: new DefaultLogger(['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'].includes(level) ? level : 'WARN') });
  } catch {
    // Already installed (a second worker in this process): keep it.
  }
}
