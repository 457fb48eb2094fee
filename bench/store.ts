/**
 * Session store benchmark on a private FerretDB server (temp data dir): batched vs one-by-one
 * message appends, cleanup rate, then `continue` resolution and opening a session by id at growing
 * store sizes, and listing/search latency. Run: `npm run bench:store` (`npx tsx bench/store.ts`).
 * Set MONGODB_URI to run it against a real MongoDB instead (it uses a fresh database and drops it).
 *
 * Sizes (environment variables):
 * - BENCH_MESSAGES: messages appended in each append mode; default 5000.
 * - BENCH_CLEANUP: sessions the cleanup deletes; default 2000.
 * - BENCH_SIZES: store sizes, in sessions, at which `continue` and open-by-id are timed; default 1000,10000,100000.
 * - BENCH_LOOKUPS: timed `continue` and open-by-id calls at each size; default 100.
 * - BENCH_SCAN_MAX: largest size at which the search-based `continue` (the scan the pointer replaces) is timed too; default 10000.
 * - BENCH_SEARCH_AT: the size at which listing and search are timed (FerretDB v1 scans every session for them); default 10000.
 * - BENCH_ITERATIONS: timed runs of each listing/search query; default 5.
 * - BENCH_TRANSCRIPT_MB: transcript sizes, in MB, at which saving one more turn is timed; default 0.15,1,5.
 * - BENCH_SESSION_RUNS: runs in one session at which recording a step (its entry at start and at end) is timed; default 10,100,1000,3000.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { MongoClient } from 'mongodb';
import { createMongoStore, type MongoSessionStore } from '../src/store/mongo-store.js';
import { startPrivateMongo } from './private-mongo.js';
import { ledgerBase } from '../src/activities/ledger-entries.js';
import { SESSION_STATUSES, type RunLedgerEntry, type SearchQuery, type SessionMetadata } from '../src/model/session.js';

const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 5000);
const CLEANUP_SESSIONS = Number(process.env.BENCH_CLEANUP ?? 2000);
const SIZES = (process.env.BENCH_SIZES ?? '1000,10000,100000').split(',').map(Number).sort((a, b) => a - b);
const LOOKUPS = Number(process.env.BENCH_LOOKUPS ?? 100);
const SCAN_MAX = Number(process.env.BENCH_SCAN_MAX ?? 10_000);
const SEARCH_AT = Number(process.env.BENCH_SEARCH_AT ?? 10_000);
const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 5);
const SCOPES = 50;
const TRANSCRIPT_MB = (process.env.BENCH_TRANSCRIPT_MB ?? '0.15,1,5').split(',').map(Number);
const SESSION_RUNS = (process.env.BENCH_SESSION_RUNS ?? '10,100,1000,3000').split(',').map(Number).sort((a, b) => a - b);
/** Steps timed at each of SESSION_RUNS. */
const STEPS_TIMED = 20;

function line(sessionId: string, i: number): string {
  const text = `Reply ${i}: ${'lorem ipsum dolor sit amet '.repeat(30)}`;
  return JSON.stringify({ type: 'assistant', message: { id: `msg_${i}`, role: 'assistant', model: 'claude-sonnet-5-5', content: [{ type: 'text', text }] }, session_id: sessionId, uuid: randomUUID() });
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
}

const fmt = (n: number) => (n >= 100 ? n.toFixed(0) : n.toFixed(1));

