import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createMongoStore } from '../../src/store/mongo-store.js';
import { batchOf, cliLines, collect, entry, startFerret, type FerretServer } from './helpers.js';

// This test needs its own server process on a fixed data dir, so it never uses the shared one.
const dataDir = mkdtempSync(join(tmpdir(), 'ferret-restart-'));
let server: FerretServer | undefined;

afterAll(async () => {
  await server?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('a database server restart', () => {
  it('loses nothing written before it, and reports StoreUnavailable while down', async () => {
    server = await startFerret({ dataDir });
    const port = server.port;
    const store = createMongoStore({ uri: server.uri, dbName: 'restart', serverSelectionTimeoutMS: 1000 });
    await store.ensureIndexes();
    const sid = randomUUID();
    const lines = cliLines(sid, ['before restart']);
    await store.upsertSession({ sessionId: sid, tags: ['durable'] });
    await store.appendMessages(sid, `r-${sid}`, batchOf(lines));
    await store.recordRun(entry({ runId: `r-${sid}`, sessionId: sid, costUsd: 0.25, cumulativeCostUsd: 0.25 }));
    await store.saveTranscript(sid, `r-${sid}`, new TextEncoder().encode('transcript\n'));

    await server.stop();
    await expect(store.getSession(sid)).rejects.toMatchObject({ name: 'ClaudeTemporalError', type: 'StoreUnavailable', retryable: true });
    await expect(store.appendMessages(sid, `r-${sid}`, batchOf(lines))).rejects.toMatchObject({ type: 'StoreUnavailable' });

    server = await startFerret({ dataDir, port });
    // The same store reconnects; a retried append finds its messages already there.
    expect(await store.appendMessages(sid, `r-${sid}`, batchOf(lines))).toEqual({ inserted: 0, duplicates: lines.length });
    const fresh = createMongoStore({ uri: server.uri, dbName: 'restart' });
    for (const s of [store, fresh]) {
      expect(await s.getSession(sid)).toMatchObject({ tags: ['durable'], totalCostUsd: 0.25, messageCount: lines.length, summary: 'before restart' });
      const loaded = await s.loadSession(sid);
      if (!loaded.found) throw new Error('not found');
      expect((await collect(loaded.session.messages())).map((m) => m.raw)).toEqual(lines);
      expect(new TextDecoder().decode((await s.loadTranscript(sid))!)).toBe('transcript\n');
      expect((await s.costReport({ by: 'total' })).total.costUsd).toBe(0.25);
    }
    await fresh.close();
    await store.close();
  }, 90_000);
});
