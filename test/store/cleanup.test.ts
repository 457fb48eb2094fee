import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Db, type MongoClient } from 'mongodb';
import { createMongoStore, type MongoSessionStore } from '../../src/store/mongo-store.js';
import { batchOf, cliLines, entry, rawClient, testDbName, testMongoUri } from './helpers.js';

const DAY = 86_400_000;
const NOW = Date.parse('2026-06-01T00:00:00Z');
let now = NOW;
let release: () => Promise<void>;
let store: MongoSessionStore;
let client: MongoClient;
let db: Db;
const old: string[] = [];
const pinned: string[] = [];
const recent: string[] = [];

async function makeSession(id: string, ageDays: number, tags: string[], full: boolean) {
  now = NOW - ageDays * DAY;
  await store.upsertSession({ sessionId: id, tags });
  if (full) {
    await store.appendMessages(id, `c-${id}`, batchOf(cliLines(id, ['hi'])));
    await store.recordRun(entry({ runId: `c-${id}`, sessionId: id, costUsd: 0.5, startedAt: new Date(now) }));
    await store.saveTranscript(id, `c-${id}`, new Uint8Array([7, 7, 7]));
  }
}

async function leftovers(ids: string[]) {
  const inIds = { $in: ids };
  return {
    sessions: await db.collection('sessions').countDocuments({ _id: inIds } as never),
    messages: await db.collection('messages').countDocuments({ sessionId: inIds }),
    runs: await db.collection('runs').countDocuments({ sessionId: inIds }),
    runStarts: await db.collection('run_starts').countDocuments({ sessionId: inIds }),
    transcripts: await db.collection('transcripts.files').countDocuments({ 'metadata.sessionId': inIds }),
  };
}

beforeAll(async () => {
  const server = await testMongoUri();
  release = server.release;
  const dbName = testDbName('cleanup');
  store = createMongoStore({ uri: server.uri, dbName, now: () => new Date(now) });
  await store.ensureIndexes();
  client = rawClient(server.uri);
  db = client.db(dbName);
  for (let i = 0; i < 25; i++) old.push(randomUUID());
  for (let i = 0; i < 4; i++) pinned.push(randomUUID());
  for (let i = 0; i < 6; i++) recent.push(randomUUID());
  // Every 5th old session carries messages, a run and a transcript.
  for (const [i, id] of old.entries()) await makeSession(id, 31 + i, i % 2 ? ['misc'] : [], i % 5 === 0);
  for (const id of pinned) await makeSession(id, 90, ['keep', 'misc'], true);
  for (const id of recent) await makeSession(id, 3, [], true);
  now = NOW;
}, 120_000);

afterAll(async () => {
  await store?.close();
  await client?.close();
  await release?.();
});

describe('cleanupOldSessions', () => {
  it('dryRun reports what would go and deletes nothing', async () => {
    const batches: number[] = [];
    const r = await store.cleanupOldSessions({ maxAgeDays: 30, keepTags: ['keep'], dryRun: true, batchSize: 7, onBatch: (p) => void batches.push(p.sessionIds.length) });
    expect(r).toMatchObject({ dryRun: true, wouldDelete: 25 });
    expect(r).not.toHaveProperty('deletedCount');
    expect([...r.sessionIds].sort()).toEqual([...old].sort());
    expect(batches).toEqual([7, 7, 7, 4]);
    expect(await leftovers(old)).toMatchObject({ sessions: 25, messages: 15, runs: 5, transcripts: 5 });
    // Oldest first.
    expect(r.sessionIds[0]).toBe(old[24]);
    expect((await store.cleanupOldSessions({ maxAgeDays: 100, dryRun: true })).sessionIds).toEqual([]);
  });

  it('an interrupted cleanup is finished by the next run', async () => {
    // Interrupted between batches: the callback (an activity heartbeat) throws after the first batch.
    let calls = 0;
    await expect(
      store.cleanupOldSessions({
        maxAgeDays: 30,
        keepTags: ['keep'],
        batchSize: 10,
        onBatch: () => {
          calls += 1;
          throw new Error('worker lost');
        },
      }),
    ).rejects.toThrow('worker lost');
    expect(calls).toBe(1);
    expect((await leftovers(old)).sessions).toBe(15);
    // Interrupted inside a batch: a session's document gone, its tombstone pending, its messages
    // and transcript left (a crash between the two); found as abandoned an hour later.
    const survivors = (await db.collection('sessions').find({ _id: { $in: old } } as never).toArray()).map((d) => String(d._id));
    const half = survivors.filter((id) => old.indexOf(id) % 5 === 0).slice(0, 1);
    for (const id of half) {
      await db.collection('tombstones').insertOne({ _id: id, deletedAt: new Date(NOW - 2 * 3_600_000), logId: 'crashed', parentSessionId: null, archiveRef: null, bytes: 0, pending: true, runIds: [`c-${id}`] } as never);
      await db.collection('sessions').deleteOne({ _id: id } as never);
    }

    const progress: number[] = [];
    const r = await store.cleanupOldSessions({ maxAgeDays: 30, keepTags: ['keep'], batchSize: 10, onBatch: (p) => void progress.push(p.deleted) });
    expect(r).toMatchObject({ deletedCount: 15 - half.length, dryRun: false });
    expect(progress).toEqual([10, 15 - half.length]);
    // The ledger outlives the sessions: the books stay true.
    expect(await leftovers(old)).toEqual({ sessions: 0, messages: 0, runs: 5, runStarts: 0, transcripts: 0 });
    expect(await db.collection('tombstones').countDocuments({ pending: true })).toBe(0);
    expect(await db.collection('transcripts.chunks').countDocuments({})).toBe(pinned.length + recent.length);
    // Kept: pinned by tag and recent.
    expect(await leftovers(pinned)).toEqual({ sessions: 4, messages: 12, runs: 4, runStarts: 4, transcripts: 4 });
    expect(await leftovers(recent)).toEqual({ sessions: 6, messages: 18, runs: 6, runStarts: 6, transcripts: 6 });
    expect((await store.cleanupOldSessions({ maxAgeDays: 30, keepTags: ['keep'] })).sessionIds).toEqual([]);
  });

  it('without keepTags the pinned sessions go too; maxAgeDays defaults to 30', async () => {
    const r = await store.cleanupOldSessions();
    expect([...r.sessionIds].sort()).toEqual([...pinned].sort());
    expect(await leftovers(pinned)).toEqual({ sessions: 0, messages: 0, runs: 4, runStarts: 0, transcripts: 0 });
    expect((await store.listSessions()).items.map((s) => s.sessionId).sort()).toEqual([...recent].sort());
  });
});
