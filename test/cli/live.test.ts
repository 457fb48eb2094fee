/**
 * Live work end to end: `ps`, `watch --messages`, `cancel`, `result` and `chat`, the CLI as a subprocess,
 * against an in-process worker and against a worker started by `claude-temporal worker`.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, inject, test } from 'vitest';
import { createClient, type ClaudeTemporalClient, type CancelOutcome, type RunListing } from '../../src/client/index.js';
import { cli, cliFixture, parseJson, startCliWorker, startWorker } from './helpers.js';

let fx: Awaited<ReturnType<typeof cliFixture>>;
let client: ClaudeTemporalClient;
beforeAll(async () => {
  fx = await cliFixture();
});
afterAll(async () => {
  await client?.close();
  await fx?.close();
});

async function clientOn(taskQueue: string): Promise<ClaudeTemporalClient> {
  await client?.close();
  client = await createClient({ address: inject('temporalAddress'), taskQueue, store: fx.store });
  return client;
}

async function until<T>(fn: () => Promise<T | null | undefined | false>, what: string, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => null);
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

test('ps, watch --messages, cancel and result against an in-process worker', async () => {
  const taskQueue = `cli-${randomUUID()}`;
  const worker = await startWorker(taskQueue, fx.dbName);
  const env = fx.env(taskQueue);
  const c = await clientOn(taskQueue);
  try {
    // A finished single command prints through `result` as `query` printed it, under its one-step name.
    const q = await cli(['--json', 'query', 'hello there', '--tag', 'live'], env);
    expect(q.code, q.stderr).toBe(0);
    const done = parseJson<{ workflowId: string; sessionId: string; status: string }>(q);
    const r = await cli(['--json', 'result', done.workflowId], env);
    expect(r.code, r.stderr).toBe(0);
    expect(parseJson(r)).toMatchObject({ workflowId: done.workflowId, mode: 'query', sessionId: done.sessionId, status: 'success' });
    // Single commands are reported under the command's name.
    const costs = parseJson<{ rows: { key: string }[] }>(await cli(['--json', 'costs', '--by', 'pipeline', '--tag', 'live'], env));
    expect(costs.rows.map((row) => row.key)).toContain('one-step query');

    // A pipeline whose first step calls a tool, then writes slowly.
    const run = await c.startPipeline({
      name: 'live-demo',
      tags: ['live', 'team:a'],
      steps: [
        { name: 'look', mode: 'query', prompt: 'look around' },
        { name: 'write', mode: 'resume', prompt: '[[tool Bash echo looking]] [[slow 300x200]] write it up' },
      ],
    });
    let watched = '';
    const watching = cli(['watch', run.workflowId, '--messages'], env, { timeoutMs: 180_000, onStderr: (s) => (watched = s) });

    const row = await until(async () => {
      const ps = parseJson<{ runs: RunListing[] }>(await cli(['--json', 'ps', '--tag', 'team:a'], env));
      return ps.runs.find((x) => x.workflowId === run.workflowId && x.currentStep === 'write');
    }, 'ps to show the running step');
    expect(row).toMatchObject({ kind: 'pipeline', name: 'live-demo', status: 'running', tags: ['live', 'team:a'] });
    expect(row.spendUsd).toBeGreaterThan(0);
    const table = await cli(['ps', '--status', 'running'], env);
    expect(table.stdout).toMatch(new RegExp(`${run.workflowId}\\s+pipeline\\s+live-demo\\s+running\\s+write\\s+~?\\$\\d+\\.\\d{4}`));
    // The watcher prints the tool call while the step runs (a cancelled step's messages are discarded after).
    await until(async () => watched.includes('⚙ Bash echo looking'), 'the watcher to print the tool call');

    const cancel = await cli(['--json', 'cancel', run.workflowId], env, { timeoutMs: 180_000 });
    expect(cancel.code, cancel.stderr).toBe(0);
    const outcome = parseJson<CancelOutcome>(cancel);
    expect(outcome).toMatchObject({ workflowId: run.workflowId, status: 'cancelled', requested: true, stopped: true });
    expect(outcome.cancelledRuns).toHaveLength(1);
    expect(outcome.spendUsd).toBeGreaterThan(0);
    const ledger = await fx.store.runsOfWorkflows([run.workflowId]);
    expect(ledger.map((e) => [e.status, e.failureType])).toEqual([
      ['success', null],
      ['failed', 'Cancelled'],
    ]);

    // The watcher exits with the cancelled code.
    const w = await watching;
    expect(w.code, w.stderr).toBe(5);
    expect(w.stdout).toMatch(/live-demo\s+cancelled/);

    const res = await cli(['--json', 'result', run.workflowId], env);
    expect(res.code).toBe(5);
    const pipeline = parseJson<{ status: string; steps: { name: string; state: string; failureType: string | null }[] }>(res);
    expect(pipeline.status).toBe('cancelled');
    expect(pipeline.steps.map((s) => [s.name, s.state])).toEqual([
      ['look', 'done'],
      ['write', 'cancelled'],
    ]);
    const cancelledRows = parseJson<{ runs: RunListing[] }>(await cli(['--json', 'ps', '--status', 'cancelled'], env)).runs;
    expect(cancelledRows.map((x) => x.workflowId)).toContain(run.workflowId);

    const again = await cli(['--json', 'cancel', run.workflowId], env);
    expect(parseJson(again)).toMatchObject({ requested: false, status: 'cancelled' });
    const bad = await cli(['ps', '--status', 'sleeping'], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('Invalid --status');
  } finally {
    await worker.stop();
  }
}, 300_000);

test('cancel and chat against a worker started by `claude-temporal worker`', async () => {
  const taskQueue = `cli-${randomUUID()}`;
  const env = fx.env(taskQueue);
  const worker = await startCliWorker(env);
  const c = await clientOn(taskQueue);
  try {
    const run = await c.startPipeline({ name: 'to-cancel', steps: [{ mode: 'query', prompt: '[[slow 300x300]] long story' }] });
    await until(async () => (await worker.claudePids()).length > 0 && (await fx.store.runsOfWorkflows([run.workflowId])).length > 0, 'claude to start');
    const cancel = await cli(['cancel', run.workflowId], env, { timeoutMs: 180_000 });
    expect(cancel.code, cancel.stderr).toBe(0);
    expect(cancel.stdout).toMatch(new RegExp(`cancelled ${run.workflowId}: \\$\\d+\\.\\d{4,}`));
    // Waited until the processes were gone.
    expect(await worker.claudePids()).toEqual([]);

    const key = `user-${randomUUID().slice(0, 8)}`;
    const say = async (args: string[]) => {
      const r = await cli(['--json', 'chat', key, ...args], env, { timeoutMs: 120_000 });
      expect(r.code, r.stderr).toBe(0);
      return parseJson<{ sessionId: string; exchange: number; costUsd: number; resultText: string }>(r);
    };
    const first = await say(['hello']);
    expect(first.exchange).toBe(1);
    const second = await say(['and again']);
    expect(second).toMatchObject({ sessionId: first.sessionId, exchange: 2 });
    expect(second.resultText).toMatch(/after 2 user prompts/);

    const closed = await cli(['--json', 'chat', key, '--close'], env);
    expect(parseJson(closed)).toMatchObject({ key, closed: true });
    // Re-opened with the same key: the same session, its history intact.
    const third = await say(['back again']);
    expect(third).toMatchObject({ sessionId: first.sessionId, exchange: 3 });
    expect(third.resultText).toMatch(/after 3 user prompts/);
    const fresh = await say(['start over', '--new']);
    expect(fresh.sessionId).not.toBe(first.sessionId);
    expect(fresh.exchange).toBe(4);

    const list = parseJson<{ conversations: { key: string; sessionId: string; exchanges: number; open: boolean; spendUsd: number }[] }>(
      await cli(['--json', 'chat', '--list'], env),
    );
    expect(list.conversations.find((x) => x.key === key)).toMatchObject({ sessionId: fresh.sessionId, exchanges: 4, open: true });
    await cli(['chat', key, '--close'], env);
  } finally {
    await worker.stop();
  }
}, 300_000);
