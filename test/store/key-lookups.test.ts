/**
 * `continue`, opening a session by id, a step's transcript reads and writes, its ledger entries (with
 * the session's totals) and its lease (taken, checked before every write, renewed, released) are
 * served by key lookups, so they cost the same at any store size: every query they send names one `_id`, and the
 * server answers it from the `_id` index. On the embedded server that holds because of tools/ferretdb-server/patches (without them
 * FerretDB v1 scanned the table for every `_id` lookup); on MongoDB the plan must not be a scan.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MongoClient, type Db, type Document } from 'mongodb';
import { COLLECTIONS, createMongoStore, type MongoSessionStore } from '../../src/store/mongo-store.js';
import { testDbName, testMongoUri } from './helpers.js';

let release: () => Promise<void>;
let client: MongoClient;
let db: Db;
let store: MongoSessionStore;
const sent: Array<{ collection: string; filter: Document }> = [];
let recording = false;

beforeAll(async () => {
  const server = await testMongoUri();
  release = server.release;
  client = new MongoClient(server.uri, { serverSelectionTimeoutMS: 5000, monitorCommands: true });
  client.on('commandStarted', (e) => {
    if (!recording) return;
    const c = e.command as Document;
    if (e.commandName === 'find') sent.push({ collection: String(c.find), filter: (c.filter as Document) ?? {} });
  });
  const dbName = testDbName('key-lookups');
  db = client.db(dbName);
  store = createMongoStore({ client, dbName });
  await store.ensureIndexes();
}, 60_000);

afterAll(async () => {
  await client?.close();
  await release?.();
});

/** The finds `fn` sends. */
async function findsOf(fn: () => Promise<unknown>): Promise<typeof sent> {
  sent.length = 0;
  recording = true;
  try {
    await fn();
  } finally {
    recording = false;
  }
  return [...sent];
}

/** Whether the server answers this find from an index (FerretDB's SQLite plan, or MongoDB's winning plan). */
async function usesIndex(collection: string, filter: Document): Promise<boolean> {
  const out = await db.command({ explain: { find: collection, filter }, verbosity: 'queryPlanner' });
  const planner = out.queryPlanner as Document;
  if (Array.isArray(planner.Plan)) return planner.Plan.some((line: unknown) => / USING (COVERING )?INDEX /.test(String(line)));
  return !JSON.stringify(planner.winningPlan).includes('COLLSCAN');
}

