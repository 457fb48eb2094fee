import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Db, type MongoClient } from 'mongodb';
import { createMongoStore, type MongoSessionStore } from '../../src/store/mongo-store.js';
import { batchOf, cliLines, countAll, entry, rawClient, testDbName, testMongoUri } from './helpers.js';

let release: () => Promise<void>;
let store: MongoSessionStore;
let client: MongoClient;
let db: Db;
const existing = randomUUID();

beforeAll(async () => {
  const server = await testMongoUri();
  release = server.release;
  const dbName = testDbName('validation');
  store = createMongoStore({ uri: server.uri, dbName });
  await store.ensureIndexes();
  client = rawClient(server.uri);
  db = client.db(dbName);
  await store.upsertSession({ sessionId: existing, tags: ['a'] });
}, 60_000);

afterAll(async () => {
  await store?.close();
  await client?.close();
  await release?.();
});

const obj = { $gt: '' } as unknown as string;
const id = randomUUID();
const line = cliLines(id, ['x'])[1]!;

// [what, call, field named in the error]
const cases: Array<[string, () => Promise<unknown>, string]> = [
  ['object as session id', () => store.upsertSession({ sessionId: obj }), 'sessionId'],
  ['non-UUID session id', () => store.upsertSession({ sessionId: 'session-1' }), 'sessionId'],
  ['bad tag', () => store.upsertSession({ sessionId: id, tags: ['ok', 'has space'] }), 'tags[1]'],
  ['object as tag', () => store.upsertSession({ sessionId: id, tags: ['ok', obj] }), 'tags[1]'],
  ['empty tag', () => store.upsertSession({ sessionId: id, tags: [''] }), 'tags[0]'],
  ['long tag', () => store.upsertSession({ sessionId: id, tags: ['t'.repeat(129)] }), 'tags[0]'],
  ['object as scope', () => store.upsertSession({ sessionId: id, scope: obj }), 'scope'],
  ['unknown status', () => store.upsertSession({ sessionId: id, status: 'done' as never }), 'status'],
  ['own parent', () => store.upsertSession({ sessionId: id, parentSessionId: id }), 'parentSessionId'],
  ['negative cost', () => store.recordRun(entry({ runId: 'r1', sessionId: id, costUsd: -0.01 })), 'entry.costUsd'],
  ['NaN cost', () => store.recordRun(entry({ runId: 'r1', sessionId: id, cumulativeCostUsd: NaN })), 'entry.cumulativeCostUsd'],
  ['string cost', () => store.recordRun(entry({ runId: 'r1', sessionId: id, costUsd: '1' as never })), 'entry.costUsd'],
  ['bad date', () => store.recordRun(entry({ runId: 'r1', sessionId: id, startedAt: new Date('nope') })), 'entry.startedAt'],
  ['date-like string', () => store.recordRun(entry({ runId: 'r1', sessionId: id, startedAt: 'yesterday' as never, day: '2026-01-01', month: '2026-01' })), 'entry.startedAt'],
  ['day not of startedAt', () => store.recordRun(entry({ runId: 'r1', sessionId: id, day: '2020-01-01' })), 'entry.day'],
  ['$ run id', () => store.recordRun(entry({ runId: '$where', sessionId: id })), 'entry.runId'],
  ['object run id', () => store.appendMessages(id, obj, [{ seq: 0, raw: line }]), 'runId'],
  ['empty run id', () => store.getRun(''), 'runId'],
  ['bad usage', () => store.recordRun(entry({ runId: 'r1', sessionId: id, usageByModel: { m: { inputTokens: -1 } as never } })), 'entry.usageByModel["m"].inputTokens'],
  ['object as raw, after a good line', () => store.appendMessages(id, 'r1', [{ seq: 0, raw: line }, { seq: 1, raw: obj }]), 'batch[1].raw'],
  ['raw not JSON', () => store.appendMessages(id, 'r1', [{ seq: 0, raw: 'not json' }]), 'batch[0].raw'],
  ['raw without type', () => store.appendMessages(id, 'r1', [{ seq: 0, raw: '{"a":1}' }]), 'batch[0].raw.type'],
  ['negative seq', () => store.appendMessages(id, 'r1', [{ seq: -1, raw: line }]), 'batch[0].seq'],
  ['repeated seq', () => store.appendMessages(id, 'r1', [{ seq: 0, raw: line }, { seq: 0, raw: line }]), 'batch[1].seq'],
  ['limit 0', () => store.search({ limit: 0 }), 'limit'],
  ['limit 1001', () => store.listSessions({ limit: 1001 }), 'limit'],
  ['fractional limit', () => store.search({ limit: 2.5 }), 'limit'],
  ['bad after', () => store.search({ after: 'last week' as never }), 'after'],
  ['invalid Date', () => store.search({ updatedBefore: new Date(NaN) }), 'updatedBefore'],
  ['negative minCost', () => store.search({ minCost: -1 }), 'minCost'],
  ['object as model', () => store.search({ model: obj }), 'model'],
  ['operator in tags', () => store.search({ tags: [{ $ne: null } as never] }), 'tags[0]'],
  ['empty tags', () => store.search({ tags: [] }), 'tags'],
  ['garbage cursor', () => store.listSessions({ cursor: 'not a cursor!' }), 'cursor'],
  ['bad keepTag', () => store.cleanupOldSessions({ keepTags: ['ok', 'no way'] }), 'keepTags[1]'],
  ['batchSize 0', () => store.cleanupOldSessions({ batchSize: 0 }), 'batchSize'],
  ['negative maxAgeDays', () => store.cleanupOldSessions({ maxAgeDays: -1 }), 'maxAgeDays'],
  ['unknown dimension', () => store.costReport({ by: 'week' as never }), 'by'],
  ['bad since', () => store.costReport({ by: 'day', since: {} as never }), 'since'],
  ['saveSession id', () => store.saveSession('x', []), 'sessionId'],
  ['saveSession message', () => store.saveSession(id, [{ type: 'user' }, 'text']), 'messages[1]'],
  ['saveSession tag', () => store.saveSession(id, [], { tags: ['#'] }), 'tags[0]'],
  ['tagSession empty', () => store.tagSession(existing, []), 'tags'],
  ['tagSession bad', () => store.tagSession(existing, ['ok', 'b$d']), 'tags[1]'],
  ['untagSession bad', () => store.untagSession(existing, [obj]), 'tags[0]'],
  ['description object', () => store.setDescription(existing, obj), 'description'],
  ['getSession object', () => store.getSession(obj), 'sessionId'],
  ['deleteSession bad', () => store.deleteSession('../etc'), 'sessionId'],
  ['transcript data', () => store.saveTranscript(id, 'r1', 'text' as never), 'data'],
  ['scope object', () => store.latestSessionInScope(obj), 'scope'],
  ['stepKey object', () => store.runsOfStep(obj), 'stepKey'],
  ['import bad row', () => store.importSessions([{ sessionId: id } as never]), 'sessions[0].lineage'],
];

