import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Db, type MongoClient } from 'mongodb';
import { COLLECTIONS, createMongoStore, type MongoSessionStore } from '../../src/store/mongo-store.js';
import { entry, rawClient, testDbName, testMongoUri } from './helpers.js';

let release: () => Promise<void>;
let uri: string;
let dbName: string;
let client: MongoClient;
let db: Db;
let t = Date.parse('2026-03-01T00:00:00Z');

/** A store whose clock the test moves (forwards or back). */
function clocked(): MongoSessionStore {
  return createMongoStore({ client, dbName, now: () => new Date(t) });
}

/** What `continue` must answer: the scan the pointer replaces. */
async function scanLatest(scope: string): Promise<string | null> {
  const d = await db.collection(COLLECTIONS.sessions).find({ scope }).sort({ updatedAt: -1, _id: -1 }).limit(1).next();
  return d ? String(d._id) : null;
}

/** Sessions a then b written a second apart in a new scope. */
async function twoSessions(): Promise<{ store: MongoSessionStore; scope: string; a: string; b: string }> {
  const store = clocked();
  const scope = `/pointer/${randomUUID()}`;
  const [a, b] = [randomUUID(), randomUUID()];
  t += 1000;
  await store.upsertSession({ sessionId: a, scope });
  t += 1000;
  await store.upsertSession({ sessionId: b, scope });
  return { store, scope, a, b };
}

beforeAll(async () => {
  const server = await testMongoUri();
  release = server.release;
  uri = server.uri;
  dbName = testDbName('scope-pointers');
  client = rawClient(uri);
  db = client.db(dbName);
}, 60_000);

afterAll(async () => {
  await client?.close();
  await release?.();
});

describe('continue by scope pointer', () => {
  it('follows every write that moves a session, and never moves back on a retried or late write', async () => {
    const { store, scope, a, b } = await twoSessions();
    expect((await store.latestSessionInScope(scope))?.sessionId).toBe(b);
    // A retry of a's first write with an older clock: a's updatedAt stays ($max), so does the pointer.
    t -= 5000;
    await store.upsertSession({ sessionId: a, scope });
    expect((await store.latestSessionInScope(scope))?.sessionId).toBe(b);
    t += 10_000;
    await store.tagSession(a, ['moved']);
    expect((await store.latestSessionInScope(scope))?.sessionId).toBe(a);
    t += 1000;
    await store.recordRun(entry({ runId: randomUUID(), sessionId: b, workflowId: 'wf-pointer' }));
    expect((await store.latestSessionInScope(scope))?.sessionId).toBe(b);
  });

  it('falls back to the next session when the pointed one is deleted or leaves the scope', async () => {
    const store = clocked();
    const scope = `/pointer/${randomUUID()}`;
    const ids = [randomUUID(), randomUUID(), randomUUID()];
    for (const id of ids) {
      t += 1000;
      await store.upsertSession({ sessionId: id, scope });
    }
    await store.deleteSession(ids[2]!);
    expect((await store.latestSessionInScope(scope))?.sessionId).toBe(ids[1]);
    t += 1000;
    await store.upsertSession({ sessionId: ids[1]!, scope: `/elsewhere/${randomUUID()}` });
    expect((await store.latestSessionInScope(scope))?.sessionId).toBe(ids[0]);
    await store.deleteSession(ids[0]!);
    expect(await store.latestSessionInScope(scope)).toBeNull();
    t += 1000;
    await store.upsertSession({ sessionId: ids[2]!, scope });
    expect((await store.latestSessionInScope(scope))?.sessionId).toBe(ids[2]);
  });

  it('answers from the sessions of a store written before pointers existed', async () => {
    const { store, scope, b } = await twoSessions();
    await db.collection(COLLECTIONS.scopes).deleteOne({ _id: scope as never });
    expect((await store.latestSessionInScope(scope))?.sessionId).toBe(b);
    expect(await db.collection(COLLECTIONS.scopes).findOne({ _id: scope as never })).toMatchObject({ sessionId: b });
  });

  it('imported sessions move their scopes', async () => {
    const store = clocked();
    const scope = `/pointer/${randomUUID()}`;
    const base = { createdAt: new Date(t), messageCount: 0, turnCount: 0, models: [], model: null, tags: [], description: null, summary: null, status: 'completed' as const, scope, origin: {}, totalCostUsd: 0, lineageCostUsd: 0, runCount: 0 };
    const sessions = [1, 3, 2].map((k) => {
      const sessionId = randomUUID();
      return { ...base, sessionId, updatedAt: new Date(t + k * 1000), lineage: { parentSessionId: null, forkedAtMessage: null, rootSessionId: sessionId } };
    });
    await store.importSessions(sessions);
    expect((await store.latestSessionInScope(scope))?.sessionId).toBe(sessions[1]!.sessionId);
  });

  it('names the latest session after many sessions of one scope are written at once', async () => {
    // Each write advances the pointer only if it is behind; of two advances at once, neither may be lost.
    for (let round = 0; round < 30; round++) {
      let tick = t;
      t += 60_000;
      const store = createMongoStore({ client, dbName, now: () => new Date(tick++) });
      const scope = `/pointer/${randomUUID()}`;
      await Promise.all(Array.from({ length: 10 }, () => store.upsertSession({ sessionId: randomUUID(), scope })));
      expect((await store.latestSessionInScope(scope))?.sessionId).toBe(await scanLatest(scope));
    }
  });

  it('agrees with a scan of the sessions after any sequence of writes, deletes and clock moves', async () => {
    const scopes = ['/p/a', '/p/b'];
    const op = fc.oneof(
      fc.record({ kind: fc.constant('upsert' as const), s: fc.nat(3), scope: fc.option(fc.nat(1), { nil: undefined }), dt: fc.integer({ min: -3, max: 3 }) }),
      fc.record({ kind: fc.constant('tag' as const), s: fc.nat(3), dt: fc.integer({ min: -3, max: 3 }) }),
      fc.record({ kind: fc.constant('delete' as const), s: fc.nat(3) }),
      fc.record({ kind: fc.constant('read' as const), scope: fc.nat(1) }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 10 }), async (ops) => {
        const ids = [0, 1, 2, 3].map(() => randomUUID());
        const prefix = ids[0]!.slice(0, 8);
        const sc = scopes.map((s) => `${s}/${prefix}`);
        const store = clocked();
        for (const o of ops) {
          if (o.kind === 'upsert') {
            t += o.dt * 1000;
            await store.upsertSession({ sessionId: ids[o.s]!, ...(o.scope !== undefined ? { scope: sc[o.scope]! } : {}) });
          } else if (o.kind === 'tag') {
            t += o.dt * 1000;
            await store.tagSession(ids[o.s]!, ['x']).catch(() => null);
          } else if (o.kind === 'delete') {
            await store.deleteSession(ids[o.s]!);
          } else {
            expect((await store.latestSessionInScope(sc[o.scope]!))?.sessionId ?? null).toBe(await scanLatest(sc[o.scope]!));
          }
        }
        for (const s of sc) expect((await store.latestSessionInScope(s))?.sessionId ?? null).toBe(await scanLatest(s));
      }),
      { numRuns: 30 },
    );
  }, 240_000);
});
