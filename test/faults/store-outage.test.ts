/**
 * The store down for a minute in the middle of a three-step pipeline: the running step waits
 * it out and the pipeline completes, with the store consistent afterwards. A dedicated
 * FerretDB on a fixed data dir and port, so the shared one is never disturbed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { createMongoStore, type MongoSessionStore } from '../../src/store/mongo-store.js';
import { createClaudeTemporalWorker } from '../../src/worker/worker.js';
import { createClient } from '../../src/client/index.js';
import { setupDurable, waitFor, type Durable } from '../helpers/durable.js';
import { startFerret, type FerretServer } from '../store/helpers.js';

const OUTAGE_MS = 60_000;
const dataDir = mkdtempSync(join(tmpdir(), 'ferret-outage-'));
let server: FerretServer | undefined;
let store: MongoSessionStore | undefined;
let d: Durable | undefined;

afterAll(async () => {
  await store?.close();
  await d?.close();
  await server?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

test('a store outage of a minute mid-pipeline is waited out: the pipeline completes and the store is consistent', async () => {
  d = await setupDurable();
  server = await startFerret({ dataDir });
  const port = server.port;
  store = createMongoStore({ uri: server.uri, dbName: 'outage', serverSelectionTimeoutMS: 2_000 });
  await store.ensureIndexes();
  const config = await d.workerConfig();
  const w = await createClaudeTemporalWorker(config, { store, connection: d.nativeConnection, workflowBundle: d.bundle });
  const running = w.run();
  try {
    const client = await createClient({ client: d.temporal, taskQueue: config.taskQueue });
    const run = await client.startPipeline({
      name: 'outage',
      steps: [
        { mode: 'query', prompt: 'first step' },
        // Slow enough that the outage starts while it streams.
        { mode: 'resume', prompt: '[[slow 200x40]] second step through the outage' },
        { mode: 'resume', prompt: 'third step' },
      ],
    });
    await waitFor('the second step to be streaming', async () => (await store!.runsOfStep(`${run.workflowId}/1`)).length > 0, 120_000);
    await server.stop();
    await new Promise((r) => setTimeout(r, OUTAGE_MS));
    server = await startFerret({ dataDir, port });

    const result = await run.result();
    expect(result.status).toBe('completed');
    expect(result.steps.map((s) => s.status)).toEqual(['success', 'success', 'success']);
    const sessionId = result.steps[0]!.sessionId!;
    const runs = await Promise.all([0, 1, 2].map((i) => store!.runsOfStep(`${run.workflowId}/${i}`)));
    // No attempt recorded as crashed for a store outage; none left running.
    for (const r of runs.flat()) {
      expect(r.status).not.toBe('running');
      expect(r.failureType).not.toBe('Crashed');
    }
    const meta = (await store.getSession(sessionId))!;
    expect(meta.status).toBe('completed');
    const report = await store.verify();
    expect(report.problems).toEqual([]);
  } finally {
    w.shutdown();
    await running;
  }
}, 300_000);