async function benchAppends(uri: string): Promise<void> {
  const sid = randomUUID();
  const batch = Array.from({ length: MESSAGES }, (_, i) => ({ seq: i, raw: line(sid, i) }));
  const rates: Record<string, number> = {};
  for (const mode of ['batched', 'single'] as const) {
    // Same data, same run id, each in a fresh database so both start equal.
    const store = createMongoStore({ uri, dbName: `bench_append_${mode}_${Date.now()}` });
    await store.ensureIndexes();
    await store.upsertSession({ sessionId: sid });
    const t0 = performance.now();
    if (mode === 'batched') {
      for (let i = 0; i < batch.length; i += 500) await store.appendMessages(sid, 'run-1', batch.slice(i, i + 500));
    } else {
      for (const m of batch) await store.appendMessages(sid, 'run-1', [m]);
    }
    const s = (performance.now() - t0) / 1000;
    rates[mode] = MESSAGES / s;
    console.log(`append ${mode.padEnd(8)} ${MESSAGES} messages (~${Math.round(Buffer.byteLength(batch[0]!.raw) / 100) / 10} kB each) in ${s.toFixed(2)} s: ${fmt(rates[mode]!)} messages/s`);
    await dropDb(uri, store);
  }
  console.log(`append batched/single ratio: ${(rates.batched! / rates.single!).toFixed(1)}x`);
}

/**
 * Saving a transcript one turn longer, at growing transcript sizes: by a store that compressed the
 * shorter one (only the turn is compressed) and by one that did not (the whole is). The lines carry
 * random text, so they compress about as little as a real session's.
 */
async function benchTranscripts(uri: string): Promise<void> {
  const client = new MongoClient(uri);
  const dbName = `bench_transcripts_${Date.now()}`;
  const turn = () => `${JSON.stringify({ type: 'assistant', uuid: randomUUID(), message: { content: [{ type: 'text', text: randomBytes(1500).toString('base64') }] } })}\n`;
  try {
    const kept = createMongoStore({ client, dbName });
    await kept.ensureIndexes();
    for (const mb of TRANSCRIPT_MB) {
      const sid = randomUUID();
      let plain = '';
      while (plain.length < mb * 1e6) plain += turn();
      await kept.saveTranscript(sid, 'run-0', Buffer.from(plain));
      const times: Record<'appended' | 'whole', number[]> = { appended: [], whole: [] };
      for (let i = 1; i <= 5; i++) {
        for (const mode of ['appended', 'whole'] as const) {
          plain += turn();
          // A store of its own has compressed nothing yet, so it compresses the whole transcript.
          const store = mode === 'appended' ? kept : createMongoStore({ client, dbName });
          const t0 = performance.now();
          await store.saveTranscript(sid, `run-${i}-${mode}`, Buffer.from(plain));
          times[mode].push(performance.now() - t0);
        }
      }
      console.log(`save a transcript of ${mb} MB one turn longer: p50 ${fmt(pct(times.appended, 50))} ms compressing the turn, ${fmt(pct(times.whole, 50))} ms compressing the whole`);
    }
  } finally {
    await client.close();
  }
}

async function dropDb(uri: string, store: MongoSessionStore): Promise<void> {
  await store.close();
  void uri; // databases are dropped at the end (MongoDB) or go with the temp dir (FerretDB)
}

function generate(n: number, now: number): SessionMetadata[] {
  let seed = 7;
  const r = () => ((seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32);
  const tags = ['alpha', 'beta', 'gamma', 'delta', 'team:x', 'team:y', 'env/prod', 'env/dev'];
  const models = ['claude-sonnet-5-5', 'claude-3.5-haiku', 'claude-opus-5'];
  return Array.from({ length: n }, () => {
    const sessionId = randomUUID();
    const createdAt = new Date(now - Math.floor(r() * 365 * 86_400_000));
    const used = models.filter(() => r() < 0.4);
    return {
      sessionId,
      createdAt,
      updatedAt: new Date(createdAt.getTime() + Math.floor(r() * 3 * 86_400_000)),
      messageCount: Math.floor(r() * 200),
      turnCount: Math.floor(r() * 40),
      models: used,
      model: used.at(-1) ?? null,
      tags: tags.filter(() => r() < 0.2),
      description: null,
      summary: 'A generated session for the benchmark',
      status: SESSION_STATUSES[Math.floor(r() * 3)]!,
      scope: `/work/project-${Math.floor(r() * SCOPES)}`,
      lineage: { parentSessionId: null, forkedAtMessage: null, rootSessionId: sessionId },
      origin: { pipeline: 'bench' },
      totalCostUsd: Math.floor(r() * 10_000_000) / 1_000_000,
      lineageCostUsd: 0,
      runCount: 1,
    };
  });
}

async function timed(n: number, q: (i: number) => Promise<unknown>): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await q(i);
    times.push(performance.now() - t);
  }
  return times;
}

