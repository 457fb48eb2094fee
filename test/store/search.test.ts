import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMongoStore, type MongoSessionStore } from '../../src/store/mongo-store.js';
import { SESSION_STATUSES, type SearchQuery, type SessionMetadata } from '../../src/model/session.js';
import { testDbName, testMongoUri } from './helpers.js';

let release: () => Promise<void>;
let store: MongoSessionStore;
const TAGS = ['alpha', 'beta', 'gamma', 'delta', 'team:x', 'env/prod'];
const MODELS = ['claude-sonnet-5-5', 'claude-3.5-haiku', 'claude-opus-5'];
const SCOPES = ['/work/a', '/work/b', '/work/c'];
const HOUR = 3_600_000;
const T0 = Date.parse('2025-01-01T00:00:00Z');

// A seeded generator, so a failure reproduces.
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function generate(n: number): SessionMetadata[] {
  const r = rng(42);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)] as T;
  return Array.from({ length: n }, () => {
    const sessionId = randomUUID();
    // Whole hours over ~18 months, so updatedAt ties happen and the keyset tie-break is exercised.
    const createdAt = new Date(T0 + Math.floor(r() * 13_000) * HOUR);
    const updatedAt = new Date(createdAt.getTime() + Math.floor(r() * 5) * 24 * HOUR);
    const models = MODELS.filter(() => r() < 0.4);
    return {
      sessionId,
      createdAt,
      updatedAt,
      messageCount: Math.floor(r() * 100),
      turnCount: Math.floor(r() * 20),
      models,
      model: models.at(-1) ?? null,
      tags: TAGS.filter(() => r() < 0.3),
      description: r() < 0.5 ? 'generated' : null,
      summary: null,
      status: pick(SESSION_STATUSES),
      scope: r() < 0.8 ? pick(SCOPES) : null,
      lineage: { parentSessionId: null, forkedAtMessage: null, rootSessionId: sessionId },
      origin: { pipeline: 'gen' },
      totalCostUsd: Math.floor(r() * 5_000_000) / 1_000_000,
      lineageCostUsd: 0,
      runCount: 1,
    };
  });
}

const data = generate(600);

/** The in-test oracle: the seed's semantics, every given criterion ANDed. */
function oracle(q: SearchQuery): string[] {
  const d = (x: Date | undefined) => x?.getTime();
  return data
    .filter(
      (s) =>
        (!q.tags || q.tags.some((t) => s.tags.includes(t))) &&
        (!q.allTags || q.allTags.every((t) => s.tags.includes(t))) &&
        (q.after === undefined || s.createdAt.getTime() >= d(q.after)!) &&
        (q.before === undefined || s.createdAt.getTime() <= d(q.before)!) &&
        (q.updatedAfter === undefined || s.updatedAt.getTime() >= d(q.updatedAfter)!) &&
        (q.updatedBefore === undefined || s.updatedAt.getTime() <= d(q.updatedBefore)!) &&
        (q.minCost === undefined || s.totalCostUsd >= q.minCost) &&
        (q.maxCost === undefined || s.totalCostUsd <= q.maxCost) &&
        (q.model === undefined || s.models.includes(q.model)) &&
        (q.status === undefined || s.status === q.status) &&
        (q.scope === undefined || s.scope === q.scope),
    )
    .sort((a, b) => b.updatedAt.getTime() - a.updatedAt.getTime() || (a.sessionId < b.sessionId ? 1 : -1))
    .map((s) => s.sessionId);
}

async function searchAll(q: SearchQuery, limit: number): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const page = await store.search({ ...q, limit, cursor });
    expect(page.items.length).toBeLessThanOrEqual(limit);
    ids.push(...page.items.map((s) => s.sessionId));
    cursor = page.nextCursor;
    pages += 1;
  } while (cursor && pages < 1000);
  return { ids, pages };
}

beforeAll(async () => {
  const server = await testMongoUri();
  release = server.release;
  store = createMongoStore({ uri: server.uri, dbName: testDbName('search') });
  await store.ensureIndexes();
  expect(await store.importSessions(data)).toEqual({ inserted: data.length, duplicates: 0 });
}, 120_000);

