/**
 * Shared set-up of the durable-layer tests: one workflow bundle, one Mongo
 * database and one in-process Messages API stub per test file, and a fresh
 * task queue, work dir and CLAUDE_CONFIG_DIR per worker.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { mkdtemp, readdir, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Runtime, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { MongoClient } from 'mongodb';
import { inject } from 'vitest';
import { createClient } from '../../src/client/index.js';
import { temporalCliPath } from '../../src/paths.js';
import { userPrompts } from '../../src/stub/replies.js';
import { startStub, type StubServer } from '../../src/stub/server.js';
import { createMongoStore, type MongoSessionStore } from '../../src/store/mongo-store.js';
import { type WorkerConfig } from '../../src/worker/config.js';
import { createClaudeTemporalWorker, WORKFLOWS_PATH, type ClaudeTemporalWorker } from '../../src/worker/worker.js';
import { TEST_HOME } from './home.js';

export interface Durable {
  stub: StubServer;
  store: MongoSessionStore;
  mongo: MongoClient;
  dbName: string;
  temporal: Client;
  nativeConnection: NativeConnection;
  bundle: WorkflowBundleWithSourceMap;
  /** A worker on a fresh task queue with its own work dir and CLAUDE_CONFIG_DIR. */
  startWorker(overrides?: Partial<WorkerConfig>): Promise<TestWorker>;
  workerConfig(overrides?: Partial<WorkerConfig>): Promise<WorkerConfig>;
  close(): Promise<void>;
}

export interface TestWorker extends ClaudeTemporalWorker {
  config: WorkerConfig;
  client: Awaited<ReturnType<typeof createClient>>;
  running: Promise<void>;
  stop(): Promise<void>;
}

const execFileP = promisify(execFile);

let sharedBundle: Promise<WorkflowBundleWithSourceMap> | undefined;

let runtimeInstalled = false;

export async function setupDurable(): Promise<Durable> {
  if (!runtimeInstalled) {
    // Worker state changes at INFO drown the test output.
    Runtime.install({ logger: new DefaultLogger('ERROR') });
    runtimeInstalled = true;
  }
  sharedBundle ??= bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: quietLogger });
  const [stub, bundle, mongo, nativeConnection, connection] = await Promise.all([
    startStub(),
    sharedBundle,
    MongoClient.connect(inject('mongoUri')),
    NativeConnection.connect({ address: inject('temporalAddress') }),
    Connection.connect({ address: inject('temporalAddress') }),
  ]);
  const dbName = `durable_${randomUUID().slice(0, 8)}`;
  const store = createMongoStore({ client: mongo, dbName });
  await store.ensureIndexes();
  const temporal = new Client({ connection });
  const temps: string[] = [];

  const workerConfig = async (overrides: Partial<WorkerConfig> = {}): Promise<WorkerConfig> => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'ct-worker-'));
    temps.push(dir);
    return {
      temporalAddress: inject('temporalAddress'),
      namespace: 'default',
      taskQueue: `tq-${randomUUID()}`,
      mongoUri: inject('mongoUri'),
      mongoDb: dbName,
      claudePath: undefined,
      workDir: path.join(dir, 'work'),
      configDir: path.join(dir, 'claude-config'),
      maxConcurrentSteps: 4,
      claudeMaxRetries: 0,
      shutdownGraceMs: 2_000,
      claudeEnv: { ANTHROPIC_BASE_URL: stub.url, ANTHROPIC_API_KEY: 'sk-ant-test-dummy', HOME: TEST_HOME },
      ...overrides,
    };
  };

  const workers: TestWorker[] = [];
  return {
    stub,
    store,
    mongo,
    dbName,
    temporal,
    nativeConnection,
    bundle,
    workerConfig,
    async startWorker(overrides = {}) {
      const config = await workerConfig(overrides);
      const w = await createClaudeTemporalWorker(config, { store, connection: nativeConnection, workflowBundle: bundle });
      const running = w.run();
      const client = await createClient({ client: temporal, taskQueue: config.taskQueue });
      const tw: TestWorker = {
        ...w,
        config,
        client,
        running,
        stop: async () => {
          if (w.worker.getState() === 'RUNNING') w.shutdown();
          await running;
        },
      };
      workers.push(tw);
      return tw;
    },
    async close() {
      await Promise.all(workers.map((w) => w.stop().catch(() => undefined)));
      await stub.close();
      await mongo.db(dbName).dropDatabase().catch(() => undefined);
      await mongo.close();
      await nativeConnection.close();
      await connection.close();
      await Promise.all(temps.map((d) => rm(d, { recursive: true, force: true })));
    },
  };
}

/** The number of user prompts in each /v1/messages request the stub saw, in order (optionally only those of a text). */
export function promptCounts(stub: StubServer, containing?: string): number[] {
  return stub.requests
    .filter((r) => r.path === '/v1/messages' && r.method === 'POST')
    .filter((r) => !containing || JSON.stringify(r.body).includes(containing))
    .map((r) => userPrompts(r.body).length);
}

/** The user prompts of the last /v1/messages request whose body mentions `text`. */
export function lastPromptsWith(stub: StubServer, text: string): string[] {
  const req = stub.requests.filter((r) => r.path === '/v1/messages' && JSON.stringify(r.body).includes(text)).at(-1);
  return req ? userPrompts(req.body) : [];
}

/**
 * Pids of the processes the runner started with this CLAUDE_CONFIG_DIR (`claude` and its lifeline's
 * watcher), found through /proc.
 * A worker in its own process has the variable too, and so may its own helpers: the runner's
 * `DISABLE_AUTOUPDATER=1`, set for its children only, tells them apart.
 */
export async function claudePidsFor(configDir: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const environ = (await readFile(`/proc/${entry}/environ`, 'utf8').catch(() => '')).split('\0');
    if (environ.includes(`CLAUDE_CONFIG_DIR=${configDir}`) && environ.includes('DISABLE_AUTOUPDATER=1')) pids.push(Number(entry));
  }
  return pids;
}

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Save a workflow's history (the Temporal CLI's JSON) for the replay tests when RECORD_HISTORIES=1. */
export async function recordHistory(workflowId: string, name: string): Promise<void> {
  if (process.env.RECORD_HISTORIES !== '1') return;
  const { stdout } = await execFileP(temporalCliPath(), ['workflow', 'show', '--workflow-id', workflowId, '--address', inject('temporalAddress'), '--output', 'json'], {
    maxBuffer: 64 * 1024 * 1024,
  });
  const dir = path.join(import.meta.dirname, '..', 'histories');
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, `${name}.json`), stdout);
}

const quietLogger = {
  log() {},
  trace() {},
  debug() {},
  info() {},
  warn() {},
  error(message: string, meta?: Record<string, unknown>) {
    console.error(message, meta);
  },
};
