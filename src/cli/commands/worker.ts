/**
 * `worker`: the worker process, configured like every command (flags >
 * environment > config file > the local stack), both servers checked first so
 * an unreachable one fails fast with exit 4.
 */
import { type Command } from 'commander';
import { DEFAULT_MONGO_DB } from '../../model/defaults.js';
import { withLocalStack } from '../config.js';
import { type Action, type Context } from '../context.js';
import { EXIT, unavailable } from '../exit-codes.js';
import { printJson } from '../output.js';

export const registerWorkerCommand = (program: Command, action: Action): void => {
  program
    .command('worker')
    .description('run a worker: executes the workflows and claude runs of the task queue until SIGINT/SIGTERM')
    .option('--max-concurrent-steps <n>', 'claude processes at once (env MAX_CONCURRENT_STEPS, default 2)')
    .option('--work-dir <dir>', 'default working directory of sessions (env CLAUDE_TEMPORAL_WORK_DIR)')
    .option('--shutdown-grace-ms <ms>', 'on shutdown, let running steps finish this long (env SHUTDOWN_GRACE_MS)')
    .option('--stub', 'point claude at the local stack\'s Messages API stub (no API key needed)')
    .action(action(runWorker));
};

export interface WorkerFlags {
  maxConcurrentSteps?: string;
  workDir?: string;
  shutdownGraceMs?: string;
  stub?: boolean;
}

async function runWorker(ctx: Context, flags: WorkerFlags): Promise<number> {
  const { io } = ctx;
  // Fail fast on a missing or unreachable server before the worker bundles its workflows.
  await ctx.temporal();
  const store = await ctx.store();
  // The worker SDK loads only here: other commands stay light.
  const [{ workerConfigFromEnv }, { createClaudeTemporalWorker }, { quietRuntime }] = await Promise.all([
    import('../../worker/config.js'),
    import('../../worker/worker.js'),
    import('../../worker/runtime.js'),
  ]);
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
