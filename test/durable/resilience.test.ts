import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { CancelledFailure, WorkflowFailedError } from '@temporalio/client';
import { afterAll, beforeAll, expect, inject, test } from 'vitest';
import { createClient } from '../../src/client/index.js';
import { addUsd } from '../../src/model/formats.js';
import { PROJECT_ROOT } from '../../src/paths.js';
import { claudePidsFor, lastPromptsWith, setupDurable, waitFor, type Durable } from '../helpers/durable.js';
import { processRunning } from '../../src/processes.js';
import { TEST_HOME } from '../helpers/home.js';

let d: Durable;
beforeAll(async () => {
  d = await setupDurable();
});
afterAll(async () => {
  await d?.close();
});

/** A worker in its own process, as on another machine: its own work dir and CLAUDE_CONFIG_DIR. */
async function spawnWorkerProcess(taskQueue: string, extraEnv: Record<string, string> = {}) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ct-worker-proc-'));
  const configDir = path.join(dir, 'claude-config');
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'src/worker/main.ts')], {
    cwd: PROJECT_ROOT,
    detached: true,
    stdio: ['ignore', 'pipe', 'inherit'],
    env: {
      PATH: process.env.PATH,
      HOME: TEST_HOME,
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      TASK_QUEUE: taskQueue,
      MONGODB_URI: inject('mongoUri'),
      MONGODB_DB: d.dbName,
      CLAUDE_TEMPORAL_WORK_DIR: path.join(dir, 'work'),
      CLAUDE_CONFIG_DIR: configDir,
      ANTHROPIC_BASE_URL: d.stub.url,
      ANTHROPIC_API_KEY: 'sk-ant-test-dummy',
      CLAUDE_CODE_MAX_RETRIES: '0',
      LOG_LEVEL: 'ERROR',
      ...extraEnv,
    },
  });
  const lines = createInterface({ input: child.stdout! });
  await new Promise<void>((resolve, reject) => {
    lines.on('line', (l) => l.startsWith('worker ready') && resolve());
    child.once('exit', (code) => reject(new Error(`worker exited with ${code}`)));
  });
  return { child, configDir };
}

test('a step whose worker is SIGKILLed mid-run completes on another worker: no duplicate, prompt once, lost spend recorded', async () => {
  const taskQueue = `tq-${randomUUID()}`;
  const a = await spawnWorkerProcess(taskQueue);
  const marker = `killed-${randomUUID().slice(0, 8)}`;
  const prompt = `[[tool Bash sleep 8 && echo ${marker}]] ${marker} survive a lost worker`;
  const b = await d.workerConfig({ taskQueue });
  const client = await createClient({ client: d.temporal, taskQueue });
  const run = await client.startPipeline({
    name: 'kill-test',
    steps: [{ mode: 'query', prompt, options: { allowedTools: ['Bash'] } }],
    tuning: { heartbeatTimeoutMs: 3_000, initialRetryIntervalMs: 200 },
  });
  const stepKey = `${run.workflowId}/0`;

  // Mid-run: the first model turn (a tool_use) is stored and heartbeated; the tool is still sleeping.
  await waitFor('the first attempt to store its tool_use turn', async () => {
    const [first] = await d.store.runsOfStep(stepKey);
    if (!first) return false;
    const loaded = await d.store.loadSession(first.sessionId);
    if (!loaded.found) return false;
    for await (const m of loaded.session.messages()) if (m.type === 'assistant') return true;
    return false;
  });
  // The throttled heartbeat with the tokens so far has reached the server: the lost attempt's estimate comes from it.
  await waitFor('the spend so far in a heartbeat', async () => ((await run.liveProgress()).running?.spendUsd ?? 0) > 0);
  const orphans = await claudePidsFor(a.configDir);
  expect(orphans.length).toBeGreaterThan(0);
  // Only the worker process: its claude child must die with it (the lifeline), not be killed by us.
  process.kill(a.child.pid!, 'SIGKILL');
  await waitFor('the killed worker\'s claude processes to be gone', () => orphans.every((pid) => !processRunning(pid)), 15_000);

  const w = await d.startWorker(b);
  const result = await run.result();
  expect(result.status).toBe('completed');

  const runs = await d.store.runsOfStep(stepKey);
  expect(runs.map((r) => [r.attempt, r.status, r.failureType])).toEqual([
    [1, 'failed', 'Crashed'],
    [2, 'success', null],
  ]);
  expect(runs[0]!.costUsd).toBeGreaterThan(0);
  // The lost attempt's spend is an estimate under the model the API named, never a made-up one.
  expect(runs[0]!.estimated).toBe(true);
  expect(Object.keys(runs[0]!.usageByModel)).not.toContain('estimated');
  expect(w.config.configDir).not.toBe(a.configDir);

  // Stored once: the lost attempt's messages were dropped, the retry's kept.
  const sessionId = result.steps[0]!.sessionId!;
  const loaded = await d.store.loadSession(sessionId);
  if (!loaded.found) throw new Error('not stored');
  const stored: { runId: string; raw: string }[] = [];
  for await (const m of loaded.session.messages()) stored.push(m);
  expect(new Set(stored.map((m) => m.raw)).size).toBe(stored.length);
  expect(new Set(stored.map((m) => m.runId))).toEqual(new Set([`${stepKey}#2`]));
  expect(stored.length).toBe(result.steps[0]!.messageCount);
  // The retry started the conversation over: the stub saw the prompt once in it.
  expect(lastPromptsWith(d.stub, marker)).toEqual([prompt]);
  // Session totals include the lost attempt's spend.
  const meta = (await d.store.getSession(sessionId))!;
  expect(meta.totalCostUsd).toBe(addUsd(runs[0]!.costUsd, runs[1]!.costUsd));
  expect(meta.models).not.toContain('estimated');
  expect((await d.store.verify()).problems).toEqual([]);
}, 300_000);

