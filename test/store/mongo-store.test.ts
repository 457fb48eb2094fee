import { createHash, randomUUID } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GridFSBucket, type Db, type MongoClient } from 'mongodb';
import { createMongoStore, savedRunId, type MongoSessionStore } from '../../src/store/mongo-store.js';
import { batchOf, cliLines, collect, countAll, entry, rawClient, testDbName, testMongoUri, usage } from './helpers.js';

let release: () => Promise<void>;
let store: MongoSessionStore;
let client: MongoClient;
let db: Db;

beforeAll(async () => {
  const server = await testMongoUri();
  release = server.release;
  const dbName = testDbName('mongo-store');
  store = createMongoStore({ uri: server.uri, dbName });
  await store.ensureIndexes();
  client = rawClient(server.uri);
  db = client.db(dbName);
}, 60_000);

afterAll(async () => {
  await store?.close();
  await client?.close();
  await release?.();
});

describe('indexes', () => {
  it('ensureIndexes is idempotent', async () => {
    await store.ensureIndexes();
    const names = (await db.collection('sessions').listIndexes().toArray()).map((i) => i.name);
    expect(names).toEqual(expect.arrayContaining(['updatedAt_id', 'tags_updatedAt_id', 'lineage_parent']));
  });
});

describe('messages', () => {
  it('appending the same batch twice stores it once', async () => {
    const sid = randomUUID();
    await store.upsertSession({ sessionId: sid });
    const batch = batchOf(cliLines(sid, ['one', 'two']));
    expect(await store.appendMessages(sid, 'run-a', batch)).toEqual({ inserted: 4, duplicates: 0 });
    expect(await store.appendMessages(sid, 'run-a', batch)).toEqual({ inserted: 0, duplicates: 4 });
    // A retry that overlaps: two old, one new.
    const more = batchOf([...cliLines(sid, ['three']).slice(1, 2)], 4);
    expect(await store.appendMessages(sid, 'run-a', [...batch.slice(2), ...more])).toEqual({ inserted: 1, duplicates: 2 });
    const loaded = await store.loadSession(sid);
    if (!loaded.found) throw new Error('not found');
    const msgs = await collect(loaded.session.messages());
    expect(msgs.map((m) => m.seq)).toEqual([0, 1, 2, 3, 4]);
    expect(msgs[0]).toMatchObject({ sessionId: sid, runId: 'run-a', type: 'system', subtype: 'init' });
    expect(msgs.map((m) => m.raw)).toEqual([...batch.map((b) => b.raw), more[0]!.raw]);
  });

  it('keeps keys with . and $ byte-identical', async () => {
    const sid = randomUUID();
    const raw = '{"type":"user","tool_use_result":{"a.b":1,"$set":{"$gt":""},"x.y.z":["é","\\u0000"]},  "spacing" : 2}';
    await store.appendMessages(sid, 'run-keys', [{ seq: 0, raw }]);
    await store.upsertSession({ sessionId: sid });
    const loaded = await store.loadSession(sid);
    if (!loaded.found) throw new Error('not found');
    const [m] = await collect(loaded.session.messages());
    expect(m?.raw).toBe(raw);
    expect(Buffer.from(m!.raw)).toEqual(Buffer.from(raw));
  });

  it('orders messages across runs by run start, then seq', async () => {
    let t = Date.parse('2026-01-01T00:00:00Z');
    const clocked = createMongoStore({ client, dbName: db.databaseName, now: () => new Date((t += 1000)) });
    const sid = randomUUID();
    await clocked.upsertSession({ sessionId: sid });
    // Run z starts first, run a second: order follows start, not the run id.
    const [z, a] = [`z-${sid}`, `a-${sid}`];
    await clocked.appendMessages(sid, z, batchOf(cliLines(sid, ['z1'])).slice(0, 2));
    await clocked.appendMessages(sid, a, batchOf(cliLines(sid, ['a1'])).slice(0, 2));
    await clocked.appendMessages(sid, z, batchOf(cliLines(sid, ['z1'])).slice(2));
    const loaded = await clocked.loadSession(sid);
    if (!loaded.found) throw new Error('not found');
    const msgs = await collect(loaded.session.messages());
    expect(msgs.map((m) => `${m.runId}:${m.seq}`)).toEqual([`${z}:0`, `${z}:1`, `${z}:2`, `${a}:0`, `${a}:1`]);
    await clocked.close(); // does not close a client it was given
    expect(await store.getSession(sid)).not.toBeNull();
  });

  it('stores a 20 MB message in GridFS and loads it back byte-identical', async () => {
    const sid = randomUUID();
    await store.upsertSession({ sessionId: sid });
    const big = JSON.stringify({ type: 'user', message: { content: [{ type: 'tool_result', content: 'é€'.repeat(4 * 1024 * 1024) + 'x'.repeat(8 * 1024 * 1024) }] } });
    expect(Buffer.byteLength(big)).toBeGreaterThan(20 * 1024 * 1024);
    const batch = [{ seq: 0, raw: cliLines(sid, [])[0]! }, { seq: 1, raw: big }, { seq: 2, raw: cliLines(sid, ['after'])[1]! }];
    expect(await store.appendMessages(sid, 'run-big', batch)).toEqual({ inserted: 3, duplicates: 0 });
    expect(await store.appendMessages(sid, 'run-big', batch)).toEqual({ inserted: 0, duplicates: 3 });
    const loaded = await store.loadSession(sid);
    if (!loaded.found) throw new Error('not found');
    const msgs = await collect(loaded.session.messages());
    expect(msgs).toHaveLength(3);
    expect(msgs[1]!.raw.length).toBe(big.length);
    expect(msgs[1]!.raw === big).toBe(true);
    expect(msgs[1]!.type).toBe('user');
    expect(await db.collection('message_overflow.files').countDocuments({ 'metadata.sessionId': sid })).toBe(1);
    // Discarding the run removes the overflow file too.
    expect(await store.discardRunMessages(sid, 'run-big')).toBe(3);
    expect(await db.collection('message_overflow.files').countDocuments({ 'metadata.sessionId': sid })).toBe(0);
    expect(await db.collection('message_overflow.chunks').countDocuments({})).toBe(0);
  }, 120_000);

  it('finishes an overflow write interrupted after the upload', async () => {
    const sid = randomUUID();
    const small = createMongoStore({ client, dbName: db.databaseName, inlineMessageLimitBytes: 100 });
    const raw = JSON.stringify({ type: 'user', pad: 'p'.repeat(500) });
    await small.appendMessages(sid, 'run-ov', [{ seq: 0, raw }]);
    // Lose the reference document: the file is there, the retry only adds the reference.
    await db.collection('messages').deleteOne({ _id: 'run-ov:0' } as never);
    expect(await small.appendMessages(sid, 'run-ov', [{ seq: 0, raw }])).toEqual({ inserted: 1, duplicates: 0 });
    // Lose the file document mid-upload: stray chunks are removed and the upload redone.
    await db.collection('messages').deleteOne({ _id: 'run-ov:0' } as never);
    await db.collection('message_overflow.files').deleteOne({ _id: 'run-ov:0' } as never);
    expect(await small.appendMessages(sid, 'run-ov', [{ seq: 0, raw }])).toEqual({ inserted: 1, duplicates: 0 });
    await small.upsertSession({ sessionId: sid });
    const loaded = await small.loadSession(sid);
    if (!loaded.found) throw new Error('not found');
    expect((await collect(loaded.session.messages())).map((m) => m.raw)).toEqual([raw]);
    expect(await db.collection('message_overflow.chunks').countDocuments({ files_id: 'run-ov:0' })).toBe(1);
  });

  it('rejects a run id used by another session', async () => {
    const a = randomUUID();
    const b = randomUUID();
    await store.appendMessages(a, 'run-owned', batchOf(cliLines(a, ['x'])));
    await expect(store.appendMessages(b, 'run-owned', batchOf(cliLines(b, ['x'])))).rejects.toMatchObject({ type: 'InvalidInput', evidence: { field: 'runId' } });
    expect(await db.collection('messages').countDocuments({ sessionId: b })).toBe(0);
  });
});

