/**
 * Pipeline overhead on the embedded stack, with the real `claude` CLI against the stub:
 *  1. a 10-step pipeline (query + 9 resumes) through Temporal and the store,
 *     divided by 10 direct runner calls doing the same (target <= 1.10); then the same pipeline
 *     through Temporal alone (`bench/bare-step.ts`: a step that runs the CLI and stores nothing), to
 *     show Temporal's part of that ratio and the store's;
 *  2. 10 parallel forks vs 1 fork (target <= 2.0), and vs 10 parallel forks with the runner alone (target <= 1.10);
 *  3. 50 concurrent one-step pipelines on one worker: completions, wall time, worker peak RSS.
 * Run: npx tsx bench/pipeline.ts   (needs `bash scripts/setup.sh` first)
 * For the forks it also prints the CPU time of each process (Linux): on 2 cores both sides keep the
 * CPUs busy, so their time ratio follows their CPU ratio.
 * BENCH_ROUNDS (default 5): rounds of 1 and 2, each side's run alternating with the other's; the
 * best round of each side is compared, as the CLI's own time drifts by several percent between
 * minutes (the median of the rounds' own ratios is printed beside it).
 * BENCH_FORK_WARMUP (default 3): fan-outs of 10 forks on each side before the fork rounds. A
 * worker's first fan-outs still compile its fork path (the JIT, as the first workflow bundles the
 * code); a long-running worker has done that long before.
 *
 * Where a step's time goes is printed per step for both paths, from what the system records
 * already: the workflow's history (activity scheduled, started, completed; the next workflow
 * task) and the step's ledger entry (when the step began its run, and the `claude` process's
 * duration), so the workflow history stays as it is. Phases of the durable path:
 * - sched: activity scheduled to activity started (the worker picking the task up);
 * - before: activity started to the ledger's `startedAt`, the process's spawn (the request checked);
 * - claude: the process, spawn to exit (the runner's `durationMs`, which also counts the spawn); the
 *   step's earlier attempts, its lease, the conversation, the session and its `running` entry are
 *   prepared while the CLI starts up, and the last messages are stored at its result line;
 * - after: process exit to activity completed (transcript and ledger entry, the lease released);
 * - next: activity completed to the next workflow task started.
 * Then one more pipeline runs through a store whose client monitors its commands, and each step's
 * store commands are printed by what they are for (`bench/store-phases.ts`): the session's lease,
 * the conversation's restore, the ledger entry with the session's fields, the messages, the
 * transcript's save; and the store's time before the spawn, while the CLI runs (hidden by its
 * start-up, bar the prompt's EOF) and from its exit to the activity's completion (waited for).
 */
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { type temporal as proto } from '@temporalio/proto';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { MongoClient } from 'mongodb';
import { createClient } from '../src/client/index.js';
import { runClaude } from '../src/runner/run.js';
import { startStack } from '../src/stack/stack.js';
import { createMongoStore } from '../src/store/mongo-store.js';
import { startStub } from '../src/stub/server.js';
import { createClaudeTemporalWorker } from '../src/worker/worker.js';
import { HAS_PROC } from '../src/processes.js';
import { cpuSnapshot, cpuSpent, type CpuSnapshot } from './cpu.js';
import { startBareWorker } from './bare-step.js';
import { storePhaseLines, traceStoreCommands, type StepSpan } from './store-phases.js';

Runtime.install({ logger: new DefaultLogger('ERROR') });
const stack = await startStack({ stub: false });
const stub = await startStub();
const dir = await mkdtemp(path.join(os.tmpdir(), 'ct-bench-pipeline-'));
const claudeEnv = { ANTHROPIC_BASE_URL: stub.url, ANTHROPIC_API_KEY: 'sk-ant-bench-dummy' };
const dbName = `bench_${Date.now()}`;
const store = createMongoStore({ uri: stack.mongoUri, dbName });
await store.ensureIndexes();
const nativeConnection = await NativeConnection.connect({ address: stack.temporalAddress });
const temporal = new Client({ connection: await Connection.connect({ address: stack.temporalAddress }) });