afterAll(async () => {
  await store?.close();
  await release?.();
});

describe('search', () => {
  const y = (iso: string) => new Date(iso);
  const queries: SearchQuery[] = [
    {},
    { tags: ['alpha'] },
    { tags: ['alpha', 'env/prod'] },
    { allTags: ['alpha', 'beta'] },
    { tags: ['gamma', 'delta'], allTags: ['team:x'] },
    { after: y('2025-06-01T00:00:00Z') },
    { after: y('2025-06-01T00:00:00Z'), before: y('2025-09-01T00:00:00Z') },
    { updatedAfter: y('2025-12-01T00:00:00Z'), updatedBefore: y('2026-03-01T00:00:00Z') },
    { minCost: 1.5 },
    { minCost: 1, maxCost: 2.5, tags: ['beta'] },
    { model: 'claude-3.5-haiku' },
    { model: 'claude-opus-5', status: 'failed' },
    { scope: '/work/b', status: 'completed' },
    { scope: '/work/a', tags: ['alpha', 'beta'], after: y('2025-03-01T00:00:00Z'), maxCost: 4 },
    { tags: ['alpha'], allTags: ['beta', 'gamma'], model: 'claude-sonnet-5-5', minCost: 0.5, updatedBefore: y('2026-06-01T00:00:00Z') },
    { tags: ['no-such-tag'] },
    { after: '2025-06-01T00:00:00.000+02:00' as unknown as Date },
  ];

  it.each(queries.map((q, i) => [i, q] as const))('query %i matches the oracle, page by page', async (_i, q) => {
    const expected = oracle({ ...q, ...(typeof q.after === 'string' ? { after: new Date(q.after) } : {}) });
    const { ids } = await searchAll(q, 37);
    expect(ids).toEqual(expected);
    const one = await store.search({ ...q, limit: 1000 });
    expect(one.items.map((s) => s.sessionId)).toEqual(expected.slice(0, 1000));
  });

  it('the generated data exercises the criteria', () => {
    expect(oracle({ tags: ['alpha'] }).length).toBeGreaterThan(50);
    expect(oracle({ allTags: ['alpha', 'beta'] }).length).toBeGreaterThan(5);
    const updated = data.map((s) => s.updatedAt.getTime());
    expect(new Set(updated).size).toBeLessThan(updated.length); // ties exist
  });

  it('returns full metadata', async () => {
    const first = oracle({})[0];
    const page = await store.search({ limit: 1 });
    expect(page.items[0]).toEqual(data.find((s) => s.sessionId === first));
  });

  it('a cursor works only for the query that made it', async () => {
    const page = await store.search({ tags: ['alpha'], limit: 5 });
    expect(page.nextCursor).toBeTruthy();
    await expect(store.search({ tags: ['beta'], limit: 5, cursor: page.nextCursor })).rejects.toMatchObject({ type: 'InvalidInput', evidence: { field: 'cursor' } });
    await expect(store.listSessions({ cursor: page.nextCursor })).rejects.toMatchObject({ type: 'InvalidInput', evidence: { field: 'cursor' } });
    await expect(store.search({ limit: 5, cursor: 'bm90LWpzb24' })).rejects.toMatchObject({ evidence: { field: 'cursor' } });
  });
});

describe('listSessions', () => {
  it('pages through every session, newest updatedAt first, without gaps or repeats', async () => {
    const ids: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page = await store.listSessions({ limit: 50, cursor });
      ids.push(...page.items.map((s) => s.sessionId));
      cursor = page.nextCursor;
      pages += 1;
    } while (cursor);
    expect(pages).toBe(12);
    expect(ids).toEqual(oracle({}));
    const first = await store.listSessions();
    expect(first.items).toHaveLength(50);
  });

  it('importSessions is idempotent', async () => {
    expect(await store.importSessions(data.slice(0, 10))).toEqual({ inserted: 0, duplicates: 10 });
  });
});