describe('runs and totals', () => {
  it('recordRun is idempotent and recomputes totals from ledger and messages', async () => {
    const sid = randomUUID();
    await store.upsertSession({ sessionId: sid, tags: ['team:a'], scope: '/work/p', origin: { pipeline: 'review', workflowId: 'wf-1', step: 'draft' } });
    await store.appendMessages(sid, 'run-1', batchOf(cliLines(sid, ['First answer '.repeat(30), 'second'])));
    const e1 = entry({
      runId: 'run-1',
      sessionId: sid,
      costUsd: 0.1,
      cumulativeCostUsd: 0.1,
      usageByModel: { 'claude-3.5-haiku': usage(0.1, 100, 10) },
      model: 'claude-3.5-haiku',
      stepKey: 'wf-1/0',
      tags: ['run-tag'],
      startedAt: new Date('2026-03-01T10:00:00Z'),
    });
    await store.recordRun(e1);
    await store.recordRun(e1);
    await store.appendMessages(sid, 'run-2', batchOf(cliLines(sid, ['third'], 'claude-sonnet-5-5')));
    const e2 = entry({
      runId: 'run-2',
      sessionId: sid,
      mode: 'resume',
      costUsd: 0.2,
      cumulativeCostUsd: 0.3,
      usageByModel: { 'claude-sonnet-5-5': usage(0.2, 200, 20) },
      model: 'claude-sonnet-5-5',
      stepKey: 'wf-1/1',
      startedAt: new Date('2026-03-02T10:00:00Z'),
    });
    await store.recordRun(e2);
    await store.recordRun(e2);
    const s = await store.getSession(sid);
    expect(s).toMatchObject({
      totalCostUsd: 0.3,
      lineageCostUsd: 0.3,
      runCount: 2,
      messageCount: 7,
      turnCount: 3,
      models: ['claude-3.5-haiku', 'claude-sonnet-5-5'],
      model: 'claude-sonnet-5-5',
      status: 'completed',
      scope: '/work/p',
      origin: { pipeline: 'review', workflowId: 'wf-1', step: 'draft' },
      lineage: { parentSessionId: null, forkedAtMessage: null, rootSessionId: sid },
    });
    expect(s!.tags.sort()).toEqual(['run-tag', 'team:a']);
    expect(s!.summary).toBe('First answer '.repeat(30).trim().slice(0, 200));
    const got = await store.getRun('run-1');
    expect(got).toMatchObject({ runId: 'run-1', sessionId: sid, costUsd: 0.1, usageByModel: { 'claude-3.5-haiku': usage(0.1, 100, 10) }, day: '2026-03-01', month: '2026-03' });
    expect(got!.startedAt).toEqual(new Date('2026-03-01T10:00:00Z'));
    expect(got!.tags.sort()).toEqual(['run-tag', 'team:a']);
    expect(await store.getRun('nope')).toBeNull();
  });

  it("a run's end recorded from its start is recorded as recordRun records it; tags changed meanwhile stay; a retry reads; an entry of another run is refused", async () => {
    const record = async (sid: string, fromStart: boolean) => {
      await store.upsertSession({ sessionId: sid, tags: ['team:a', 'team:b'], scope: '/work/p' });
      const e = (status: 'running' | 'success', costUsd: number) =>
        entry({ runId: `${sid}-run`, sessionId: sid, status, costUsd, cumulativeCostUsd: costUsd, usageByModel: { 'claude-3.5-haiku': usage(costUsd, 100, 10) }, model: 'claude-3.5-haiku', assistantMessages: 1, messageCount: 2 });
      const started = fromStart ? await store.startRun(e('running', 0), { session: { sessionId: sid, tags: ['step-tag'] } }) : null;
      if (!started) await store.recordRun(e('running', 0), { session: { sessionId: sid, tags: ['step-tag'] } });
      // While the run holds the session, its tags change.
      await store.tagSession(sid, ['added-later']);
      await store.untagSession(sid, ['team:b']);
      const done = e('success', 0.25);
      const transcript = new TextEncoder().encode(`{"session":"${sid}"}\n`);
      if (started) await started.record(done, { transcript });
      else await store.recordRun(done, { transcript });
      const { sessionId: _s, createdAt: _c, updatedAt: _u, lineage: _l, ...session } = (await store.getSession(sid))!;
      const { runId: _r, sessionId: _rs, ...run } = (await store.getRun(done.runId))!;
      return { session: { ...session, tags: session.tags.sort() }, run: { ...run, tags: run.tags.sort() }, transcript: new TextDecoder().decode((await store.loadTranscript(sid))!).replace(sid, '') };
    };
    const fromStart = await record(randomUUID(), true);
    expect(fromStart).toEqual(await record(randomUUID(), false));
    expect(fromStart.run.tags).toEqual(['added-later', 'step-tag', 'team:a']);

    // A retry reads: what changed since the start is not undone.
    const retried = randomUUID();
    const done = entry({ runId: `${retried}-run`, sessionId: retried, costUsd: 0.5, cumulativeCostUsd: 0.5 });
    const started = await store.startRun({ ...done, status: 'running', costUsd: 0, cumulativeCostUsd: 0 }, { session: { sessionId: retried } });
    await started.record(done);
    await store.recordRun(entry({ runId: `${retried}-other`, sessionId: retried, costUsd: 0.25, cumulativeCostUsd: 0.75 }));
    await started.record(done);
    expect((await store.getSession(retried))!.totalCostUsd).toBe(0.75);

    const sid = randomUUID();
    const other = entry({ runId: `${sid}-other`, sessionId: sid });
    const begun = await store.startRun(entry({ runId: `${sid}-started`, sessionId: sid, status: 'running' }));
    await expect(begun.record(other)).rejects.toMatchObject({ type: 'InvalidInput' });
    expect(await store.getRun(other.runId)).toBeNull();
  });

  it("a run id recorded under another session is refused, and changes nothing the other session's totals derive from", async () => {
    const [mine, theirs] = [randomUUID(), randomUUID()];
    const run = entry({ runId: `${mine}-run`, sessionId: mine, status: 'success', costUsd: 0.4, cumulativeCostUsd: 0.4 });
    await store.recordRun(run);
    const before = await store.getSession(mine);
    const taken = { ...run, sessionId: theirs, costUsd: 9, cumulativeCostUsd: 9 };
    await expect(store.recordRun(taken, { session: { sessionId: theirs, tags: ['x'] } })).rejects.toMatchObject({
      type: 'InvalidInput',
      message: expect.stringContaining(`Invalid entry.sessionId: differs from the session of run ${run.runId} (${mine})`),
    });
    expect(await store.getRun(run.runId)).toMatchObject({ sessionId: mine, costUsd: 0.4 });
    expect(await store.getSession(theirs)).toBeNull();
    expect((await store.getSession(mine))!.totalCostUsd).toBe(before!.totalCostUsd);
  });

  it("a fork's start takes its lineage root from the parent it was given, and a record answers how many transcripts it replaced", async () => {
    const [root, parent, fork] = [randomUUID(), randomUUID(), randomUUID()];
    await store.upsertSession({ sessionId: root });
    await store.upsertSession({ sessionId: parent, parentSessionId: root });
    const read = (await store.getSession(parent))!;
    const session = { sessionId: fork, parentSessionId: parent, forkedAtMessage: 3 };
    const start = entry({ runId: `${fork}-run`, sessionId: fork, status: 'running' });
    await expect(store.recordRun(start, { session, parent: { sessionId: root, rootSessionId: root } })).rejects.toMatchObject({ type: 'InvalidInput', message: expect.stringContaining('options.parent.sessionId') });
    expect(await store.getSession(fork)).toBeNull();
    expect(await store.recordRun(start, { session, parent: { sessionId: parent, rootSessionId: read.lineage.rootSessionId } })).toBe(0);
    expect((await store.getSession(fork))!.lineage).toEqual({ parentSessionId: parent, forkedAtMessage: 3, rootSessionId: root });
    const transcript = new TextEncoder().encode('{"type":"user"}\n');
    const done = { ...start, status: 'success' as const };
    expect(await store.recordRun(done, { transcript })).toBe(0);
    expect(await (await store.startRun(start)).record(done, { transcript })).toBe(1);
    expect(await store.pruneTranscripts(fork)).toBe(1);

    // A new session's start recorded without reads (`fresh`) is the start recorded with them.
    const started = async (fresh: boolean) => {
      const sid = randomUUID();
      const run = entry({ runId: `${sid}-run`, sessionId: sid, status: 'running', tags: ['t'] });
      await store.recordRun(run, { session: { sessionId: sid, parentSessionId: parent, forkedAtMessage: 1, scope: '/work/f', tags: ['s'] }, fresh });
      const { sessionId: _s, createdAt: _c, updatedAt: _u, ...session } = (await store.getSession(sid))!;
      const { runId: _r, sessionId: _rs, ...recorded } = (await store.getRun(run.runId))!;
      return { session, recorded };
    };
    expect(await started(true)).toEqual(await started(false));
  });

  it('runsOfStep lists the attempts of a step, oldest first', async () => {
    const sid = randomUUID();
    const step = `wf-${randomUUID()}/3`;
    await store.recordRun(entry({ runId: `${step}#2`, sessionId: sid, stepKey: step, attempt: 2, status: 'success', startedAt: new Date('2026-03-05T00:01:00Z') }));
    await store.recordRun(entry({ runId: `${step}#1`, sessionId: sid, stepKey: step, attempt: 1, status: 'failed', failureType: 'Overloaded', startedAt: new Date('2026-03-05T00:00:00Z') }));
    const runs = await store.runsOfStep(step);
    expect(runs.map((r) => [r.runId, r.attempt, r.status, r.failureType])).toEqual([
      [`${step}#1`, 1, 'failed', 'Overloaded'],
      [`${step}#2`, 2, 'success', null],
    ]);
    // recordRun created the session.
    expect(await store.getSession(sid)).toMatchObject({ runCount: 2, status: 'completed' });
    expect(await store.runsOfStep('no-such-step')).toEqual([]);
  });

  it('discardRunMessages removes a failed attempt and recomputes the counts', async () => {
    const sid = randomUUID();
    await store.upsertSession({ sessionId: sid });
    await store.appendMessages(sid, 'ok-run', batchOf(cliLines(sid, ['kept'])));
    await store.appendMessages(sid, 'bad-run', batchOf(cliLines(sid, ['dropped', 'dropped too'])));
    await store.recordRun(entry({ runId: 'ok-run', sessionId: sid }));
    expect((await store.getSession(sid))!.messageCount).toBe(7);
    expect(await store.discardRunMessages(sid, 'bad-run')).toBe(4);
    expect(await store.discardRunMessages(sid, 'bad-run')).toBe(0);
    expect(await store.getSession(sid)).toMatchObject({ messageCount: 3, turnCount: 1, summary: 'kept' });
  });
});