const seconds = (ms: number) => (ms / 1000).toFixed(2);
let peakRss = 0;
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 100);

async function withWorker<T>(concurrency: number, fn: (client: Awaited<ReturnType<typeof createClient>>) => Promise<T>, workerStore = store): Promise<T> {
  const taskQueue = `bench-${randomUUID()}`;
  const w = await createClaudeTemporalWorker(
    {
      temporalAddress: stack.temporalAddress,
      namespace: 'default',
      taskQueue,
      mongoUri: stack.mongoUri,
      mongoDb: 'unused',
      claudePath: undefined,
      workDir: path.join(dir, 'work'),
      configDir: path.join(dir, `config-${taskQueue}`),
      maxConcurrentSteps: concurrency,
      claudeMaxRetries: 0,
      shutdownGraceMs: 1_000,
      claudeEnv,
    },
    { store: workerStore, connection: nativeConnection, workerOptions: { maxConcurrentWorkflowTaskExecutions: 50 } },
  );
  const running = w.run();
  try {
    return await fn(await createClient({ client: temporal, taskQueue }));
  } finally {
    w.shutdown();
    await running;
  }
}

const prompts = Array.from({ length: 10 }, (_, i) => `bench step ${i + 1}`);
/** The 10-step pipeline: a query, then nine resumes of its session. */
const pipeline = { steps: prompts.map((prompt, i) => ({ mode: i === 0 ? ('query' as const) : ('resume' as const), prompt })) };
/** Alternating rounds of each comparison; default 5. */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
/** Unmeasured fan-outs of 10 on each side before the fork rounds; default 3. */
const FORK_WARMUP = Number(process.env.BENCH_FORK_WARMUP ?? 3);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

// 1. Ten steps through Temporal and the store vs ten direct runner calls, alternately, ROUNDS times:
//    the CLI's own time drifts by several percent between minutes, so each side's best round is compared.
const directDir = path.join(dir, 'direct');
await mkdir(directDir, { recursive: true });
type DirectRun = { ms: number; steps: Array<{ wall: number; claude: number }> };

async function directPipeline(): Promise<DirectRun> {
  const t = Date.now();
  let sid: string | null = null;
  const steps: DirectRun['steps'] = [];
  for (const prompt of prompts) {
    const s0 = Date.now();
    const outcome = await runClaude(
      sid ? { mode: 'resume', sessionId: sid, prompt } : { mode: 'query', prompt },
      { configDir: path.join(directDir, 'config'), workDir: directDir, baseEnv: claudeEnv },
    );
    sid = outcome.sessionId;
    steps.push({ wall: Date.now() - s0, claude: outcome.durationMs });
  }
  return { ms: Date.now() - t, steps };
}

let directSteps: DirectRun['steps'] = [];
const { direct, durable, durableId, ratios } = await withWorker(2, async (client) => {
  // Warm-up: the first workflow bundles the code; not part of a pipeline's cost.
  await client.query('warm up');
  const best = { direct: Infinity, durable: Infinity, durableId: '', ratios: [] as number[] };
  for (let round = 1; round <= ROUNDS; round++) {
    const d = await directPipeline();
    const start = Date.now();
    const workflowId = `bench-pipeline-${randomUUID()}`;
    const result = await client.runPipeline(pipeline, { workflowId });
    if (result.status !== 'completed') throw new Error(`pipeline ${result.status}`);
    const ms = Date.now() - start;
    console.log(`round ${round}: durable ${seconds(ms)} s, direct runner ${seconds(d.ms)} s, ratio ${(ms / d.ms).toFixed(2)}`);
    best.ratios.push(ms / d.ms);
    if (d.ms < best.direct) [best.direct, directSteps] = [d.ms, d.steps];
    if (ms < best.durable) [best.durable, best.durableId] = [ms, workflowId];
  }
  return best;
});
const durableSteps = await stepsOf(durableId);
printPhases(durableSteps);
console.log(
  `10-step pipeline, best of ${ROUNDS}: durable ${seconds(durable)} s, direct runner ${seconds(direct)} s, ratio ${(durable / direct).toFixed(2)} (target <= 1.10); median of the rounds' ratios ${median(ratios).toFixed(2)}; load ${os.loadavg()[0]!.toFixed(1)}`,
);

