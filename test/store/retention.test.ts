import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Db, type MongoClient } from 'mongodb';
import { createMongoStore, type MongoSessionStore } from '../../src/store/mongo-store.js';
import { type CostDimension } from '../../src/model/index.js';
import { batchOf, cliLines, collect, entry, rawClient, testDbName, testMongoUri } from './helpers.js';

const DAY = 86_400_000;
const NOW = Date.parse('2026-06-01T00:00:00Z');
let now = NOW;
let release: () => Promise<void>;
let store: MongoSessionStore;
let client: MongoClient;
let db: Db;
let uri: string;
const dirs: string[] = [];

/** A session with two runs (messages, ledger, transcript) last used `ageDays` ago. */
async function makeSession(ageDays: number, opts: { tags?: string[]; parent?: string; cost?: number; model?: string } = {}): Promise<string> {
  const id = randomUUID();
  now = NOW - ageDays * DAY;
  await store.upsertSession({ sessionId: id, tags: opts.tags ?? [], ...(opts.parent ? { parentSessionId: opts.parent, forkedAtMessage: 3 } : {}) });
  for (const r of [1, 2]) {
    const runId = `r${r}-${id}`;
    await store.recordRun(entry({ runId, sessionId: id, status: 'running', startedAt: new Date(now) }));
    await store.appendMessages(id, runId, batchOf(cliLines(id, [`reply ${r} of ${id}`])));
    const model = opts.model ?? 'claude-sonnet-5-5';
    const cost = opts.cost ?? 0.125;
    await store.recordRun(
      entry({
        runId,
        sessionId: id,
        costUsd: cost,
        startedAt: new Date(now),
        model,
        usageByModel: { [model]: { inputTokens: 10, outputTokens: 20, cacheReadInputTokens: 1, cacheCreationInputTokens: 2, costUSD: cost } },
        tags: opts.tags ?? [],
        pipeline: 'p',
      }),
    );
    await store.saveTranscript(id, runId, new TextEncoder().encode(`{"transcript":"${id}","run":${r}}\n`));
  }
  now = NOW;
  return id;
}

async function allReports() {
  const out: Record<string, unknown> = {};
  for (const by of ['total', 'tag', 'model', 'day', 'month', 'pipeline'] satisfies CostDimension[]) out[by] = await store.costReport({ by });
  return out;
}

beforeAll(async () => {
  const server = await testMongoUri();
  release = server.release;
  uri = server.uri;
  const dbName = testDbName('retention');
  store = createMongoStore({ uri, dbName, now: () => new Date(now) });
  await store.ensureIndexes();
  client = rawClient(uri);
  db = client.db(dbName);
}, 120_000);