describe('sessions', () => {
  it('upsertSession adds tags, keeps createdAt and sets the given fields', async () => {
    const sid = randomUUID();
    await store.upsertSession({ sessionId: sid, tags: ['a', 'b'], description: 'first', status: 'active' });
    const first = await store.getSession(sid);
    await store.upsertSession({ sessionId: sid, tags: ['b', 'c'], scope: '/x' });
    const second = await store.getSession(sid);
    expect(second!.tags).toEqual(['a', 'b', 'c']);
    expect(second!.createdAt).toEqual(first!.createdAt);
    expect(second!).toMatchObject({ description: 'first', scope: '/x', status: 'active', messageCount: 0, totalCostUsd: 0 });
    expect(second!.updatedAt.getTime()).toBeGreaterThanOrEqual(first!.updatedAt.getTime());
  });

  it('tags, untags and describes; unknown ids are SessionNotFound', async () => {
    const sid = randomUUID();
    await store.upsertSession({ sessionId: sid, tags: ['keep'] });
    await store.recordRun(entry({ runId: `r-${sid}`, sessionId: sid }));
    expect((await store.tagSession(sid, ['x', 'y', 'x'])).tags).toEqual(['keep', 'x', 'y']);
    expect((await store.getRun(`r-${sid}`))!.tags.sort()).toEqual(['keep', 'x', 'y']);
    expect((await store.untagSession(sid, ['x', 'absent'])).tags).toEqual(['keep', 'y']);
    expect((await store.getRun(`r-${sid}`))!.tags.sort()).toEqual(['keep', 'y']);
    expect((await store.setDescription(sid, 'hello')).description).toBe('hello');
    expect((await store.setDescription(sid, null)).description).toBeNull();
    const missing = randomUUID();
    await expect(store.tagSession(missing, ['x'])).rejects.toMatchObject({ type: 'SessionNotFound' });
    await expect(store.untagSession(missing, ['x'])).rejects.toMatchObject({ type: 'SessionNotFound' });
    await expect(store.setDescription(missing, 'x')).rejects.toMatchObject({ type: 'SessionNotFound' });
    expect(await store.getSession(missing)).toBeNull();
  });

  it('latestSessionInScope returns the most recently updated session of a directory', async () => {
    let t = Date.parse('2026-02-01T00:00:00Z');
    const clocked = createMongoStore({ client, dbName: db.databaseName, now: () => new Date((t += 1000)) });
    const scope = `/scope/${randomUUID()}`;
    const [a, b] = [randomUUID(), randomUUID()];
    await clocked.upsertSession({ sessionId: a, scope });
    await clocked.upsertSession({ sessionId: b, scope });
    expect((await clocked.latestSessionInScope(scope))!.sessionId).toBe(b);
    await clocked.upsertSession({ sessionId: a, status: 'completed' });
    expect((await clocked.latestSessionInScope(scope))!.sessionId).toBe(a);
    expect(await clocked.latestSessionInScope('/nowhere')).toBeNull();
  });

  it('saveSession and loadSession round-trip the seed API, idempotently', async () => {
    const sid = randomUUID();
    const messages = [
      { type: 'system', subtype: 'init', session_id: sid, 'odd.key': { $weird: true } },
      { type: 'assistant', message: { role: 'assistant', model: 'claude-sonnet-5-5', content: [{ type: 'text', text: 'Saved reply' }] } },
      { type: 'result', subtype: 'success', is_error: false, total_cost_usd: 0.0022, num_turns: 1, modelUsage: { 'claude-sonnet-5-5': { inputTokens: 1000, outputTokens: 20, cacheReadInputTokens: 0, cacheCreationInputTokens: 0, costUSD: 0.0022, contextWindow: 1 } } },
    ];
    const meta = await store.saveSession(sid, messages, { tags: ['seed'], description: 'imported' });
    expect(meta).toMatchObject({ sessionId: sid, tags: ['seed'], description: 'imported', messageCount: 3, turnCount: 1, totalCostUsd: 0.0022, runCount: 1, model: 'claude-sonnet-5-5', summary: 'Saved reply' });
    const again = await store.saveSession(sid, messages, { tags: ['seed'] });
    expect(again).toMatchObject({ messageCount: 3, totalCostUsd: 0.0022, runCount: 1, description: 'imported' });
    const loaded = await store.loadSession(sid);
    if (!loaded.found) throw new Error('not found');
    const msgs = await collect(loaded.session.messages());
    expect(msgs.map((m) => JSON.parse(m.raw))).toEqual(messages);
    expect(msgs.every((m) => m.runId === savedRunId(sid))).toBe(true);
    // Saving fewer messages replaces the saved run.
    const shorter = await store.saveSession(sid, messages.slice(0, 2));
    expect(shorter).toMatchObject({ messageCount: 2, runCount: 0, totalCostUsd: 0 });
    const missing = randomUUID();
    expect(await store.loadSession(missing)).toEqual({ found: false, sessionId: missing });
  });

  it('getLineage returns ancestors root first and the forks as a tree', async () => {
    const [root, child, grandchild, sibling, other] = [randomUUID(), randomUUID(), randomUUID(), randomUUID(), randomUUID()];
    await store.upsertSession({ sessionId: root, description: 'root' });
    await store.upsertSession({ sessionId: child, parentSessionId: root, forkedAtMessage: 4 });
    await store.upsertSession({ sessionId: grandchild, parentSessionId: child, forkedAtMessage: 9 });
    await store.upsertSession({ sessionId: sibling, parentSessionId: root, forkedAtMessage: 2 });
    await store.upsertSession({ sessionId: other });
    expect((await store.getSession(grandchild))!.lineage).toEqual({ parentSessionId: child, forkedAtMessage: 9, rootSessionId: root });
    const fromGrandchild = await store.getLineage(grandchild);
    expect(fromGrandchild.ancestors.map((a) => a.sessionId)).toEqual([root, child]);
    expect(fromGrandchild.tree).toMatchObject({ sessionId: grandchild, children: [] });
    const fromRoot = await store.getLineage(root);
    expect(fromRoot.ancestors).toEqual([]);
    expect(fromRoot.tree.description).toBe('root');
    const kids = fromRoot.tree.children.map((c) => [c.sessionId, c.forkedAtMessage, c.children.map((g) => g.sessionId)]);
    expect(kids).toEqual(expect.arrayContaining([[child, 4, [grandchild]], [sibling, 2, []]]));
    expect(kids).toHaveLength(2);
    await expect(store.getLineage(randomUUID())).rejects.toMatchObject({ type: 'SessionNotFound' });
  });

  it('a run recorded before upsertSession keeps the lineage the upsert gives', async () => {
    const [parent, fork] = [randomUUID(), randomUUID()];
    await store.upsertSession({ sessionId: parent });
    await store.recordRun(entry({ runId: `fork-${fork}`, sessionId: fork, mode: 'fork', costUsd: 0.05, cumulativeCostUsd: 0.15 }));
    await store.upsertSession({ sessionId: fork, parentSessionId: parent, forkedAtMessage: 3 });
    expect(await store.getSession(fork)).toMatchObject({ totalCostUsd: 0.05, lineageCostUsd: 0.15, lineage: { parentSessionId: parent, forkedAtMessage: 3, rootSessionId: parent } });
  });
});