/** A step of a durable pipeline, epoch ms: its activity's events (history) and its process (ledger). */
type DurableStep = StepSpan & { scheduled: number; next: number };

/** Each step of a durable pipeline, in order. */
async function stepsOf(workflowId: string): Promise<DurableStep[]> {
  const history = await temporal.workflow.getHandle(workflowId).fetchHistory();
  const at = (e: proto.api.history.v1.IHistoryEvent) => Number(e.eventTime?.seconds ?? 0) * 1000 + Math.floor((e.eventTime?.nanos ?? 0) / 1e6);
  const events = history.events ?? [];
  const runs = (await store.runsOfWorkflows([workflowId])).filter((r) => r.status !== 'running');
  const steps: DurableStep[] = [];
  for (const e of events) {
    if (!e.activityTaskCompletedEventAttributes) continue;
    const a = e.activityTaskCompletedEventAttributes;
    const scheduled = events.find((x) => Number(x.eventId) === Number(a.scheduledEventId))!;
    const started = events.find((x) => Number(x.eventId) === Number(a.startedEventId))!;
    const next = events.find((x) => Number(x.eventId) > Number(e.eventId) && x.workflowTaskStartedEventAttributes);
    const run = runs[steps.length];
    const spawn = run ? run.startedAt.getTime() : NaN;
    steps.push({ scheduled: at(scheduled), started: at(started), spawn, exit: spawn + (run?.durationMs ?? NaN), completed: at(e), next: next ? at(next) : NaN });
  }
  return steps;
}

/** Per-step phases of the durable path (from history and ledger) beside the direct runner's steps. */
function printPhases(steps: readonly DurableStep[]): void {
  const rows = steps.map((s) => [
    s.started - s.scheduled,
    s.spawn - s.started,
    s.exit - s.spawn,
    s.completed - s.exit,
    s.next - s.completed,
    s.completed - s.scheduled,
  ]);
  const f = (n: number) => (Number.isFinite(n) ? String(Math.round(n)).padStart(6) : '     -');
  console.log('step   durable (ms): sched before claude  after   next  total | direct runner (ms): claude   wall');
  const sums = [0, 0, 0, 0, 0, 0, 0, 0];
  rows.forEach((r, i) => {
    const d = directSteps[i] ?? { claude: NaN, wall: NaN };
    [...r, d.claude, d.wall].forEach((x, k) => (sums[k]! += Number.isFinite(x) ? x : 0));
    console.log(`${String(i + 1).padStart(4)}                ${r.map(f).join(' ')} |                    ${f(d.claude)} ${f(d.wall)}`);
  });
  console.log(`total               ${sums.slice(0, 6).map(f).join(' ')} |                    ${f(sums[6]!)} ${f(sums[7]!)}`);
}

// Where a step's store time goes: one more pipeline, through a store whose client monitors its commands
// (monitoring costs a little CPU per command, so the measured rounds go without it).
const tracedClient = new MongoClient(stack.mongoUri, { monitorCommands: true });
const traced = traceStoreCommands(tracedClient);
const tracedStore = createMongoStore({ client: tracedClient, dbName });
const tracedId = await withWorker(
  2,
  async (client) => {
    const workflowId = `bench-traced-${randomUUID()}`;
    await client.runPipeline(pipeline, { workflowId });
    return workflowId;
  },
  tracedStore,
);
for (const line of storePhaseLines(traced, await stepsOf(tracedId))) console.log(line);
await tracedClient.close();

