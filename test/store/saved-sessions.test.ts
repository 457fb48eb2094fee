import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createMongoStore, savedRunId, type MongoSessionStore } from '../../src/store/mongo-store.js';
import { SAMPLES_DIR } from '../runner/helpers.js';
import { testDbName, testMongoUri } from './helpers.js';

let release: () => Promise<void>;
let store: MongoSessionStore;

beforeAll(async () => {
  const server = await testMongoUri();
  release = server.release;
  store = createMongoStore({ uri: server.uri, dbName: testDbName('saved-sessions') });
  await store.ensureIndexes();
}, 60_000);

afterAll(async () => {
  await store?.close();
  await release?.();
});

/** The parsed lines of a real CLI sample, and the session id they report. */
function sample(name: string): { sessionId: string; messages: Record<string, unknown>[] } {
  const messages = readFileSync(`${SAMPLES_DIR}${name}`, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { sessionId: messages.find((m) => m.type === 'result')!.session_id as string, messages };
}

it('saveSession charges a forked session only its own spend, not its lineage total', async () => {
  // CLI 2.1.330: the fork's result reports total_cost_usd 0.0066 (its parent's runs included)
  // and model_usage_since_last_result 0.0022 (what the fork itself spent).
  const parent = sample('01-query-success.ndjson');
  const fork = sample('03-fork-success.ndjson');
  const forkResult = fork.messages.find((m) => m.type === 'result')!;
  expect(forkResult.total_cost_usd).toBe(0.0066);

  await store.saveSession(parent.sessionId, parent.messages, { tags: ['saved-fork'] });
  await store.upsertSession({ sessionId: fork.sessionId, parentSessionId: parent.sessionId, forkedAtMessage: parent.messages.length });
  const meta = await store.saveSession(fork.sessionId, fork.messages, { tags: ['saved-fork'] });

  expect(meta).toMatchObject({ totalCostUsd: 0.0022, lineageCostUsd: 0.0066, runCount: 1 });
  const run = await store.getRun(savedRunId(fork.sessionId));
  expect(run).toMatchObject({ costUsd: 0.0022, cumulativeCostUsd: 0.0066 });
  expect(run!.usageByModel['claude-sonnet-5-5']).toMatchObject({ inputTokens: 1000, outputTokens: 20, costUSD: 0.0022 });
  // The two sessions together spent two runs' worth, not the parent's spend twice.
  const report = await store.costReport({ by: 'total', tags: ['saved-fork'] });
  expect(report.total).toMatchObject({ costUsd: 0.0044, runs: 2, sessions: 2 });
});

it('saveSession sums the spend of every result in the saved messages', async () => {
  // A resumed session saved whole: two results, each reporting its own run's spend.
  const first = sample('01-query-success.ndjson');
  const resumed = sample('02-resume-success.ndjson');
  const sessionId = '6f1d2a44-8f0e-4d7a-9c1b-3a5e7d9b2c10';
  const meta = await store.saveSession(sessionId, [...first.messages, ...resumed.messages]);
  expect(meta).toMatchObject({ totalCostUsd: 0.0044, lineageCostUsd: 0.0044, runCount: 1 });
});