describe('transcripts', () => {
  it('keeps one current transcript per session', async () => {
    const sid = randomUUID();
    expect(await store.loadTranscript(sid)).toBeNull();
    const first = new TextEncoder().encode('{"line":1}\n');
    const second = new Uint8Array(600_000).map((_, i) => i % 251);
    await store.saveTranscript(sid, 'run-1', first);
    expect(await store.loadTranscript(sid)).toEqual(first);
    await store.saveTranscript(sid, 'run-2', second);
    await store.saveTranscript(sid, 'run-2', second); // a retry
    expect(Buffer.from((await store.loadTranscript(sid))!)).toEqual(Buffer.from(second));
    expect(await db.collection('transcripts.files').countDocuments({ 'metadata.sessionId': sid })).toBe(1);
  });

  it('digests the plain transcript, keeps older files until pruned, and stores ordinary gzip GridFS files', async () => {
    const sid = randomUUID();
    const [a, b] = [new TextEncoder().encode('{"turn":1}\n'), new TextEncoder().encode('{"turn":1}\n{"turn":2}\n'.repeat(30_000))];
    expect(await store.transcriptDigest(sid)).toBeNull();
    await store.saveTranscript(sid, 'run-a', a);
    await store.saveTranscript(sid, 'run-b', b, { prune: false });
    expect(await store.transcriptDigest(sid)).toBe(createHash('sha256').update(b).digest('hex'));
    expect(await db.collection('transcripts.files').countDocuments({ 'metadata.sessionId': sid })).toBe(2);
    expect(await store.pruneTranscripts(sid)).toBe(1);
    expect(await store.pruneTranscripts(sid)).toBe(0);
    expect(Buffer.from((await store.loadTranscript(sid))!)).toEqual(Buffer.from(b));
    // What any GridFS reader sees: one whole file, gzip of the transcript, smaller than it.
    const file = (await db.collection('transcripts.files').findOne({ 'metadata.sessionId': sid }))!;
    expect(file.metadata).toMatchObject({ runId: 'run-b', encoding: 'gzip' });
    const stored = await new Promise<Buffer>((resolve, reject) => {
      const parts: Buffer[] = [];
      new GridFSBucket(db, { bucketName: 'transcripts' })
        .openDownloadStream(file._id)
        .on('data', (d: Buffer) => parts.push(d))
        .on('error', reject)
        .on('end', () => resolve(Buffer.concat(parts)));
    });
    expect(stored.length).toBeLessThan(b.length / 2);
    expect(gunzipSync(stored)).toEqual(Buffer.from(b));
  });

  it('reads a transcript stored as a plain GridFS file before the pointers', async () => {
    const sid = randomUUID();
    const data = Buffer.from('{"legacy":true}\n');
    await new Promise<void>((resolve, reject) => {
      const up = new GridFSBucket(db, { bucketName: 'transcripts' }).openUploadStream(`${sid}.jsonl`, { metadata: { sessionId: sid, runId: 'old' } });
      up.once('finish', () => resolve()).once('error', reject).end(data);
    });
    expect(Buffer.from((await store.loadTranscript(sid))!)).toEqual(data);
    expect(await store.transcriptDigest(sid)).toBeNull();
  });
});

