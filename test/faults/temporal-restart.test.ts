/**
 * The Temporal server restarted in the middle of a three-step pipeline: the pipeline completes
 * once it is back, each step ran once, and the store is consistent. A dedicated dev server on
 * its own SQLite file, so the shared one is never disturbed.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { afterAll, expect, test } from 'vitest';
import { createClient } from '../../src/client/index.js';
import { startTemporal } from '../../src/stack/stack.js';
import { createClaudeTemporalWorker } from '../../src/worker/worker.js';
import { setupDurable, waitFor, type Durable } from '../helpers/durable.js';

let d: Durable | undefined;
let dir: string | undefined;
const stops: Array<() => Promise<void>> = [];

afterAll(async () => {
  for (const stop of stops.reverse()) await stop().catch(() => undefined);
  await d?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('a Temporal server restart mid-pipeline: the pipeline completes, each step once, the store consistent', async () => {
  d = await setupDurable();
  dir = await mkdtemp(path.join(os.tmpdir(), 'ct-temporal-restart-'));
  let temporal = await startTemporal({ dataDir: dir, logDir: dir, ui: false, detached: false });
  const port = Number(temporal.address.split(':').at(-1));
  stops.push(() => temporal.service.stop(2_000));
  const native = await NativeConnection.connect({ address: temporal.address });
  stops.push(() => native.close());
  const connection = await Connection.connect({ address: temporal.address });
  stops.push(() => connection.close());
  const config = await d.workerConfig({ temporalAddress: temporal.address });
  const w = await createClaudeTemporalWorker(config, { store: d.store, connection: native, workflowBundle: d.bundle });
  const running = w.run();
  stops.push(async () => {
    w.shutdown();
    await running;
  });
  const client = await createClient({ client: new Client({ connection }), taskQueue: config.taskQueue, searchAttributes: false });
  const run = await client.startPipeline({
    name: 'temporal-restart',
    steps: [
      { mode: 'query', prompt: 'before the restart' },
      { mode: 'resume', prompt: '[[slow 100x30]] through the restart' },
      { mode: 'resume', prompt: 'after the restart' },
    ],
  });
  await waitFor('the second step to run', async () => (await d!.store.runsOfStep(`${run.workflowId}/1`)).length > 0, 120_000);
  await temporal.service.stop(2_000);
  temporal = await startTemporal({ dataDir: dir, logDir: dir, ui: false, detached: false, port });

  const result = await waitFor('the pipeline result', async () => await run.result().catch(() => undefined), 240_000);
  expect(result.status).toBe('completed');
  const sessionId = result.steps[0]!.sessionId!;
  for (const i of [0, 1, 2]) {
    const runs = await d.store.runsOfStep(`${run.workflowId}/${i}`);
    expect(runs.filter((r) => r.status === 'success')).toHaveLength(1);
  }
  const meta = (await d.store.getSession(sessionId))!;
  expect(meta.status).toBe('completed');
  expect((await d.store.verify()).problems).toEqual([]);
}, 300_000);