// 1b. The same pipeline through Temporal alone (`bench/bare-step.ts`: the workflows as they are, a step
//     that runs the CLI and stores nothing), alternately with the direct runner: Temporal's part of the
//     ratio. The durable path's time outside the CLI beside it shows the store's and the step's part.
const bare = await startBareWorker({
  connection: nativeConnection,
  taskQueue: `bench-bare-${randomUUID()}`,
  configDir: path.join(dir, 'config-bare'),
  workDir: directDir,
  claudeEnv,
  maxConcurrentSteps: 2,
});
const bareOnly = { bare: Infinity, bareClaude: NaN, direct: Infinity, directClaude: NaN, ratios: [] as number[] };
try {
  const bareClient = await createClient({ client: temporal, taskQueue: bare.taskQueue });
  await bareClient.query('warm up');
  for (let round = 1; round <= ROUNDS; round++) {
    const d = await directPipeline();
    const from = bare.claudeMs.length;
    const start = Date.now();
    const result = await bareClient.runPipeline(pipeline);
    if (result.status !== 'completed') throw new Error(`pipeline through Temporal alone ${result.status}`);
    const ms = Date.now() - start;
    bareOnly.ratios.push(ms / d.ms);
    if (ms < bareOnly.bare) [bareOnly.bare, bareOnly.bareClaude] = [ms, sum(bare.claudeMs.slice(from))];
    if (d.ms < bareOnly.direct) [bareOnly.direct, bareOnly.directClaude] = [d.ms, sum(d.steps.map((x) => x.claude))];
  }
} finally {
  await bare.stop();
}
const durableClaude = sum(durableSteps.map((x) => x.exit - x.spawn));
const outside = (wall: number, claude: number) => ((wall - claude) / prompts.length).toFixed(1);
console.log(
  `10-step pipeline through Temporal alone (no store), best of ${ROUNDS}: ${seconds(bareOnly.bare)} s, direct runner ${seconds(bareOnly.direct)} s, ratio ${(bareOnly.bare / bareOnly.direct).toFixed(2)}; median of the rounds' ratios ${median(bareOnly.ratios).toFixed(2)}`,
);
console.log(
  `  per step outside the CLI, in each side's best round: direct runner ${outside(bareOnly.direct, bareOnly.directClaude)} ms, Temporal alone ${outside(bareOnly.bare, bareOnly.bareClaude)} ms, durable ${outside(durable, durableClaude)} ms`,
);