test('cancelling a running pipeline leaves no claude process', async () => {
  const w = await d.startWorker();
  const run = await w.client.startPipeline({
    steps: [{ mode: 'query', prompt: '[[slow 200x150]] a long answer to cancel' }],
    tuning: { heartbeatTimeoutMs: 3_000 },
  });
  const pids = await waitFor('the claude process to start', async () => {
    const found = await claudePidsFor(w.config.configDir);
    return found.length > 0 && d.stub.requests.some((r) => JSON.stringify(r.body ?? '').includes('a long answer to cancel')) ? found : false;
  });
  await run.cancel();
  const err = await run.result().catch((e: unknown) => e);
  expect(err).toBeInstanceOf(WorkflowFailedError);
  expect((err as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
  await waitFor('every claude process to be gone', () => pids.every((pid) => !processRunning(pid)), 15_000);
  expect(await claudePidsFor(w.config.configDir)).toEqual([]);
  const [entry] = await d.store.runsOfStep(`${run.workflowId}/0`);
  expect(entry?.status).toBe('failed');
  expect(entry?.failureType).toBe('Cancelled');
  expect((await d.store.verify()).problems).toEqual([]);
});

test('SIGTERM: the worker lets a running step use its grace time, then cancels it and leaves no claude process', async () => {
  const taskQueue = `tq-${randomUUID()}`;
  const a = await spawnWorkerProcess(taskQueue, { SHUTDOWN_GRACE_MS: '1000' });
  const client = await createClient({ client: d.temporal, taskQueue });
  const run = await client.startPipeline({
    steps: [{ mode: 'query', prompt: '[[slow 200x150]] a long answer during shutdown' }],
    tuning: { heartbeatTimeoutMs: 3_000, maximumAttempts: 1 },
  });
  const pids = await waitFor('the claude process to be running the step', async () => {
    const found = await claudePidsFor(a.configDir);
    return found.length > 0 && d.stub.requests.some((r) => JSON.stringify(r.body ?? '').includes('a long answer during shutdown')) ? found : false;
  });
  const exited = new Promise<number | null>((resolve) => a.child.once('exit', (code) => resolve(code)));
  process.kill(a.child.pid!, 'SIGTERM');
  expect(await exited).toBe(0);
  // Gone: the worker waited for its step's process tree, and the lifeline's watcher ends what is left as the worker exits.
  await waitFor('every claude process to be gone', () => pids.every((pid) => !processRunning(pid)), 15_000);
  await run.cancel();
});
