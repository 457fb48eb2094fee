/**
 * Helpers of the CLI tests: the command run as a subprocess from source
 * (the built binary), an environment pointing at the test stack with a database per file
 * and a task queue per test, and an in-process worker on that queue.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { bundleWorkflowCode, DefaultLogger, Runtime, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { inject } from 'vitest';
import { PROJECT_ROOT } from '../../src/paths.js';
import { createMongoStore, type MongoSessionStore } from '../../src/store/mongo-store.js';
import { createClaudeTemporalWorker, WORKFLOWS_PATH } from '../../src/worker/worker.js';
import { TEST_HOME } from '../helpers/home.js';

/** The built `claude-temporal` binary (the package's `bin`); test/global-setup.ts rebuilds it when src/ is newer. */
export const MAIN = path.join(PROJECT_ROOT, 'dist', 'cli', 'main.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run `claude-temporal <args>` from source with exactly `env` (plus PATH); `onStderr` sees its stderr so far as it grows. */
export function cli(
  args: string[],
  env: Record<string, string | undefined>,
  options: { timeoutMs?: number; input?: string; onStderr?: (stderr: string) => void } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(MAIN, args, {
      cwd: PROJECT_ROOT,
      env: { PATH: process.env.PATH, ...env } as NodeJS.ProcessEnv,
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    child.stdin?.on('error', () => {});
    child.stdin?.end(options.input);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
      options.onStderr?.(stderr);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 90_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

export function parseJson<T = Record<string, unknown>>(r: CliResult): T {
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    throw new Error(`stdout is not JSON (exit ${r.code}):\n${r.stdout}\nstderr:\n${r.stderr}`);
  }
}

/** One database per test file; a home without config file or local stack. */
export async function cliFixture() {
  const home = await mkdtemp(path.join(os.tmpdir(), 'ct-cli-home-'));
  const dbName = `cli_${randomUUID().slice(0, 8)}`;
  const store = createMongoStore({ uri: inject('mongoUri'), dbName });
  await store.ensureIndexes();
  const env = (taskQueue = `cli-${randomUUID()}`): Record<string, string> => ({
    HOME: home,
    CLAUDE_TEMPORAL_HOME: path.join(home, 'stack'),
    TEMPORAL_ADDRESS: inject('temporalAddress'),
    MONGODB_URI: inject('mongoUri'),
    MONGODB_DB: dbName,
    TASK_QUEUE: taskQueue,
    NO_COLOR: '1',
  });
  return {
    home,
    dbName,
    store,
    env,
    async close() {
      await store.close();
      await rm(home, { recursive: true, force: true });
    },
  };
}

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;
let runtimeInstalled = false;

export interface CliWorker {
  taskQueue: string;
  store: MongoSessionStore;
  stop(): Promise<void>;
}

/** A worker on `taskQueue` in this process: the real `claude` CLI against the test stack's stub. */
export async function startWorker(taskQueue: string, dbName: string): Promise<CliWorker> {
  if (!runtimeInstalled) {
    Runtime.install({ logger: new DefaultLogger('ERROR') });
    runtimeInstalled = true;
  }
  bundle ??= bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: new DefaultLogger('ERROR') });
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ct-cli-worker-'));
  const worker = await createClaudeTemporalWorker(
    {
      temporalAddress: inject('temporalAddress'),
      namespace: 'default',
      taskQueue,
      mongoUri: inject('mongoUri'),
      mongoDb: dbName,
      claudePath: undefined,
      workDir: path.join(dir, 'work'),
      configDir: path.join(dir, 'config'),
      maxConcurrentSteps: 3,
      claudeMaxRetries: 0,
      shutdownGraceMs: 1_000,
      claudeEnv: { ANTHROPIC_BASE_URL: inject('stubUrl'), ANTHROPIC_API_KEY: 'sk-test', HOME: TEST_HOME },
    },
    { workflowBundle: await bundle, workerOptions: { maxCachedWorkflows: 20 } },
  );
  const running = worker.run();
  return {
    taskQueue,
    store: worker.store as MongoSessionStore,
    async stop() {
      worker.shutdown();
      await running;
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface CliWorkerProcess {
  /** The worker's work directory: `claude` runs in it, so its processes are found by their cwd. */
  workDir: string;
  /** Pids of `claude` processes this worker started that are still alive. */
  claudePids(): Promise<number[]>;
  stop(): Promise<void>;
}

/** A worker started as `claude-temporal worker` (the built binary), on the env's task queue and database. */
export async function startCliWorker(env: Record<string, string>): Promise<CliWorkerProcess> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ct-cli-procworker-'));
  const workDir = path.join(dir, 'work');
  const child = spawn(MAIN, ['worker'], {
    cwd: PROJECT_ROOT,
    env: {
      PATH: process.env.PATH,
      ...env,
      HOME: TEST_HOME,
      CLAUDE_TEMPORAL_WORK_DIR: workDir,
      CLAUDE_CONFIG_DIR: path.join(dir, 'config'),
      ANTHROPIC_BASE_URL: inject('stubUrl'),
      ANTHROPIC_API_KEY: 'sk-test',
      CLAUDE_CODE_MAX_RETRIES: '0',
      SHUTDOWN_GRACE_MS: '1000',
    } as NodeJS.ProcessEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
  // Ready once it says so (it polls from then on).
  for (let i = 0; i < 600 && !/worker ready/.test(output); i++) {
    if (child.exitCode !== null) throw new Error(`worker exited: ${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    workDir,
    async claudePids() {
      const { readdir, readlink } = await import('node:fs/promises');
      const pids: number[] = [];
      for (const entry of await readdir('/proc')) {
        if (!/^\d+$/.test(entry)) continue;
        const cwd = await readlink(`/proc/${entry}/cwd`).catch(() => '');
        if (cwd.startsWith(workDir)) pids.push(Number(entry));
      }
      return pids;
    },
    async stop() {
      child.kill('SIGTERM');
      await exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
}