// 2. Ten parallel forks vs one fork, and the same fan-out with the runner alone (how much of the
//    ratio is the CLI's own start-up on this machine), alternately, ROUNDS times.
/** CPU by process over each 10-fork fan-out, per side: on 2 cores both sides keep the CPUs busy, so time follows CPU. */
const forkCpu: Record<'durable' | 'direct', { wall: number; cpu: CpuSnapshot }[]> = { durable: [], direct: [] };
const servers = { Temporal: stack.pids.temporal ?? -1, FerretDB: stack.pids.ferretdb ?? -1 };
async function withCpu(side: 'durable' | 'direct', fn: () => Promise<number>): Promise<number> {
  const before = cpuSnapshot(servers);
  const wall = await fn();
  forkCpu[side].push({ wall, cpu: cpuSpent(before, cpuSnapshot(servers)) });
  return wall;
}
// Both sides fork a session of one exchange: a longer history costs the CLI more per fork.
const directOptions = { configDir: path.join(directDir, 'config'), workDir: directDir, baseEnv: claudeEnv };
const directBase = (await runClaude({ mode: 'query', prompt: 'base session for forks' }, directOptions)).sessionId!;
const forkDirect = async (n: number) => {
  const s = Date.now();
  await Promise.all(Array.from({ length: n }, (_, i) => runClaude({ mode: 'fork', sessionId: directBase, prompt: `direct fork ${i}` }, directOptions)));
  return Date.now() - s;
};
const forks = await withWorker(10, async (client) => {
  const base = await client.query('base session for forks');
  const fanOut = async (n: number) => {
    const s = Date.now();
    const r = await client.exploreAlternatives({ sessionId: base.sessionId, prompts: prompts.slice(0, n).map((p) => `fork ${p}`), concurrency: n });
    if (r.branches.some((b) => b.status !== 'completed')) throw new Error('a fork failed');
    return Date.now() - s;
  };
  for (let i = 0; i < FORK_WARMUP; i++) {
    await fanOut(10);
    await forkDirect(10);
  }
  const best = { one: Infinity, ten: Infinity, oneDirect: Infinity, tenDirect: Infinity, ratios: [] as number[] };
  for (let round = 1; round <= ROUNDS; round++) {
    const [one, oneDirect] = [await fanOut(1), await forkDirect(1)];
    const [ten, tenDirect] = [await withCpu('durable', () => fanOut(10)), await withCpu('direct', () => forkDirect(10))];
    console.log(`round ${round}: 10 parallel forks through Temporal ${seconds(ten)} s, runner alone ${seconds(tenDirect)} s, ratio ${(ten / tenDirect).toFixed(2)}`);
    best.ratios.push(ten / tenDirect);
    best.one = Math.min(best.one, one);
    best.ten = Math.min(best.ten, ten);
    best.oneDirect = Math.min(best.oneDirect, oneDirect);
    best.tenDirect = Math.min(best.tenDirect, tenDirect);
  }
  return best;
});
console.log(`forks: 1 fork ${seconds(forks.one)} s, 10 parallel forks ${seconds(forks.ten)} s, ratio ${(forks.ten / forks.one).toFixed(2)} (target <= 2.0) on ${os.cpus().length} cores`);
console.log(`forks without Temporal: 1 fork ${seconds(forks.oneDirect)} s, 10 parallel ${seconds(forks.tenDirect)} s, ratio ${(forks.tenDirect / forks.oneDirect).toFixed(2)}`);
console.log(
  `10 parallel forks through Temporal / runner alone, best of ${ROUNDS}: ${(forks.ten / forks.tenDirect).toFixed(2)} (target <= 1.10); median of the rounds' ratios ${median(forks.ratios).toFixed(2)}; load ${os.loadavg()[0]!.toFixed(1)}`,
);
if (HAS_PROC) {
  const line = (side: 'durable' | 'direct') => {
    const rounds = forkCpu[side];
    const keys = Object.keys(rounds[0]!.cpu).filter((k) => rounds.some((r) => r.cpu[k]! > 0));
    const by = Object.fromEntries(keys.map((k) => [k, median(rounds.map((r) => r.cpu[k]!))]));
    const total = median(rounds.map((r) => Object.values(r.cpu).reduce((a, b) => a + b, 0)));
    const busy = median(rounds.map((r) => Object.values(r.cpu).reduce((a, b) => a + b, 0) / r.wall));
    return { total, text: `${keys.map((k) => `${k === 'self' ? 'this process' : k} ${by[k]}`).join(', ')}; total ${total} ms, ${busy.toFixed(2)} of ${os.cpus().length} cores busy` };
  };
  const [durableCpu, directCpu] = [line('durable'), line('direct')];
  console.log(`10 parallel forks, CPU ms by process (median of the rounds): through Temporal: ${durableCpu.text}`);
  console.log(`  runner alone: ${directCpu.text}; CPU ratio ${(durableCpu.total / directCpu.total).toFixed(2)}`);
}

// 3. Fifty concurrent pipelines on one worker.
peakRss = process.memoryUsage().rss;
const fifty = await withWorker(8, async (client) => {
  const start = Date.now();
  const results = await Promise.allSettled(Array.from({ length: 50 }, (_, i) => client.runPipeline({ steps: [{ mode: 'query', prompt: `concurrent ${i}` }] })));
  return { ms: Date.now() - start, ok: results.filter((r) => r.status === 'fulfilled' && r.value.status === 'completed').length };
});
console.log(
  `50 concurrent pipelines (8 steps at once): ${fifty.ok}/50 completed in ${seconds(fifty.ms)} s, worker process peak RSS ${(peakRss / 2 ** 20).toFixed(0)} MiB (claude children not included)`,
);

clearInterval(sampler);
await nativeConnection.close();
await temporal.connection.close();
await store.close();
await stub.close();
await stack.stop();
await rm(dir, { recursive: true, force: true });