describe('key lookups', () => {
  it('continue and open by id send only `_id` lookups, each served from the index', async () => {
    const scope = `/keys/${randomUUID()}`;
    const ids = [randomUUID(), randomUUID(), randomUUID()];
    for (const id of ids) await store.upsertSession({ sessionId: id, scope });

    const finds = [
      ...(await findsOf(async () => expect((await store.latestSessionInScope(scope))?.sessionId).toBe(ids[2]))),
      ...(await findsOf(async () => expect((await store.loadSession(ids[0]!)).found).toBe(true))),
      ...(await findsOf(async () => expect((await store.getSession(ids[1]!))?.sessionId).toBe(ids[1]))),
    ];
    expect(finds.map((f) => f.collection).sort()).toEqual([COLLECTIONS.scopes, COLLECTIONS.sessions, COLLECTIONS.sessions, COLLECTIONS.sessions].sort());
    for (const f of finds) {
      expect(Object.keys(f.filter)).toEqual(['_id']);
      expect(typeof f.filter._id).toBe('string');
      expect(await usesIndex(f.collection, f.filter), `${JSON.stringify(f)} scans (a FerretDB built without tools/ferretdb-server/patches?)`).toBe(true);
    }
  });

  it('a transcript is saved, checked, loaded and pruned by key', async () => {
    const sid = randomUUID();
    const data = new TextEncoder().encode('{"type":"user"}\n'.repeat(40_000));
    await store.saveTranscript(sid, 'run-1', data);
    const finds = [
      ...(await findsOf(() => store.saveTranscript(sid, 'run-2', data, { prune: false }))),
      ...(await findsOf(() => store.transcriptDigest(sid))),
      ...(await findsOf(() => store.loadTranscript(sid))),
      ...(await findsOf(() => store.pruneTranscripts(sid))),
    ];
    expect(finds.length).toBeGreaterThan(2);
    for (const f of finds) {
      expect(Object.keys(f.filter)).toEqual(['_id']);
      expect(await usesIndex(f.collection, f.filter), `${JSON.stringify(f)} scans (a FerretDB built without tools/ferretdb-server/patches?)`).toBe(true);
    }
  });

  it("a step's ledger entries, their briefs and its earlier attempts are read by key", async () => {
    const sid = randomUUID();
    const stepKey = `wf-${randomUUID()}/0`;
    await store.upsertSession({ sessionId: sid });
    const base = { sessionId: sid, mode: 'resume', promptDigest: '0'.repeat(64), failureType: null, subtype: null, costUsd: 0, cumulativeCostUsd: 0 } as const;
    const run = (attempt: number, status: 'running' | 'success') => ({
      ...base,
      runId: `${stepKey}#${attempt}`,
      status,
      usageByModel: {},
      numTurns: 0,
      messageCount: 0,
      exitCode: null,
      startedAt: new Date('2026-01-01T00:00:00Z'),
      finishedAt: null,
      durationMs: 0,
      stepKey,
      attempt,
      day: '2026-01-01',
      month: '2026-01',
      tags: [],
      model: null,
      pipeline: null,
      workflowId: null,
    });
    const transcript = new TextEncoder().encode('{"type":"user"}\n');
    let started: Awaited<ReturnType<typeof store.startRun>> | undefined;
    const finds = [
      ...(await findsOf(() => store.recordRun(run(1, 'running')))),
      // As the step records it: the entry counts its own messages, so the session's counts come from the ledger.
      ...(await findsOf(() => store.recordRun({ ...run(1, 'success'), assistantMessages: 0 }, { transcript }))),
      ...(await findsOf(async () => (started = await store.startRun(run(2, 'running'))))),
      ...(await findsOf(async () => expect(await store.runsOfStep(stepKey, { attempts: 2 })).toHaveLength(2))),
    ];
    // As the step records its end: from what its start left, nothing read.
    expect(await findsOf(() => started!.record({ ...run(2, 'success'), assistantMessages: 0 }, { transcript }))).toEqual([]);
    // And the version it replaced goes as its naming listed it, nothing read again.
    let pruned = 0;
    expect(await findsOf(async () => (pruned = await started!.pruneReplaced()))).toEqual([]);
    expect(pruned).toBe(1);
    expect(await store.pruneTranscripts(sid)).toBe(0);
    expect(Buffer.from((await store.loadTranscript(sid))!)).toEqual(Buffer.from(transcript));
    expect(new Set(finds.map((f) => f.collection))).toEqual(new Set([COLLECTIONS.runs, COLLECTIONS.sessions, COLLECTIONS.runBriefs]));
    for (const f of finds) {
      expect(Object.keys(f.filter)).toEqual(['_id']);
      expect(await usesIndex(f.collection, f.filter), `${JSON.stringify(f)} scans (a FerretDB built without tools/ferretdb-server/patches?)`).toBe(true);
    }
  });

  it('a session lease is taken, checked, renewed and released by key', async () => {
    const sid = randomUUID();
    const input = { sessionId: sid, holder: 'step-a#1', stepKey: 'step-a', ttlMs: 10_000 };
    let held: Awaited<ReturnType<typeof store.tryAcquireLease>> | undefined;
    const finds = [
      ...(await findsOf(async () => (held = await store.tryAcquireLease(input)))),
      ...(await findsOf(async () => {
        if (!held?.acquired) throw new Error('not acquired');
        expect(await store.holdsLease(held.lease)).toBe(true);
        expect(await store.renewLease(held.lease, 10_000)).toBe(true);
        expect((await store.tryAcquireLease({ ...input, holder: 'step-b#1', stepKey: 'step-b' })).acquired).toBe(false);
        expect((await store.liveLease(sid))?.holder).toBe('step-a#1');
        await store.releaseLease(held.lease);
        const mark = await store.leaseMark(sid);
        const next = await store.tryAcquireLease({ ...input, holder: 'step-b#1', stepKey: 'step-b' });
        expect(next.acquired).toBe(true);
        expect(await store.holdsLease(held.lease)).toBe(false);
        expect(await store.leaseMovedSince(mark)).toBe(true);
      })),
    ];
    expect(finds.length).toBeGreaterThan(5);
    for (const f of finds) {
      expect(Object.keys(f.filter)).toEqual(['_id']);
      expect(await usesIndex(f.collection, f.filter), `${JSON.stringify(f)} scans (a FerretDB built without tools/ferretdb-server/patches?)`).toBe(true);
    }
  });

  it('a lease written before lease heads existed still keeps others out once the store is opened', async () => {
    const dbName = testDbName('legacy-leases');
    const legacy = client.db(dbName);
    const sid = randomUUID();
    const expiresAt = new Date(Date.now() + 60_000);
    await legacy.collection(COLLECTIONS.leases).insertMany([
      { _id: `${sid}:4` as never, sessionId: sid, token: 4, holder: 'old#1', stepKey: 'old', acquiredAt: new Date(), expiresAt, released: true },
      { _id: `${sid}:5` as never, sessionId: sid, token: 5, holder: 'old#2', stepKey: 'old', acquiredAt: new Date(), expiresAt, released: false },
    ]);
    const opened = createMongoStore({ client, dbName });
    await opened.ensureIndexes();
    expect((await opened.liveLease(sid))?.holder).toBe('old#2');
    const attempt = await opened.tryAcquireLease({ sessionId: sid, holder: 'new#1', stepKey: 'new', ttlMs: 10_000 });
    expect(attempt).toMatchObject({ acquired: false, current: { holder: 'old#2', token: 5 } });
  });

  it('a filter on `_id` and other fields is narrowed by the index too', async () => {
    const id = randomUUID();
    await store.upsertSession({ sessionId: id, scope: '/keys/compound' });
    expect(await usesIndex(COLLECTIONS.sessions, { _id: id, scope: '/keys/compound' })).toBe(true);
    expect(await db.collection(COLLECTIONS.sessions).countDocuments({ _id: id as never, scope: '/keys/compound' })).toBe(1);
    expect(await db.collection(COLLECTIONS.sessions).countDocuments({ _id: id as never, scope: '/keys/other' })).toBe(0);
  });
});
