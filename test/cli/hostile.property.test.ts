/**
 * Property tests through the built CLI: for every flag and argument of every
 * command, fast-check picks hostile values (a few per flag: each run is a
 * process), and each must exit 2 naming the flag as the user typed it, with
 * nothing changed in the store or on the task queue. The library property
 * tests cover the same fields with many more values.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { basePipeline, hostile, spoiledPipelineField } from '../helpers/hostile.js';
import { openWorld, type World } from '../helpers/nothing-changed.js';
import { cli, cliFixture } from './helpers.js';

let fx: Awaited<ReturnType<typeof cliFixture>>;
let world: World;
const taskQueue = `cli-hostile-${randomUUID()}`;
beforeAll(async () => {
  fx = await cliFixture();
  world = await openWorld();
});
afterAll(async () => {
  await world?.close();
  await fx?.close();
});

/** Text a flag can carry: an argument cannot hold a NUL byte, and other non-text values are the library's to test. */
const wellFormed = (s: string) => (s as unknown as { isWellFormed(): boolean }).isWellFormed();
// (The OS would turn a lone surrogate into U+FFFD, a valid character; the kernel refuses an argument past 128 KiB.)
const asArg = (arb: fc.Arbitrary<unknown>) => arb.filter((v): v is string => typeof v === 'string' && !v.includes('\u0000') && wellFormed(v) && v.length < 100_000);
const uuid = randomUUID();

interface FlagCase {
  /** The name the error must use. */
  field: string;
  args: (v: string) => string[];
  values: fc.Arbitrary<string>;
}

const cases: FlagCase[] = [
  { field: 'prompt', args: (v) => ['query', v], values: asArg(hostile.prompt) },
  { field: 'prompt', args: (v) => ['resume', uuid, v], values: asArg(hostile.prompt) },
  { field: 'session-id', args: (v) => ['resume', v, 'hi'], values: hostile.sessionId },
  { field: 'session-id', args: (v) => ['sessions', 'show', v], values: hostile.sessionId },
  { field: 'session-id', args: (v) => ['sessions', 'delete', v], values: hostile.sessionId },
  { field: 'tag', args: (v) => ['sessions', 'tag', uuid, v], values: hostile.tag.filter((t) => !t.includes('\u0000')) },
  { field: '--model', args: (v) => ['query', 'hi', '--model', v], values: asArg(hostile.model) },
  { field: '--max-turns', args: (v) => ['query', 'hi', '--max-turns', v], values: hostile.positiveIntText },
  { field: '--budget-usd', args: (v) => ['query', 'hi', '--budget-usd', v], values: hostile.decimalText },
  { field: '--tag', args: (v) => ['continue', '--tag', v], values: hostile.tag.filter((t) => !t.includes('\u0000')) },
  { field: '--description', args: (v) => ['query', 'hi', '--description', v], values: asArg(hostile.description) },
  { field: '--workflow-id', args: (v) => ['query', 'hi', '--workflow-id', v], values: asArg(hostile.id) },
  { field: '--workflow-id', args: (v) => ['run', '/dev/null', '--workflow-id', v], values: asArg(hostile.id) },
  { field: '--concurrency', args: (v) => ['fork', uuid, 'a', 'b', '--concurrency', v], values: hostile.positiveIntText },
  { field: '--limit', args: (v) => ['sessions', 'list', '--limit', v], values: fc.oneof(hostile.positiveIntText, fc.integer({ min: 1001 }).map(String)) },
  { field: '--cursor', args: (v) => ['sessions', 'list', '--cursor', v], values: fc.constantFrom('', 'a b', '$where', 'x'.repeat(600)) },
  { field: '--after', args: (v) => ['sessions', 'search', '--after', v], values: hostile.dateText },
  { field: '--before', args: (v) => ['sessions', 'search', '--before', v], values: hostile.dateText },
  { field: '--min-cost', args: (v) => ['sessions', 'search', '--min-cost', v], values: hostile.decimalText },
  { field: '--max-cost', args: (v) => ['sessions', 'search', '--max-cost', v], values: hostile.decimalText },
  { field: '--status', args: (v) => ['sessions', 'search', '--status', v], values: fc.constantFrom('', 'done', 'ACTIVE', 'failed ') },
  { field: '--model', args: (v) => ['sessions', 'search', '--model', v], values: asArg(hostile.model) },
  { field: '--since', args: (v) => ['costs', '--since', v], values: hostile.dateText },
  { field: '--until', args: (v) => ['costs', '--until', v], values: hostile.dateText },
  { field: '--by', args: (v) => ['costs', '--by', v], values: fc.constantFrom('', 'week', 'Tag', 'sessions') },
  { field: '--cron', args: (v) => ['cleanup', 'schedule', '--cron', v], values: hostile.cron },
  { field: '--schedule-id', args: (v) => ['cleanup', 'schedule', '--schedule-id', v], values: asArg(hostile.id) },
  { field: '--schedule-id', args: (v) => ['cleanup', 'status', '--schedule-id', v], values: asArg(hostile.id) },
  { field: '--max-age-days', args: (v) => ['cleanup', 'run', '--max-age-days', v], values: fc.oneof(hostile.decimalText, fc.constantFrom('36501', '99999')) },
  { field: '--keep-tag', args: (v) => ['cleanup', 'run', '--keep-tag', v], values: hostile.tag.filter((t) => !t.includes('\u0000')) },
];

