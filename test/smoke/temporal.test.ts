import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { afterAll, beforeAll, expect, inject, test } from 'vitest';
import * as activities from '../workflows-smoke/activities.js';
import { smokeWorkflow } from '../workflows-smoke/index.js';

let connection: Connection;
let nativeConnection: NativeConnection;

beforeAll(async () => {
  connection = await Connection.connect({ address: inject('temporalAddress') });
  nativeConnection = await NativeConnection.connect({ address: inject('temporalAddress') });
});
afterAll(async () => {
  await connection?.close();
  await nativeConnection?.close();
});

test('a workflow runs on the Temporal dev server and its history comes back from the server', async () => {
  const taskQueue = `smoke-${randomUUID()}`;
  const worker = await Worker.create({
    connection: nativeConnection,
    taskQueue,
    workflowsPath: fileURLToPath(new URL('../workflows-smoke/index.ts', import.meta.url)),
    activities,
  });
  const client = new Client({ connection });
  const workflowId = `smoke-${randomUUID()}`;
  const result = await worker.runUntil(
    client.workflow.execute(smokeWorkflow, { taskQueue, workflowId, args: ['temporal'] }),
  );
  expect(result).toBe('hello temporal');

  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const types = (history.events ?? []).map((e) => e.eventType);
  expect(types.length).toBeGreaterThan(5);
  expect(types).toContain(10); // ACTIVITY_TASK_SCHEDULED
  expect(types.at(-1)).toBe(2); // WORKFLOW_EXECUTION_COMPLETED
});
