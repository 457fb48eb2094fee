/**
 * Retention from the command line: hold, cleanup with an archive, the deletion log,
 * "parent deleted" in show and lineage, restore then a real resume, export.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { type CostReport, type DeletionRecord } from '../../src/model/index.js';
import { cli, cliFixture, parseJson, startWorker } from './helpers.js';

let fx: Awaited<ReturnType<typeof cliFixture>>;
let archiveDir: string;
beforeAll(async () => {
  fx = await cliFixture();
  archiveDir = await mkdtemp(path.join(os.tmpdir(), 'ct-cli-archive-'));
});
afterAll(async () => {
  await fx?.close();
  await rm(archiveDir, { recursive: true, force: true });
});

test('hold, cleanup with an archive, the log, a deleted parent, restore and resume, export', async () => {
  const taskQueue = `cli-${randomUUID()}`;
  const worker = await startWorker(taskQueue, fx.dbName);
  const env = fx.env(taskQueue);
  try {
    const q = parseJson<{ sessionId: string }>(await cli(['--json', 'query', 'Remember the word heron', '--tag', 'ret'], env));
    const parent = q.sessionId;
    const f = await cli(['--json', 'fork', parent, 'Try another bird'], env);
    expect(f.code, f.stderr).toBe(0);
    const child = parseJson<{ sessionId: string }>(f).sessionId;

    // Bad input: exit 2, naming the flag, nothing written.
    const noReason = await cli(['sessions', 'hold', parent], env);
    expect(noReason.code).toBe(2);
    expect(noReason.stderr).toMatch(/--reason/);
    const badArchive = await cli(['cleanup', 'run', '--archive', 'relative/dir'], env);
    expect(badArchive.code).toBe(2);
    expect(badArchive.stderr).toMatch(/--archive/);
    expect((await fx.store.deletionLog()).length).toBe(0);

    const h = await cli(['--json', 'sessions', 'hold', child, '--lineage', '--reason', 'legal review'], env);
    expect(h.code, h.stderr).toBe(0);
    expect(parseJson<{ held: string[] }>(h).held.sort()).toEqual([parent, child].sort());
    const held = parseJson<{ items: { sessionId: string }[] }>(await cli(['--json', 'sessions', 'search', '--held'], env));
    expect(held.items.map((s) => s.sessionId).sort()).toEqual([parent, child].sort());

    const costs = async () => parseJson<CostReport>(await cli(['--json', 'costs', '--by', 'day'], env));
    const before = await costs();
    expect((await cli(['sessions', 'release', parent], env)).code).toBe(0);
    const c = await cli(['--json', 'cleanup', 'run', '--max-age-days', '0', '--archive', archiveDir], env);
    expect(c.code, c.stderr).toBe(0);
    const cleaned = parseJson<{ deletedCount: number; sessionIds: string[]; archiveRefs: string[]; logId: string; bytesFreed: number }>(c);
    expect(cleaned).toMatchObject({ deletedCount: 1, sessionIds: [parent] });
    expect(cleaned.bytesFreed).toBeGreaterThan(0);
    expect(await readdir(archiveDir)).toEqual([path.basename(cleaned.archiveRefs[0]!)]);
    // The books survive the cleanup.
    expect(await costs()).toEqual(before);

    const log = parseJson<{ records: DeletionRecord[] }>(await cli(['--json', 'cleanup', 'log'], env));
    expect(log.records[0]).toMatchObject({ logId: cleaned.logId, trigger: { kind: 'command' }, count: 1, sessionIds: [parent], archiveRefs: cleaned.archiveRefs });

    const today = new Date().toISOString().slice(0, 10);
    expect((await cli(['sessions', 'show', child], env)).stdout).toMatch(new RegExp(`^parent\\s+parent ${parent} deleted on ${today}`, 'm'));
    expect((await cli(['sessions', 'lineage', child], env)).stdout).toContain(`parent ${parent} deleted on ${today}`);

    const gone = await cli(['sessions', 'show', parent], env);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain(`not found: it was deleted on ${today} (cleanup log ${cleaned.logId}); restore it with \`claude-temporal sessions restore ${cleaned.archiveRefs[0]}\``);
    const r = await cli(['--json', 'sessions', 'restore', cleaned.archiveRefs[0]!], env);
    expect(r.code, r.stderr).toBe(0);
    expect(parseJson(r)).toMatchObject({ sessionId: parent, restored: true, transcript: true });
    const resumed = await cli(['--json', 'resume', parent, 'Which word was it?'], env);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(parseJson(resumed)).toMatchObject({ status: 'success', summary: 'reply to "Which word was it?" after 2 user prompts' });

    const jsonl = await cli(['sessions', 'export', parent], env);
    expect(jsonl.code, jsonl.stderr).toBe(0);
    expect(jsonl.stdout).toBe(Buffer.from((await fx.store.loadTranscript(parent))!).toString('utf8'));
    const md = await cli(['sessions', 'export', parent, '--format', 'md'], env);
    expect(md.stdout).toMatch(new RegExp(`^# Session ${parent}`));
    expect(md.stdout).toContain('## User\n\nRemember the word heron');
    expect(md.stdout).toContain('## Assistant\n\nreply to "Which word was it?" after 2 user prompts');
  } finally {
    await worker.stop();
  }
  // Some twenty CLI processes, each a few seconds on a loaded machine.
}, 420_000);