/** Runs `runs` in batches of `n` at once. */
async function inBatches<T>(items: T[], n: number, run: (item: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += n) await Promise.all(items.slice(i, i + n).map(run));
}

test('every flag and argument of every command refuses hostile values: exit 2, the flag named, nothing changed', async () => {
  const before = await world.counts(fx.dbName, taskQueue);
  // Two values per flag, drawn by fast-check (the seed is printed on failure by the message below).
  const seed = Date.now() % 1_000_000;
  const runs = cases.flatMap((c, i) => fc.sample(c.values, { numRuns: 2, seed: seed + i }).map((v) => ({ ...c, value: v })));
  await inBatches(runs, 4, async (c) => {
    const args = c.args(c.value);
    const r = await cli(['--json', ...args], fx.env(taskQueue));
    const what = `${JSON.stringify(args).slice(0, 200)} (seed ${seed}): ${r.stderr.slice(0, 300)}`;
    expect(r.code, what).toBe(2);
    const escaped = c.field.replace(/[[\]]/g, '\\$&');
    expect(r.stderr, what).toMatch(new RegExp(`^error: (Invalid ${escaped}(\\[\\d+\\])?: |option '${escaped} <[a-z-]+>' argument missing|.*'${escaped}')`, 'm'));
  });
  expect(await world.counts(fx.dbName, taskQueue)).toEqual(before);
});

test('every field of a pipeline file refuses hostile values: exit 2 naming the step and field, nothing changed', async () => {
  const before = await world.counts(fx.dbName, taskQueue);
  const dir = path.join(fx.home, 'hostile');
  await mkdir(dir, { recursive: true });
  const spoiled = fc.sample(spoiledPipelineField, { numRuns: 16, seed: Date.now() % 1_000_000 });
  await inBatches(spoiled, 4, async (s) => {
    const pipeline = basePipeline() as Record<string, unknown>;
    s.apply(pipeline);
    const file = path.join(dir, `${randomUUID()}.json`);
    await writeFile(file, JSON.stringify(pipeline));
    const r = await cli(['--json', 'run', file], fx.env(taskQueue));
    expect(r.code, `${String(s)}: ${r.stderr}`).toBe(2);
    const escaped = s.field.replace(/[[\].]/g, '\\$&');
    expect(r.stderr, String(s)).toMatch(new RegExp(`^error: Invalid ${escaped}[\\[.:]`, 'm'));
  });
  expect(await world.counts(fx.dbName, taskQueue)).toEqual(before);
});