afterAll(async () => {
  await store?.close();
  await client?.close();
  await release?.();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('retention', () => {
  it('cost reports over every dimension are equal before and after any cleanup', async () => {
    // Random sessions (ages, tags, costs, models), then random cleanups: the books never change.
    let deleted = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ age: fc.integer({ min: 0, max: 90 }), tag: fc.constantFrom('a', 'b', 'keep'), cost: fc.integer({ min: 0, max: 5000 }), model: fc.constantFrom('m-1', 'm.2') }), {
          minLength: 1,
          maxLength: 4,
        }),
        fc.integer({ min: 0, max: 60 }),
        fc.boolean(),
        async (sessions, maxAgeDays, keep) => {
          for (const s of sessions) await makeSession(s.age, { tags: [s.tag], cost: s.cost / 1000, model: s.model });
          const before = await allReports();
          const r = await store.cleanupOldSessions({ maxAgeDays, keepTags: keep ? ['keep'] : [] });
          deleted += r.sessionIds.length;
          expect(await allReports()).toEqual(before);
        },
      ),
      { numRuns: 6, seed: 15 },
    );
    expect(deleted).toBeGreaterThan(0);
  }, 240_000);

  it('holds keep sessions from every cleanup; --lineage holds the whole family; release lets go', async () => {
    const root = await makeSession(200);
    const fork = await makeSession(200, { parent: root });
    const grandchild = await makeSession(200, { parent: fork });
    const loner = await makeSession(200);
    const updatedBefore = (await store.getSession(fork))!.updatedAt;
    expect(await store.holdSession(fork, { reason: 'legal', lineage: true })).toEqual(expect.arrayContaining([root, fork, grandchild]));
    await store.holdSession(loner, { reason: 'audit' });
    expect((await store.getSession(fork))!.hold).toEqual({ reason: 'legal', heldAt: new Date(NOW) });
    expect((await store.getSession(fork))!.updatedAt).toEqual(updatedBefore);
    const held = (await store.search({ held: true, limit: 1000 })).items.map((s) => s.sessionId);
    expect(held).toEqual(expect.arrayContaining([root, fork, grandchild, loner]));
    expect((await store.search({ held: false, limit: 1000 })).items.map((s) => s.sessionId)).not.toContain(fork);

    const r = await store.cleanupOldSessions({ maxAgeDays: 0 });
    for (const id of [root, fork, grandchild, loner]) expect(r.sessionIds).not.toContain(id);
    for (const id of [root, fork, grandchild, loner]) expect(await store.getSession(id)).not.toBeNull();

    expect(await store.releaseSession(loner)).toEqual([loner]);
    expect((await store.getSession(loner))!.hold).toBeUndefined();
    const r2 = await store.cleanupOldSessions({ maxAgeDays: 0 });
    expect(r2.sessionIds).toEqual([loner]);
    await store.releaseSession(root, { lineage: true });
    expect((await store.search({ held: true })).items).toEqual([]);
  }, 120_000);

  it('a session with a running run is skipped; the log records each cleanup; forks say when their parent went', async () => {
    await store.cleanupOldSessions({ maxAgeDays: 0 });
    const parent = await makeSession(100);
    const child = await makeSession(1, { parent });
    const busy = await makeSession(100);
    await store.recordRun(entry({ runId: `live-${busy}`, sessionId: busy, status: 'running', startedAt: new Date(NOW - 100 * DAY) }));
    // recordRun bumped updatedAt; age the session again so only the running run protects it.
    await db.collection('sessions').updateOne({ _id: busy } as never, { $set: { updatedAt: new Date(NOW - 100 * DAY) } });

    now = NOW + 500;
    const dry = await store.cleanupOldSessions({ maxAgeDays: 30, dryRun: true });
    expect(dry).toMatchObject({ dryRun: true, wouldDelete: 1, sessionIds: [parent], skippedBusy: 1 });
    expect(await store.getSession(parent)).not.toBeNull();
    expect(await store.getDeletionRecord(dry.logId)).toMatchObject({ dryRun: true, count: 1, sessionIds: [parent] });

    now = NOW + 1000;
    const r = await store.cleanupOldSessions({ maxAgeDays: 30, trigger: { kind: 'command', name: 'test' } });
    if (r.dryRun) throw new Error('not a dry run');
    expect(r).toMatchObject({ deletedCount: 1, sessionIds: [parent], skippedBusy: 1 });
    expect(r.bytesFreed).toBeGreaterThan(100);
    expect(await store.getSession(busy)).not.toBeNull();
    const kept = await store.loadSession(busy);
    if (!kept.found) throw new Error('busy session deleted');
    expect(await collect(kept.session.messages())).toHaveLength(6);

    const record = await store.getDeletionRecord(r.logId);
    expect(record).toMatchObject({
      logId: r.logId,
      startedAt: new Date(NOW + 1000),
      trigger: { kind: 'command', name: 'test' },
      criteria: { maxAgeDays: 30, keepTags: [], archive: null, purgeLedgerOlderThanDays: null },
      dryRun: false,
      count: 1,
      sessionIds: [parent],
      bytesFreed: r.bytesFreed,
    });
    expect((await store.deletionLog({ limit: 2 })).map((x) => x.logId)).toEqual([r.logId, dry.logId]);

    const lineage = await store.getLineage(child);
    expect(lineage.parentDeleted).toEqual({ sessionId: parent, deletedAt: new Date(NOW + 1000) });
    expect(await store.getTombstone(parent)).toMatchObject({ sessionId: parent, logId: r.logId, deletedAt: new Date(NOW + 1000) });
    // The ledger of the deleted parent is still there.
    expect(await store.getRun(`r1-${parent}`)).not.toBeNull();
    now = NOW;
    await store.recordRun(entry({ runId: `live-${busy}`, sessionId: busy, status: 'success', startedAt: new Date(NOW - 100 * DAY) }));
  }, 120_000);

  it('archives to a directory and to GridFS, and restore brings a session back whole', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ct-archive-'));
    dirs.push(dir);
    for (const target of [dir, 'gridfs', 'gridfs:cold']) {
      const id = await makeSession(400, { tags: ['arch'] });
      // An oversize line (stored in GridFS overflow) survives the round trip too.
      const big = JSON.stringify({ type: 'user', message: { role: 'user', content: 'x'.repeat(64 * 1024) } });
      const s2 = createMongoStore({ uri, dbName: db.databaseName, now: () => new Date(now), inlineMessageLimitBytes: 1024 });
      await s2.appendMessages(id, `r2-${id}`, [{ seq: 99, raw: big }]);
      await s2.close();
      const before = await store.loadSession(id);
      if (!before.found) throw new Error('missing');
      const messages = await collect(before.session.messages());
      const transcript = await store.loadTranscript(id);
      const runs = [await store.getRun(`r1-${id}`), await store.getRun(`r2-${id}`)];

      const r = await store.cleanupOldSessions({ maxAgeDays: 300, keepTags: ['keep', 'a', 'b'], archive: target });
      if (r.dryRun) throw new Error('not a dry run');
      expect(r.sessionIds).toEqual([id]);
      expect(r.archiveRefs).toHaveLength(1);
      const ref = r.archiveRefs[0]!;
      if (target === dir) expect(readdirSync(dir)).toEqual([`${id}.${r.logId}.jsonl`]);
      else expect(ref).toBe(`gridfs:${target === 'gridfs' ? 'archives' : 'cold'}/${id}.${r.logId}.jsonl`);
      expect(await store.getSession(id)).toBeNull();
      expect(await store.getTombstone(id)).toMatchObject({ archiveRef: ref });
      expect((await store.getDeletionRecord(r.logId))!.archiveRefs).toEqual([ref]);

      now = NOW + 5000;
      const restored = await store.restoreSession(ref);
      now = NOW;
      expect(restored).toEqual({ sessionId: id, restored: true, messages: messages.length, runs: 2, transcript: true });
      const after = await store.loadSession(id);
      if (!after.found) throw new Error('not restored');
      expect(await collect(after.session.messages())).toEqual(messages);
      expect(after.session.metadata).toMatchObject({ ...before.session.metadata, updatedAt: new Date(NOW + 5000) });
      expect(await store.loadTranscript(id)).toEqual(transcript);
      expect([await store.getRun(`r1-${id}`), await store.getRun(`r2-${id}`)]).toEqual(runs);
      expect(await store.getTombstone(id)).toBeNull();
      // Restoring again changes nothing.
      expect((await store.restoreSession(ref)).restored).toBe(false);
      await store.holdSession(id, { reason: 'restored in test' });
    }
  }, 180_000);

  it('purges only ledger entries of deleted sessions, and reports say when their period reaches into purged time', async () => {
    const gone = await makeSession(800);
    const live = await makeSession(800, { tags: ['keep'] });
    await store.cleanupOldSessions({ maxAgeDays: 700, keepTags: ['keep', 'a', 'b', 'arch'] });
    expect(await store.getRun(`r1-${gone}`)).not.toBeNull();
    expect((await store.costReport({ by: 'total' })).ledgerPurgedBefore).toBeUndefined();
    const r = await store.cleanupOldSessions({ maxAgeDays: 700, keepTags: ['keep'], purgeLedgerOlderThanDays: 365 });
    if (r.dryRun) throw new Error('not a dry run');
    expect(r.ledgerEntriesPurged).toBeGreaterThanOrEqual(2);
    expect(await store.getRun(`r1-${gone}`)).toBeNull();
    expect(await store.getRun(`r1-${live}`)).not.toBeNull();
    const horizon = new Date(NOW - 365 * DAY);
    expect((await store.costReport({ by: 'total' })).ledgerPurgedBefore).toEqual(horizon);
    expect((await store.costReport({ by: 'day', since: new Date(NOW - 10 * DAY) })).ledgerPurgedBefore).toBeUndefined();
  }, 120_000);

  it('bad options name the field and write nothing', async () => {
    const logs = await db.collection('deletion_log').countDocuments();
    const id = await makeSession(1000);
    for (const [opts, field] of [
      [{ archive: 'relative/dir' }, 'archive'],
      [{ archive: 'gridfs:no/slash' }, 'archive'],
      [{ purgeLedgerOlderThanDays: -1 }, 'purgeLedgerOlderThanDays'],
      [{ trigger: { kind: 'cron', name: 'x' } }, 'trigger.kind'],
    ] as const) {
      await expect(store.cleanupOldSessions(opts as never)).rejects.toMatchObject({ type: 'InvalidInput', evidence: { field } });
    }
    await expect(store.holdSession(id, { reason: '  ' })).rejects.toMatchObject({ type: 'InvalidInput', evidence: { field: 'reason' } });
    await expect(store.restoreSession('relative.jsonl')).rejects.toMatchObject({ type: 'InvalidInput', evidence: { field: 'archive-ref' } });
    expect(await db.collection('deletion_log').countDocuments()).toBe(logs);
    expect((await store.getSession(id))!.hold).toBeUndefined();
  });
});
