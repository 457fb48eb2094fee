/**
 * A session's counts and summary: read from the ledger when every kept run counted its own messages
 * (the step activity's entries carry `assistantMessages`), else from the messages; both ways agree
 * with the stored messages, which `verify` checks.
 */
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MongoClient } from 'mongodb';
import { createMongoStore, type MongoSessionStore } from '../../src/store/mongo-store.js';
import { summaryOf } from '../../src/model/messages.js';
import { batchOf, cliLines, entry, rawClient, testDbName, testMongoUri } from './helpers.js';

let release: () => Promise<void>;
let client: MongoClient;
let store: MongoSessionStore;

beforeAll(async () => {
  const server = await testMongoUri();
  release = server.release;
  client = rawClient(server.uri);
  store = createMongoStore({ client, dbName: testDbName('derived') });
  await store.ensureIndexes();
}, 60_000);

afterAll(async () => {
  await client?.close();
  await release?.();
});

/** One run of `texts.length` assistant replies (plus init and result lines), recorded as the step activity records it. */
async function run(sid: string, texts: string[], status: 'success' | 'failed', counted: boolean, at: number): Promise<void> {
  const runId = `run-${randomUUID()}`;
  const lines = cliLines(sid, texts);
  const startedAt = new Date(Date.parse('2026-05-01T00:00:00Z') + at * 1000);
  await store.recordRun(entry({ runId, sessionId: sid, status: 'running', startedAt }));
  await store.appendMessages(sid, runId, batchOf(lines, 1));
  if (status === 'failed') await store.discardRunMessages(sid, runId);
  const assistant = lines.filter((l) => (JSON.parse(l) as { type: string }).type === 'assistant').length;
  await store.recordRun(
    entry({
      runId,
      sessionId: sid,
      status,
      startedAt,
      messageCount: lines.length,
      // As the step records it: the first assistant text, trimmed (`assistantText`), then cut (`summaryOf`).
      summary: texts[0] === undefined ? null : summaryOf(texts[0].trim()),
      ...(counted ? { assistantMessages: assistant } : {}),
    }),
  );
}

describe('derived session fields', () => {
  it('counts from the ledger equal counts from the messages, failed runs and uncounted entries included', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ texts: fc.array(fc.string({ minLength: 1, maxLength: 20 }).filter((t) => t.trim().length > 0), { maxLength: 3 }), failed: fc.boolean(), counted: fc.boolean() }), {
          minLength: 1,
          maxLength: 4,
        }),
        async (runs) => {
          const sid = randomUUID();
          await store.upsertSession({ sessionId: sid });
          for (const [i, r] of runs.entries()) await run(sid, r.texts, r.failed ? 'failed' : 'success', r.counted, i);
          const session = (await store.getSession(sid))!;
          const kept = runs.filter((r) => !r.failed);
          expect(session.messageCount).toBe(kept.reduce((n, r) => n + r.texts.length + 2, 0));
          expect(session.turnCount).toBe(kept.reduce((n, r) => n + r.texts.length, 0));
          expect(session.summary).toBe(kept.find((r) => r.texts.length > 0)?.texts[0]?.trim().slice(0, 200) ?? null);
          expect((await store.verify()).problems.filter((p) => p.sessionId === sid)).toEqual([]);
        },
      ),
      // A reply with trailing blanks: the summary is trimmed on both paths.
      { numRuns: 15, examples: [[[{ texts: ['! '], failed: false, counted: true }]]] },
    );
  });
});