function report(name: string, times: number[], size: number): void {
  console.log(`${name.padEnd(52)} p50 ${fmt(pct(times, 50))} ms  p95 ${fmt(pct(times, 95))} ms  (${times.length} runs over ${size} sessions)`);
}

/** Grows one store through the sizes; at each, times `continue` and open-by-id, and listing and search at SEARCH_AT. */
async function benchLookups(uri: string): Promise<void> {
  const now = Date.now();
  const dbName = `bench_search_${Date.now()}`;
  const store = createMongoStore({ uri, dbName });
  const raw = new MongoClient(uri);
  await store.ensureIndexes();
  const data = generate(Math.max(...SIZES, SEARCH_AT), now);
  let loaded = 0;
  for (const size of [...new Set([...SIZES, SEARCH_AT])].sort((a, b) => a - b)) {
    const t0 = performance.now();
    for (; loaded < size; loaded += Math.min(5000, size - loaded)) await store.importSessions(data.slice(loaded, Math.min(loaded + 5000, size)));
    const s = (performance.now() - t0) / 1000;
    console.log(`import to ${size} sessions (bulk, 5000 per insertMany) in ${s.toFixed(1)} s`);
    if (SIZES.includes(size)) {
      report('continue (latestSessionInScope)', await timed(LOOKUPS, (i) => store.latestSessionInScope(`/work/project-${i % SCOPES}`)), size);
      report('open a session by id (loadSession)', await timed(LOOKUPS, (i) => store.loadSession(data[(i * 7919) % size]!.sessionId)), size);
      if (size <= SCAN_MAX) {
        // The search the pointer replaced, for comparison in the same run.
        const sessions = raw.db(dbName).collection('sessions');
        const scan = (i: number) => sessions.find({ scope: `/work/project-${i % SCOPES}` }).sort({ updatedAt: -1, _id: -1 }).limit(1).next();
        report('continue by search (before: a scan on FerretDB)', await timed(Math.min(LOOKUPS, ITERATIONS * 2), scan), size);
      }
    }
    if (size === SEARCH_AT) await benchSearch(store, size, now);
  }
  await raw.close();
  await store.close();
}

async function benchSearch(store: MongoSessionStore, size: number, now: number): Promise<void> {
  const day = 86_400_000;
  const page2 = (await store.listSessions({ limit: 50 })).nextCursor;
  const page3 = (await store.listSessions({ limit: 50, cursor: page2 })).nextCursor;
  const queries: Array<[string, () => Promise<unknown>]> = [
    ['listSessions first page (50)', () => store.listSessions({ limit: 50 })],
    ['listSessions page 3 from its cursor (50)', () => store.listSessions({ limit: 50, cursor: page3 })],
    ['search tags any of [team:x] (50)', () => store.search({ tags: ['team:x'], limit: 50 })],
    ['search allTags [alpha, env/prod] (50)', () => store.search({ allTags: ['alpha', 'env/prod'], limit: 50 })],
    ['search scope + status (50)', () => store.search({ scope: '/work/project-7', status: 'completed', limit: 50 })],
    ['search created last 7 days + minCost 5 (50)', () => store.search({ after: new Date(now - 7 * day), minCost: 5, limit: 50 } satisfies SearchQuery)],
    ['search model + updated last 30 days (50)', () => store.search({ model: 'claude-opus-5', updatedAfter: new Date(now - 30 * day), limit: 50 })],
  ];
  // FerretDB v1 filters and sorts in its own process (no index-backed query), so these take time that
  // grows with the store: a few runs per query are enough there. On MongoDB raise BENCH_ITERATIONS.
  for (const [name, q] of queries) {
    if (ITERATIONS >= 10) await q(); // warm-up
    report(`search ${name}`, await timed(ITERATIONS, q), size);
  }
}

