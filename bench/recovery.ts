/**
 * Recovery from a hard-killed worker, at default settings: a worker process runs a step, is
 * SIGKILLed mid-run, and another worker (its own config dir) finishes the step. Prints the time
 * from the SIGKILL to the step's completion (target <= 15 s) and whether the killed worker's
 * `claude` outlived it.
 * Run: npm run bench:recovery   (needs `bash scripts/setup.sh` first)
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { createClient } from '../src/client/index.js';
import { PROJECT_ROOT } from '../src/paths.js';
import { startStack } from '../src/stack/stack.js';
import { createMongoStore } from '../src/store/mongo-store.js';
import { startStub } from '../src/stub/server.js';
import { createClaudeTemporalWorker, WORKFLOWS_PATH } from '../src/worker/worker.js';

Runtime.install({ logger: new DefaultLogger('ERROR') });
const stack = await startStack({ stub: false });
const stub = await startStub();
const dir = await mkdtemp(path.join(os.tmpdir(), 'ct-bench-recovery-'));
const dbName = `bench_recovery_${Date.now()}`;
const taskQueue = `bench-recovery-${randomUUID()}`;
const claudeEnv = { ANTHROPIC_BASE_URL: stub.url, ANTHROPIC_API_KEY: 'sk-ant-bench-dummy', CLAUDE_CODE_MAX_RETRIES: '0' };
const store = createMongoStore({ uri: stack.mongoUri, dbName });
await store.ensureIndexes();

/** Live pids whose environment has this CLAUDE_CONFIG_DIR. */
async function claudePids(configDir: string): Promise<number[]> {
  const pids: number[] = [];
  for (const e of await readdir('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    const env = await readFile(`/proc/${e}/environ`, 'utf8').catch(() => '');
    if (env.split('\0').includes(`CLAUDE_CONFIG_DIR=${configDir}`)) pids.push(Number(e));
  }
  return pids;
}

// Worker A: its own process, as on another machine.
const configA = path.join(dir, 'config-a');
const a = spawn(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'src/worker/main.ts')], {
  cwd: PROJECT_ROOT,
  stdio: ['ignore', 'pipe', 'inherit'],
  env: {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    TEMPORAL_ADDRESS: stack.temporalAddress,
    TASK_QUEUE: taskQueue,
    MONGODB_URI: stack.mongoUri,
    MONGODB_DB: dbName,
    CLAUDE_TEMPORAL_WORK_DIR: path.join(dir, 'work-a'),
    CLAUDE_CONFIG_DIR: configA,
    LOG_LEVEL: 'ERROR',
    ...claudeEnv,
  },
});
await new Promise<void>((resolve, reject) => {
  createInterface({ input: a.stdout! }).on('line', (l) => l.startsWith('worker ready') && resolve());
  a.once('exit', (code) => reject(new Error(`worker A exited with ${code}`)));
});

const temporal = new Client({ connection: await Connection.connect({ address: stack.temporalAddress }) });
const client = await createClient({ client: temporal, taskQueue });
// Worker B starts from a prebuilt bundle, so it is up in a moment once A has the step.
const workflowBundle = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: new DefaultLogger('ERROR') });
// Worker B: another config dir, in this process, created now, polling only once A is dead (a standby worker).
const nativeConnection = await NativeConnection.connect({ address: stack.temporalAddress });
const b = await createClaudeTemporalWorker(
  {
    temporalAddress: stack.temporalAddress,
    namespace: 'default',
    taskQueue,
    mongoUri: stack.mongoUri,
    mongoDb: dbName,
    claudePath: undefined,
    workDir: path.join(dir, 'work-b'),
    configDir: path.join(dir, 'config-b'),
    maxConcurrentSteps: 2,
    claudeMaxRetries: 0,
    shutdownGraceMs: 1_000,
    claudeEnv,
  },
  { store, connection: nativeConnection, workflowBundle },
);
// Default tuning: the heartbeat timeout decides how soon the step is retried elsewhere.
const run = await client.startPipeline({ name: 'recovery', steps: [{ mode: 'query', prompt: '[[slow 100x30]] a step that loses its worker' }] });
for (;;) {
  // A's step has heartbeated: its first heartbeat comes with the CLI's first output, just before the request.
  const live = await run.liveProgress().catch(() => null);
  if ((await claudePids(configA)).length > 0 && live?.running) break;
  await new Promise((r) => setTimeout(r, 100));
}

// About a second into the 3 s reply: A dies mid-step.
await new Promise((r) => setTimeout(r, 1_000));
const orphans = await claudePids(configA);
const killedAt = Date.now();
a.kill('SIGKILL');
const running = b.run();
let orphanGoneMs: number | null = null;
const watch = setInterval(() => {
  if (orphanGoneMs === null && orphans.every((pid) => !isAlive(pid))) orphanGoneMs = Date.now() - killedAt;
}, 50);
const result = await run.result();
const recoveredMs = Date.now() - killedAt;
clearInterval(watch);
const attempts = await store.runsOfStep(`${run.workflowId}/0`);
const ledger = attempts.map((r) => `attempt ${r.attempt} ${r.status}${r.estimated ? ` (estimated $${r.costUsd})` : ` $${r.costUsd}`}`).join(', ');
if (attempts.some((r) => r.attempt > 1)) {
  console.log(`recovery: SIGKILL of the worker to the step's completion on another worker: ${(recoveredMs / 1000).toFixed(2)} s (target <= 15 s), pipeline ${result.status}`);
  console.log(`orphans: the killed worker's claude processes (${orphans.length}) were gone ${orphanGoneMs === null ? 'never' : `after ${orphanGoneMs} ms`}`);
  console.log(`ledger: ${ledger}`);
} else {
  // The step ended before the kill: there is nothing to measure.
  console.error(`recovery: no figure, the step ended on the killed worker before the kill (${ledger})`);
  process.exitCode = 1;
}

/** Running (a zombie waiting to be reaped is dead). */
function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

b.shutdown();
await running;
await nativeConnection.close();
await temporal.connection.close();
await store.close();
await stub.close();
await stack.stop();
await rm(dir, { recursive: true, force: true });
