import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import { Worker } from '@temporalio/worker';
import { expect, test } from 'vitest';
import { WORKFLOWS_PATH } from '../../src/worker/worker.js';

const dir = path.join(import.meta.dirname, '..', 'histories');

// Histories recorded from real runs (RECORD_HISTORIES=1 npx vitest run test/durable) guard determinism:
// a change to workflow code that would break running workflows fails here.
test('recorded workflow histories replay against the current workflow code', async () => {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.json')).sort();
  expect(files).toEqual(
    expect.arrayContaining([
      'cleanup-sessions.json',
      'conversation.json',
      'conversation-record.json',
      'explore-alternatives.json',
      'session-pipeline-cancelled.json',
      'session-pipeline-continue-as-new.json',
      'session-pipeline-documentation.json',
      'session-pipeline-retry.json',
    ]),
  );
  const histories = await Promise.all(
    files.map(async (f) => ({ workflowId: f.replace(/\.json$/, ''), history: historyFromJSON(JSON.parse(await readFile(path.join(dir, f), 'utf8'))) })),
  );
  const results = [];
  for await (const r of Worker.runReplayHistories({ workflowsPath: WORKFLOWS_PATH, replayName: 'replay-test' }, histories)) results.push(r);
  expect(results.map((r) => [r.workflowId, r.error ?? null])).toEqual(files.map((f) => [f.replace(/\.json$/, ''), null]));
});
