/**
 * Helpers of the store tests. `testMongoUri` is what tests connect to: the server of
 * test/global-setup.ts (`inject('mongoUri')`, which honours MONGODB_URI), else a private one.
 * `startFerret` runs a private FerretDB server (the restart test needs its own process).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { MongoClient, type Db } from 'mongodb';
import { afterAll, beforeAll, inject } from 'vitest';
import { createMongoStore, type MongoSessionStore } from '../../src/store/mongo-store.js';
import { type RunLedgerEntry } from '../../src/model/session.js';
import { type ModelUsage } from '../../src/model/run.js';

export interface FerretServer {
  uri: string;
  port: number;
  dataDir: string;
  stop(): Promise<void>;
}

function ferretBinary(): string {
  const candidates = [process.env.FERRETDB_SERVER, resolve(import.meta.dirname, '../../.local/bin/ferretdb-server'), '/tmp/ferretdb-server'];
  const found = candidates.find((c): c is string => !!c && existsSync(c));
  if (!found) throw new Error('ferretdb-server not found: run scripts/setup.sh or set FERRETDB_SERVER');
  return found;
}

/** Starts ferretdb-server on `dataDir` (a new temp dir by default) and `port` (any free one by default). */
export async function startFerret(options: { dataDir?: string; port?: number } = {}): Promise<FerretServer> {
  const ownDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'ferret-store-'));
  const child: ChildProcess = spawn(ferretBinary(), ['-data-dir', dataDir, '-listen', `127.0.0.1:${options.port ?? 0}`], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const uri = await new Promise<string>((resolveUri, reject) => {
    const timer = setTimeout(() => reject(new Error(`ferretdb-server did not start: ${stderr}`)), 30_000);
    child.once('exit', (code) => reject(new Error(`ferretdb-server exited with ${code}: ${stderr}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const m = /^ready (mongodb:\/\/\S+)/.exec(line);
      if (m?.[1]) {
        clearTimeout(timer);
        resolveUri(m[1]);
      }
    });
  });
  const port = Number(new URL(uri).port);
  return {
    uri,
    port,
    dataDir,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      if (ownDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** The server the tests of one file use, and how to let go of it. */
export async function testMongoUri(): Promise<{ uri: string; release: () => Promise<void> }> {
  const provided = inject('mongoUri') ?? process.env.MONGODB_URI;
  if (provided) return { uri: provided, release: async () => {} };
  const server = await startFerret();
  return { uri: server.uri, release: server.stop };
}

/** A database name unique to one test file (and run). */
export function testDbName(file: string): string {
  return `t_${file.replace(/[^A-Za-z0-9]/g, '_')}_${randomUUID().slice(0, 8)}`;
}

/** Documents in every collection of the database (to prove nothing was written). */
export async function countAll(db: Db): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const c of await db.listCollections({}, { nameOnly: true }).toArray()) {
    out[c.name] = await db.collection(c.name).countDocuments({});
  }
  return out;
}

export function rawClient(uri: string): MongoClient {
  return new MongoClient(uri, { serverSelectionTimeoutMS: 5000 });
}

/** What `storeForTests` opens: the client, this file's database and a store on it (indexes ensured). */
export interface TestStore {
  client: MongoClient;
  db: Db;
  store: MongoSessionStore;
}

/** A store on a database of its own for the tests of one file: opened before them, closed after. */
export function storeForTests(file: string): TestStore {
  const t = {} as TestStore;
  let release: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    const server = await testMongoUri();
    release = server.release;
    t.client = rawClient(server.uri);
    const dbName = testDbName(file);
    t.db = t.client.db(dbName);
    t.store = createMongoStore({ client: t.client, dbName });
    await t.store.ensureIndexes();
  }, 60_000);
  afterAll(async () => {
    await t.client?.close();
    await release?.();
  });
  return t;
}

export const digest = (s: string) => createHash('sha256').update(s).digest('hex');

export function usage(costUSD: number, inputTokens = 0, outputTokens = 0, cacheRead = 0, cacheCreation = 0): ModelUsage {
  return { inputTokens, outputTokens, cacheReadInputTokens: cacheRead, cacheCreationInputTokens: cacheCreation, costUSD };
}

/** A complete ledger entry with overridable fields; day and month follow startedAt. */
export function entry(over: Partial<RunLedgerEntry> & Pick<RunLedgerEntry, 'runId' | 'sessionId'>): RunLedgerEntry {
  const startedAt = over.startedAt ?? new Date('2026-03-10T12:00:00Z');
  // Bad dates are passed through untouched (validation tests); day and month then need overriding.
  const iso = startedAt instanceof Date && !Number.isNaN(startedAt.getTime()) ? startedAt.toISOString() : '2026-01-01T00:00:00Z';
  const base: RunLedgerEntry = {
    runId: over.runId,
    sessionId: over.sessionId,
    mode: 'query',
    promptDigest: digest('hello'),
    status: 'success',
    failureType: null,
    subtype: 'success',
    costUsd: 0,
    cumulativeCostUsd: 0,
    usageByModel: {},
    numTurns: 1,
    messageCount: 0,
    exitCode: 0,
    startedAt,
    finishedAt: null,
    durationMs: 1000,
    stepKey: null,
    attempt: 1,
    day: iso.slice(0, 10),
    month: iso.slice(0, 7),
    tags: [],
    model: null,
    pipeline: null,
    workflowId: null,
  };
  return { ...base, ...over, day: over.day ?? base.day, month: over.month ?? base.month };
}

/** CLI-like lines of one run: init, assistant replies, result. */
export function cliLines(sessionId: string, texts: string[], model = 'claude-sonnet-5-5'): string[] {
  return [
    JSON.stringify({ type: 'system', subtype: 'init', session_id: sessionId, model }),
    ...texts.map((t, i) =>
      JSON.stringify({ type: 'assistant', message: { id: `msg_${i}`, role: 'assistant', model, content: [{ type: 'text', text: t }] }, session_id: sessionId }),
    ),
    JSON.stringify({ type: 'result', subtype: 'success', is_error: false, session_id: sessionId, total_cost_usd: 0.01 }),
  ];
}

export function batchOf(lines: string[], from = 0) {
  return lines.map((raw, i) => ({ seq: from + i, raw }));
}

export async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}
