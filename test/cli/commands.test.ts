/**
 * The commands end to end: the CLI as a subprocess, a worker in this process
 * on a fresh task queue per test, the real `claude` CLI against the stub.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { type LineageResult, type SessionMetadata, type CostReport } from '../../src/model/session.js';
import { calculateCost, countTurns, extractModel, getSummary } from '../../src/runner/index.js';
import { cli, cliFixture, parseJson, startWorker, type CliWorker } from './helpers.js';

let fx: Awaited<ReturnType<typeof cliFixture>>;
beforeAll(async () => {
  fx = await cliFixture();
});
afterAll(async () => {
  await fx?.close();
});

async function withWorker<T>(fn: (env: Record<string, string>, worker: CliWorker) => Promise<T>): Promise<T> {
  const taskQueue = `cli-${randomUUID()}`;
  const worker = await startWorker(taskQueue, fx.dbName);
  try {
    return await fn(fx.env(taskQueue), worker);
  } finally {
    await worker.stop();
  }
}

interface StepJson {
  workflowId: string;
  mode: string;
  sessionId: string;
  status: string;
  costUsd: number;
  messageCount: number;
  summary: string;
  error: string | null;
}

test('query, resume, continue, fork and the fan-out, then the session commands', async () => {
  await withWorker(async (env) => {
    const scope = await mkdtemp(path.join(os.tmpdir(), 'ct-cli-scope-'));
    const q = await cli(['--json', 'query', 'Analyze lib/', '--tag', 'docs', '--tag', 'cli-test', '--description', 'from the cli', '--max-turns', '5', '--scope', scope], env);
    expect(q.code, q.stderr).toBe(0);
    const query = parseJson<StepJson>(q);
    expect(query).toMatchObject({ mode: 'query', status: 'success', error: null, summary: 'reply to "Analyze lib/" after 1 user prompts' });
    expect(query.costUsd).toBeGreaterThan(0);

    const r = await cli(['--json', 'resume', query.sessionId, 'Now document it', '--scope', scope], env);
    expect(r.code, r.stderr).toBe(0);
    expect(parseJson<StepJson>(r)).toMatchObject({ mode: 'resume', sessionId: query.sessionId, summary: 'reply to "Now document it" after 2 user prompts' });

    const c = await cli(['--json', 'continue', 'And review it', '--cwd', scope], env);
    expect(c.code, c.stderr).toBe(0);
    expect(parseJson<StepJson>(c)).toMatchObject({ mode: 'continue', sessionId: query.sessionId, summary: 'reply to "And review it" after 3 user prompts' });

    const f = await cli(['--json', 'fork', query.sessionId, 'Try another way', '--tag', 'fork', '--scope', scope], env);
    expect(f.code, f.stderr).toBe(0);
    const fork = parseJson<StepJson>(f);
    expect(fork.sessionId).not.toBe(query.sessionId);
    expect(fork.summary).toBe('reply to "Try another way" after 4 user prompts');

    const fan = await cli(['--json', 'fork', query.sessionId, 'Use PostgreSQL', 'Use MongoDB', 'Use both', '--tag', 'alternatives', '--scope', scope], env);
    expect(fan.code, fan.stderr).toBe(0);
    const explore = parseJson<{ workflowId: string; parentSessionId: string; branches: { status: string; sessionId: string; prompt: string }[]; totalCostUsd: number }>(fan);
    expect(explore.parentSessionId).toBe(query.sessionId);
    expect(explore.branches.map((b) => [b.prompt, b.status])).toEqual([
      ['Use PostgreSQL', 'completed'],
      ['Use MongoDB', 'completed'],
      ['Use both', 'completed'],
    ]);

    // sessions list / search / show / lineage / tag / untag / delete
    const list = parseJson<{ items: SessionMetadata[]; nextCursor: string | null }>(await cli(['--json', 'sessions', 'list', '--limit', '2'], env));
    expect(list.items).toHaveLength(2);
    expect(list.nextCursor).toEqual(expect.any(String));
    const next = parseJson<{ items: SessionMetadata[] }>(await cli(['--json', 'sessions', 'list', '--limit', '10', '--cursor', list.nextCursor!], env));
    expect(next.items).toHaveLength(3);

    const byTag = parseJson<{ items: SessionMetadata[] }>(await cli(['--json', 'sessions', 'search', '--tag', 'fork', '--tag', 'alternatives'], env));
    expect(byTag.items).toHaveLength(4);
    // Forks inherit their parent's tags: all five sessions carry docs and cli-test, only the parent has no fork tag.
    const allTags = parseJson<{ items: SessionMetadata[] }>(await cli(['--json', 'sessions', 'search', '--tag', 'docs', '--tag', 'cli-test', '--all-tags', '--min-cost', '0.000001'], env));
    expect(allTags.items.map((s) => s.sessionId).sort()).toEqual([query.sessionId, fork.sessionId, ...explore.branches.map((b) => b.sessionId)].sort());
    const forkOnly = parseJson<{ items: SessionMetadata[] }>(await cli(['--json', 'sessions', 'search', '--tag', 'docs', '--tag', 'fork', '--all-tags'], env));
    expect(forkOnly.items.map((s) => s.sessionId)).toEqual([fork.sessionId]);
    const none = parseJson<{ items: SessionMetadata[] }>(await cli(['--json', 'sessions', 'search', '--max-cost', '0', '--after', '2000-01-01'], env));
    expect(none.items).toEqual([]);

    const table = await cli(['sessions', 'search', '--tag', 'docs'], env);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^SESSION\s+UPDATED\s+STATUS/);
    expect(table.stdout).toContain(query.sessionId);

    const show = parseJson<{ session: SessionMetadata; messages: { type: string }[] }>(await cli(['--json', 'sessions', 'show', query.sessionId, '--messages'], env));
    expect(show.session).toMatchObject({ sessionId: query.sessionId, description: 'from the cli', tags: ['docs', 'cli-test'] });
    expect(show.messages.map((m) => m.type)).toContain('assistant');
    // The session helpers take the printed messages as they are.
    expect(calculateCost(show.messages)).toBeCloseTo(show.session.totalCostUsd, 10);
    expect(countTurns(show.messages)).toBe(show.session.turnCount);
    expect(extractModel(show.messages)).toBe(show.session.model);
    expect(getSummary(show.messages)).toBe(show.session.summary ?? '');

    const lineage = parseJson<LineageResult>(await cli(['--json', 'sessions', 'lineage', fork.sessionId], env));
    expect(lineage.ancestors.map((a) => a.sessionId)).toEqual([query.sessionId]);
    expect(lineage.tree.sessionId).toBe(fork.sessionId);
    const tree = await cli(['sessions', 'lineage', query.sessionId], env);
    expect(tree.stdout.split('\n').filter((l) => /[├└]─/.test(l))).toHaveLength(4);

    const tagged = parseJson<{ session: SessionMetadata }>(await cli(['--json', 'sessions', 'tag', fork.sessionId, 'keep', 'x'], env));
    expect(tagged.session.tags).toEqual(expect.arrayContaining(['fork', 'keep', 'x']));
    const untagged = parseJson<{ session: SessionMetadata }>(await cli(['--json', 'sessions', 'untag', fork.sessionId, 'x'], env));
    expect(untagged.session.tags).not.toContain('x');

    const del = await cli(['--json', 'sessions', 'delete', explore.branches[2]!.sessionId], env);
    expect(parseJson(del)).toEqual({ sessionId: explore.branches[2]!.sessionId, deleted: true });
    const again = await cli(['sessions', 'show', explore.branches[2]!.sessionId], env);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/error: Session .* not found/);

    // costs
    const byTagCost = parseJson<CostReport>(await cli(['--json', 'costs', '--by', 'tag', '--tag', 'docs', '--tag', 'fork'], env));
    expect(byTagCost.by).toBe('tag');
    expect(byTagCost.rows.map((r) => r.key)).toEqual(expect.arrayContaining(['docs', 'fork']));
    expect(byTagCost.total.runs).toBeGreaterThanOrEqual(4);
    const byDay = await cli(['costs', '--by', 'day', '--since', '2000-01-01'], env);
    expect(byDay.code).toBe(0);
    expect(byDay.stdout).toMatch(/^\d{4}-\d{2}-\d{2} │█+/m);
    expect(byDay.stdout).toMatch(/total \$[\d.]+ · \d+ runs/);
  });
}, 300_000); // A dozen CLI processes, each step a real claude run: slow on a loaded machine.

test('run: a YAML pipeline file with --json; a failing step exits 3', async () => {
  await withWorker(async (env) => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'ct-cli-run-'));
    const file = path.join(dir, 'docs.yaml');
    await writeFile(
      file,
      [
        'name: cli-docs',
        'tags: [pipeline-test]',
        'steps:',
        '  - { name: analyze, mode: query, prompt: "Analyze the code in lib/" }',
        '  - { name: document, mode: resume, prompt: "Now generate docs" }',
        '  - { name: review, mode: resume, prompt: "Review the documentation" }',
        '',
      ].join('\n'),
    );
    const ok = await cli(['--json', 'run', file], env);
    expect(ok.code, ok.stderr).toBe(0);
    const result = parseJson<{ workflowId: string; status: string; stepsDone: number; steps: { name: string; state: string; summary: string }[]; error: null }>(ok);
    expect(result).toMatchObject({ name: 'cli-docs', status: 'completed', stepsDone: 3, stepsTotal: 3, error: null, failureType: null });
    expect(result.steps.map((s) => [s.name, s.state])).toEqual([
      ['analyze', 'done'],
      ['document', 'done'],
      ['review', 'done'],
    ]);
    expect(result.workflowId).toMatch(/^pipeline-/);

    // Plain progress lines on a non-TTY stderr, the summary on stdout.
    const failing = path.join(dir, 'failing.json');
    await writeFile(failing, JSON.stringify({ name: 'cli-fail', steps: [{ name: 'first', mode: 'query', prompt: 'hello' }, { name: 'second', mode: 'resume', prompt: '[[error 401]] no' }] }));
    const bad = await cli(['run', failing], env);
    expect(bad.code).toBe(3);
    expect(bad.stderr).toMatch(/step 1\/2 first \(query\): success/);
    expect(bad.stderr).toMatch(/step 2\/2 second \(resume\): failed \(ClaudeAuthError\)/);
    expect(bad.stderr).toMatch(/^error: .+/m);
    expect(bad.stdout).toMatch(/pipeline cli-fail\s+failed\s+1\/2 steps/);

    const q = await cli(['--json', 'query', '[[error 401]] nope'], env);
    expect(q.code).toBe(3);
    expect(parseJson<StepJson & { failureType: string }>(q)).toMatchObject({ status: 'failed', failureType: 'ClaudeAuthError' });

    const missing = await cli(['resume', randomUUID(), 'hi'], env);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toMatch(/error: /);
  });
}, 300_000); // Several CLI processes and real claude runs.

test('cleanup: schedule, status and a dry run in the store', async () => {
  const env = fx.env();
  const scheduleId = `cli-cleanup-${randomUUID().slice(0, 8)}`;
  const s = await cli(['--json', 'cleanup', 'schedule', '--schedule-id', scheduleId, '--cron', '15 4 * * *', '--max-age-days', '7', '--keep-tag', 'keep'], env);
  expect(s.code, s.stderr).toBe(0);
  expect(parseJson(s)).toMatchObject({ scheduleId, created: true, cron: '15 4 * * *', maxAgeDays: 7, keepTags: ['keep'], dryRun: false });
  const again = await cli(['--json', 'cleanup', 'schedule', '--schedule-id', scheduleId, '--max-age-days', '9'], env);
  expect(parseJson(again)).toMatchObject({ created: false, maxAgeDays: 9 });

  const st = await cli(['--json', 'cleanup', 'status', '--schedule-id', scheduleId], env);
  expect(st.code, st.stderr).toBe(0);
  const status = parseJson<{ exists: boolean; nextRuns: string[]; recentActions: unknown[]; action: { workflowType: string; input: unknown } }>(st);
  // The schedule as the cron it was given, not the calendars the server expands it to.
  expect(status).toMatchObject({ exists: true, paused: false, cron: '0 3 * * *', action: { workflowType: 'cleanupSessions', input: { maxAgeDays: 9, keepTags: [], dryRun: false } } });
  expect(status).not.toHaveProperty('spec');
  expect(status.nextRuns.length).toBeGreaterThan(0);
  expect(status.recentActions).toEqual([]);
  const text = await cli(['cleanup', 'status', '--schedule-id', scheduleId], env);
  expect(text.stdout).toMatch(/^next\s+\d{4}-/m);
  expect(text.stdout).toMatch(/^cron\s+0 3 \* \* \* \(UTC\)$/m);

  const missing = parseJson(await cli(['--json', 'cleanup', 'status', '--schedule-id', `${scheduleId}-none`], env));
  expect(missing).toEqual({ scheduleId: `${scheduleId}-none`, exists: false });

  const dry = await cli(['--json', 'cleanup', 'run', '--dry-run', '--max-age-days', '0', '--keep-tag', 'docs'], env);
  expect(dry.code, dry.stderr).toBe(0);
  const dryRun = parseJson<{ dryRun: boolean; wouldDelete: number; sessionIds: string[] }>(dry);
  expect(dryRun.dryRun).toBe(true);
  expect(dryRun.wouldDelete).toBe(dryRun.sessionIds.length);
  expect(dryRun).not.toHaveProperty('deletedCount');
  // A dry run deletes nothing.
  const after = await fx.store.listSessions({ limit: 1000 });
  for (const id of dryRun.sessionIds) expect(after.items.map((x) => x.sessionId)).toContain(id);
});