describe('bad input', () => {
  it.each(cases)('%s is rejected naming the field, nothing written', async (_what, call, field) => {
    const before = await countAll(db);
    const session = await store.getSession(existing);
    const error = await call().then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ name: 'ClaudeTemporalError', type: 'InvalidInput', retryable: false, evidence: { field } });
    expect((error as Error).message.startsWith(`Invalid ${field}: `)).toBe(true);
    expect(await countAll(db)).toEqual(before);
    expect(await store.getSession(existing)).toEqual(session);
  });

  it('accepts ISO-8601 strings for dates and normalises UUID case', async () => {
    const upper = randomUUID().toUpperCase();
    await store.upsertSession({ sessionId: upper });
    expect((await store.getSession(upper.toLowerCase()))!.sessionId).toBe(upper.toLowerCase());
    await store.recordRun(entry({ runId: `iso-${upper}`, sessionId: upper, startedAt: '2026-05-01T10:00:00+02:00' as never, day: '2026-05-01', month: '2026-05' }));
    expect((await store.getRun(`iso-${upper}`))!.startedAt).toEqual(new Date('2026-05-01T08:00:00Z'));
    await store.appendMessages(upper, `iso-${upper}`, batchOf(cliLines(upper, ['ok'])));
  });

  it('createMongoStore checks its options', () => {
    expect(() => createMongoStore({ dbName: 'x' } as never)).toThrow(/Invalid options/);
    expect(() => createMongoStore({ uri: 'http://x', dbName: 'x' })).toThrow(/Invalid uri/);
    expect(() => createMongoStore({ uri: 'mongodb://x', dbName: 'a.b' })).toThrow(/Invalid dbName/);
  });
});