describe('deleteSession', () => {
  it('deletes the session and what hangs off it, keeps its ledger entries and leaves a tombstone', async () => {
    const sid = randomUUID();
    const keep = randomUUID();
    for (const id of [sid, keep]) {
      await store.upsertSession({ sessionId: id });
      await store.appendMessages(id, `del-${id}`, batchOf(cliLines(id, ['x'])));
      await store.recordRun(entry({ runId: `del-${id}`, sessionId: id, costUsd: 1 }));
      await store.saveTranscript(id, `del-${id}`, new Uint8Array([1, 2, 3]));
    }
    expect(await store.deleteSession(sid)).toBe(true);
    expect(await store.deleteSession(sid)).toBe(false);
    expect(await store.getSession(sid)).toBeNull();
    // The books outlive the session.
    expect(await store.getRun(`del-${sid}`)).toMatchObject({ costUsd: 1 });
    expect(await store.getTombstone(sid)).toMatchObject({ sessionId: sid });
    expect((await store.deletionLog({ limit: 1 }))[0]).toMatchObject({ trigger: { kind: 'command', name: 'deleteSession' }, sessionIds: [sid] });
    expect(await store.loadTranscript(sid)).toBeNull();
    expect(await db.collection('messages').countDocuments({ sessionId: sid })).toBe(0);
    expect(await db.collection('run_starts').countDocuments({ sessionId: sid })).toBe(0);
    expect(await store.getSession(keep)).toMatchObject({ messageCount: 3, totalCostUsd: 1 });
    expect(await store.loadTranscript(keep)).toEqual(new Uint8Array([1, 2, 3]));
    const counts = await countAll(db);
    expect(counts.sessions).toBeGreaterThan(0);
  });
});