async function benchCleanup(uri: string): Promise<void> {
  let now = Date.now() - 60 * 86_400_000;
  const store = createMongoStore({ uri, dbName: `bench_cleanup_${Date.now()}`, now: () => new Date(now) });
  await store.ensureIndexes();
  const old = generate(CLEANUP_SESSIONS, now).map((s) => ({ ...s, createdAt: new Date(now - 86_400_000), updatedAt: new Date(now - 86_400_000) }));
  await store.importSessions(old);
  for (const s of old) {
    await store.appendMessages(s.sessionId, `run-${s.sessionId}`, Array.from({ length: 5 }, (_, i) => ({ seq: i, raw: line(s.sessionId, i) })));
  }
  now = Date.now();
  const t0 = performance.now();
  const r = await store.cleanupOldSessions({ maxAgeDays: 30, batchSize: 200 });
  const s = (performance.now() - t0) / 1000;
  console.log(`cleanup ${r.sessionIds.length} sessions (5 messages each, batches of 200) in ${s.toFixed(2)} s: ${fmt(r.sessionIds.length / s)} sessions/s`);
  await store.close();
}

/** A step's ledger entries, as the step activity writes them: `running` at its start, settled at its end. */
function stepEntries(sessionId: string, n: number): [RunLedgerEntry, RunLedgerEntry] {
  const stepKey = `${sessionId}/step-${n}`;
  const start = ledgerBase({ stepKey, mode: 'resume', prompt: `Step ${n}`, sessionId }, `${stepKey}#1`, sessionId, 1, new Date(Date.UTC(2026, 0, 1) + n * 60_000));
  const model = 'claude-sonnet-5-5';
  const usage = { inputTokens: 100, outputTokens: 50, cacheReadInputTokens: 0, cacheCreationInputTokens: 0, costUSD: 0.01 };
  const settled = { status: 'success', subtype: 'success', costUsd: 0.01, cumulativeCostUsd: 0.01 * (n + 1), usageByModel: { [model]: usage }, model } as const;
  return [start, { ...start, ...settled, numTurns: 1, messageCount: 3, assistantMessages: 1, summary: `Reply ${n}`, exitCode: 0, finishedAt: new Date(), durationMs: 1000 }];
}

/** One session grown run by run; at each of SESSION_RUNS, the time to record a step's two entries. */
async function benchLongSession(uri: string): Promise<void> {
  const store = createMongoStore({ uri, dbName: `bench_long_${Date.now()}` });
  await store.ensureIndexes();
  const sid = randomUUID();
  await store.upsertSession({ sessionId: sid });
  let n = 0;
  const t0 = performance.now();
  for (const size of SESSION_RUNS) {
    for (; n < size - STEPS_TIMED; n++) for (const e of stepEntries(sid, n)) await store.recordRun(e);
    const times: number[] = [];
    for (; n < size; n++) {
      const a = performance.now();
      for (const e of stepEntries(sid, n)) await store.recordRun(e);
      times.push(performance.now() - a);
    }
    console.log(`${'record a step (entry at start and end)'.padEnd(52)} p50 ${fmt(pct(times, 50))} ms  p95 ${fmt(pct(times, 95))} ms  (${times.length} steps, at ${size} runs in the session)`);
  }
  console.log(`one session grown to ${n} runs in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  await store.close();
}

async function main(): Promise<void> {
  const server = await startPrivateMongo('store');
  console.log(`store bench on ${process.env.MONGODB_URI ? 'MONGODB_URI' : 'FerretDB v1 (SQLite) in a temp dir'}, node ${process.version}`);
  try {
    await benchAppends(server.uri);
    await benchCleanup(server.uri);
    await benchTranscripts(server.uri);
    await benchLongSession(server.uri);
    await benchLookups(server.uri);
  } finally {
    if (process.env.MONGODB_URI) {
      const c = new MongoClient(server.uri);
      for (const d of (await c.db().admin().listDatabases()).databases) if (d.name.startsWith('bench_')) await c.db(d.name).dropDatabase();
      await c.close();
    }
    await server.stop();
  }
}

await main();
