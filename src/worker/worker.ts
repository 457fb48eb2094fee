import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities, type ActivityLogger } from '../activities/index.js';
import { createClaudeRuntime } from '../activities/claude-runtime.js';
import { RUNNING_FROM_DIST } from '../paths.js';
import { HEARTBEAT_FLUSH_MS } from '../model/defaults.js';
import { invalidInput } from '../model/failures.js';
import { checkClaudeBinary } from '../runner/preflight.js';
import { defaultClaudePath, resolveClaudeBinary } from '../runner/child.js';
import { createMongoStore } from '../store/mongo-store.js';
import { type SessionStore } from '../store/types.js';
import { type WorkerConfig } from './config.js';

/** The workflows' entry for the bundler: the compiled file, or the source when run through tsx. */
export const WORKFLOWS_PATH = fileURLToPath(new URL(`../workflows/index.${RUNNING_FROM_DIST ? 'js' : 'ts'}`, import.meta.url));

export interface WorkerOverrides {
  /** Use this store (the caller closes it); default: a Mongo store on `config.mongoUri`. */
  store?: SessionStore;
  /** Use this connection (the caller closes it). */
  connection?: NativeConnection;
  /** A prebuilt workflow bundle (tests build it once). */
  workflowBundle?: WorkerOptions['workflowBundle'];
  logger?: ActivityLogger;
  /** Extra Worker options (tests). */
  workerOptions?: Partial<WorkerOptions>;
}

export interface ClaudeTemporalWorker {
  worker: Worker;
  store: SessionStore;
  /** Runs until shutdown (SIGTERM/SIGINT or `shutdown()`), then closes what it created. */
  run(): Promise<void>;
  shutdown(): void;
}

/** Build clients once, then the Worker; `run()` closes them on the way out. */
export async function createClaudeTemporalWorker(config: WorkerConfig, overrides: WorkerOverrides = {}): Promise<ClaudeTemporalWorker> {
  // A worker that cannot run claude must not take work: every run would fail after writing a session.
  const wanted = config.claudePath ?? defaultClaudePath();
  const binary = await resolveClaudeBinary(wanted, process.env.PATH).catch(() => {
    throw invalidInput('CLAUDE_PATH', `${wanted} is missing or not executable`);
  });
  await checkClaudeBinary(binary, 'CLAUDE_PATH');
  await mkdir(config.workDir, { recursive: true });
  await mkdir(config.configDir, { recursive: true });
  const store = overrides.store ?? createMongoStore({ uri: config.mongoUri, dbName: config.mongoDb });
  const connection = overrides.connection ?? (await NativeConnection.connect({ address: config.temporalAddress }));
  try {
    await store.ensureIndexes();
    const claude = createClaudeRuntime({
      claudePath: config.claudePath,
      configDir: config.configDir,
      workDir: config.workDir,
      baseEnv: config.claudeEnv,
      maxRetries: config.claudeMaxRetries,
    });
    const worker = await Worker.create({
      connection,
      namespace: config.namespace,
      taskQueue: config.taskQueue,
      ...(overrides.workflowBundle ? { workflowBundle: overrides.workflowBundle } : { workflowsPath: WORKFLOWS_PATH }),
      activities: createActivities({ store, claude, logger: overrides.logger }),
      // Each step is a claude process of a few hundred MB: keep them few on small machines.
      maxConcurrentActivityTaskExecutions: config.maxConcurrentSteps,
      // On shutdown running steps get this long to finish, then they are cancelled (their process trees killed).
      shutdownGraceTime: config.shutdownGraceMs,
      // Heartbeats carry live progress (messages, spend): flushed often, not at the SDK's default of 16 s.
      maxHeartbeatThrottleInterval: HEARTBEAT_FLUSH_MS,
      ...overrides.workerOptions,
    });
    return {
      worker,
      store,
      shutdown: () => worker.shutdown(),
      run: async () => {
        try {
          await worker.run();
        } finally {
          if (!overrides.store) await store.close();
          if (!overrides.connection) await connection.close();
        }
      },
    };
  } catch (err) {
    if (!overrides.store) await store.close();
    if (!overrides.connection) await connection.close();
    throw err;
  }
}
