/**
 * Careless and hostile input through the built CLI: long prompts from a file
 * or stdin run, bad values exit 2 naming the flag in the user's terms (or 4
 * for a server that is not Temporal), and nothing is written anywhere.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import http2 from 'node:http2';
import { type AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { MAX_PIPELINE_STEPS, MAX_PROMPT_BYTES } from '../../src/model/defaults.js';
import { openWorld, type World } from '../helpers/nothing-changed.js';
import { cli, cliFixture, parseJson, startWorker } from './helpers.js';

let fx: Awaited<ReturnType<typeof cliFixture>>;
let world: World;
const taskQueue = `cli-validation-${randomUUID()}`;
beforeAll(async () => {
  fx = await cliFixture();
  world = await openWorld();
});
afterAll(async () => {
  await world?.close();
  await fx?.close();
});

const env = () => fx.env(taskQueue);
const counts = () => world.counts(fx.dbName, taskQueue);

async function file(name: string, content: string | Buffer): Promise<string> {
  const dir = path.join(fx.home, 'inputs');
  await mkdir(dir, { recursive: true });
  const f = path.join(dir, name);
  await writeFile(f, content);
  return f;
}

/** Runs each case; every one must exit `code` with its message, and nothing may change. */
async function expectRefused(cases: [string[], RegExp, { input?: string; env?: Record<string, string> }?][], code = 2): Promise<void> {
  const before = await counts();
  for (const [args, message, opts] of cases) {
    const r = await cli(['--json', ...args], { ...env(), ...opts?.env }, opts?.input !== undefined ? { input: opts.input } : {});
    expect(r.code, `${args.join(' ')}\n${r.stderr}`).toBe(code);
    expect(r.stderr, args.join(' ')).toMatch(message);
    expect(parseJson<{ error: { exitCode: number } }>(r).error.exitCode).toBe(code);
  }
  expect(await counts()).toEqual(before);
}

describe('prompts from a file or stdin', () => {
  test('a prompt past the kernel limit of one argument runs, from --prompt-file and from stdin', async () => {
    const worker = await startWorker(taskQueue, fx.dbName);
    try {
      for (const how of ['file', 'stdin'] as const) {
        const marker = `long-${how}-${Date.now()}`;
        const prompt = `${marker} ${'y'.repeat(150_000)}`;
        const args = how === 'file' ? ['--json', 'query', '--prompt-file', await file(`${marker}.txt`, prompt)] : ['--json', 'query', '-'];
        const r = await cli(args, env(), how === 'stdin' ? { input: prompt } : {});
        expect(r.code, r.stderr).toBe(0);
        const { sessionId } = parseJson<{ sessionId: string }>(r);
        // The CLI's transcript holds the prompt as the API got it.
        const transcript = Buffer.from((await worker.store.loadTranscript(sessionId))!).toString('utf8');
        expect(transcript).toContain(prompt);
      }
      // A run that fails reports the session it ran in, and that session is stored.
      const failed = await cli(['--json', 'query', '[[error 400]] refused'], env());
      expect(failed.code).toBe(3);
      const { sessionId } = parseJson<{ sessionId: string | null }>(failed);
      expect(sessionId).toMatch(/^[0-9a-f-]{36}$/);
      expect(await worker.store.getSession(sessionId!)).toMatchObject({ status: 'failed' });
    } finally {
      await worker.stop();
    }
  });

  test('too long, NUL bytes, blank, or given twice: exit 2 naming the prompt', async () => {
    await expectRefused([
      [['query', '--prompt-file', await file('huge.txt', 'z'.repeat(MAX_PROMPT_BYTES + 1))], /Invalid --prompt-file: .*larger than the maximum of 256 KiB/],
      [['query', '--prompt-file', await file('nul.txt', 'a\u0000b')], /Invalid --prompt-file: must not contain a NUL byte/],
      [['query', '--prompt-file', await file('latin1.txt', Buffer.from([0x63, 0x61, 0x66, 0xe9]))], /Invalid --prompt-file: .* is not UTF-8 text/],
      [['query', '--prompt-file', path.join(fx.home, 'missing.txt')], /Invalid --prompt-file: cannot read .*ENOENT/],
      [['query', '-'], /Invalid prompt: must not contain a NUL byte/, { input: 'a\u0000b' }],
      [['query', '-'], /Invalid prompt: .*larger than the maximum/, { input: 'q'.repeat(MAX_PROMPT_BYTES + 10) }],
      [['query', '   '], /Invalid prompt: must not be empty/],
      [['query'], /Invalid prompt: is required: give it as an argument, - to read stdin, or --prompt-file/],
      [['query', 'hi', '--prompt-file', '/etc/hostname'], /Invalid --prompt-file: and a prompt argument were both given/],
      // (A NUL byte cannot be in an argument at all: the kernel ends the string there.)
      [['fork', randomUUID(), 'ok', '  '], /Invalid prompt\[1\]: must not be empty/],
    ]);
  });
});

describe('pipeline files', () => {
  test('a NUL prompt, too many steps, a huge or endless file, a hex number: exit 2, nothing read past the limit', async () => {
    const steps = Array.from({ length: MAX_PIPELINE_STEPS + 1 }, (_, i) => ({ mode: 'query', prompt: `p${i}` }));
    await expectRefused([
      [['run', await file('nul.json', JSON.stringify({ steps: [{ mode: 'query', prompt: 'a\u0000' }] }))], /Invalid steps\[0\]\.prompt: must not contain a NUL byte/],
      [['run', await file('long.json', JSON.stringify({ steps }))], /Invalid steps: must hold at most 500 steps/],
      [['run', await file('big.yaml', `steps:\n  - mode: query\n    prompt: ${'w'.repeat(1024 * 1024)}\n`)], /Invalid pipeline-file: .*larger than the maximum of 1 MiB/],
      [['run', '/dev/zero'], /Invalid pipeline-file: \/dev\/zero is larger than the maximum of 1 MiB/],
      [['run', path.join(fx.home, 'inputs')], /Invalid pipeline-file: .* is a directory/],
      [['run', await file('ok.json', JSON.stringify({ steps: [{ mode: 'query', prompt: 'hi' }] })), '--workflow-id', ''], /Invalid --workflow-id: must not be empty/],
      // Numbers as JSON has them: a hex or octal literal stays text, so it is refused rather than read as 16 or 15.
      [['run', await file('hex.yaml', 'budgetUsd: 0x10\nsteps:\n  - mode: query\n    prompt: hi\n')], /Invalid budgetUsd: must be a number, got the text "0x10"/],
      [['run', await file('oct.yaml', 'steps:\n  - mode: query\n    prompt: hi\n    options:\n      maxTurns: 0o17\n')], /Invalid steps\[0\]\.options\.maxTurns: must be a number, got the text "0o17"/],
    ]);
  });
});

describe('flags', () => {
  test('dates: inverted ranges and impossible days, with the accepted forms', async () => {
    await expectRefused([
      [['costs', '--since', '2026-03-01', '--until', '2026-02-01'], /Invalid --since: 2026-03-01T00:00:00.000Z is later than --until 2026-02-01T00:00:00.000Z/],
      [['sessions', 'search', '--after', '2026-03-01T10:00:00Z', '--before', '2026-03-01'], /Invalid --after: .* is later than --before/],
      [['costs', '--since', '2026-02-30'], /Invalid --since: is not a calendar date: "2026-02-30"/],
      [['sessions', 'search', '--before', 'yesterday'], /Invalid --before: must be a date as YYYY-MM-DD \(UTC midnight\) or an ISO date-time with a zone such as/],
    ]);
  });

  test('numbers: decimal only, and messages that describe the value', async () => {
    await expectRefused([
      [['query', 'hi', '--budget-usd', 'NaN'], /Invalid --budget-usd: is not a number: "NaN"/],
      [['query', 'hi', '--budget-usd', '0x10'], /Invalid --budget-usd: is not a plain decimal number: "0x10"/],
      [['sessions', 'search', '--min-cost', '0x10'], /Invalid --min-cost: is not a plain decimal number/],
      [['sessions', 'search', '--min-cost', '-1'], /Invalid --min-cost: must not be negative/],
      [['sessions', 'list', '--limit', '-1'], /Invalid --limit: must be an integer from 1 to 1000, got "-1"/],
      [['query', 'hi', '--max-turns', '1.5'], /Invalid --max-turns: must be a positive integer, got "1.5"/],
      [['cleanup', 'run', '--max-age-days', '0x10'], /Invalid --max-age-days: is not a plain decimal number/],
      [['fork', randomUUID(), 'a', 'b', '--concurrency', '0'], /Invalid --concurrency: must be an integer from 1 to 2/],
    ]);
  });

  test('models, ids and schedules', async () => {
    await expectRefused([
      [['query', 'hi', '--model', '$x'], /Invalid --model: must be a model alias or id/],
      [['query', 'hi', '--workflow-id', ''], /Invalid --workflow-id: must not be empty/],
      [['query', 'hi', '--description', 'd'.repeat(10_001)], /Invalid --description: must be at most 10000 characters/],
      [['cleanup', 'schedule', '--cron', '61 * * * *'], /Invalid --cron: minute 61 is outside 0-59/],
      [['cleanup', 'schedule', '--cron', '0 3 * * 8'], /Invalid --cron: day of week 8 is outside 0-7/],
      [['cleanup', 'schedule', '--cron', '0 3 31 2 *'], /Invalid --cron: "0 3 31 2 \*" never fires/],
      [['cleanup', 'schedule', '--schedule-id', ''], /Invalid --schedule-id: must not be empty/],
      [['cleanup', 'status', '--schedule-id', ''], /Invalid --schedule-id: must not be empty/],
    ]);
  });

  test('a cron the check accepts is one the server accepts (Sunday as 7)', async () => {
    const scheduleId = `cron-7-${randomUUID()}`;
    const r = await cli(['--json', 'cleanup', 'schedule', '--cron', '0 3 * * 7', '--schedule-id', scheduleId, '--dry-run'], env());
    expect(r.code, r.stderr).toBe(0);
    await world.temporal.schedule.getHandle(scheduleId).delete();
  });
});

describe('connection settings', () => {
  test('a MongoDB URI without a host or with a bad port: exit 2 naming the setting as it was given', async () => {
    await expectRefused([
      [['sessions', 'list'], /Invalid MONGODB_URI: names no host: mongodb:\/\//, { env: { MONGODB_URI: 'mongodb://' } }],
      [['sessions', 'list'], /Invalid MONGODB_URI: has port "99999", which is not from 1 to 65535/, { env: { MONGODB_URI: 'mongodb://127.0.0.1:99999' } }],
      [['--mongodb-uri', 'mongodb://', 'costs'], /Invalid --mongodb-uri: names no host/],
      [['sessions', 'list'], /Invalid MONGODB_URI: .*unknownoption/i, { env: { MONGODB_URI: 'mongodb://127.0.0.1:1/?unknownOption=1' } }],
      [['query', 'hi'], /Invalid TEMPORAL_ADDRESS: has port "99999"/, { env: { TEMPORAL_ADDRESS: '127.0.0.1:99999' } }],
    ]);
  });

  test('a TEMPORAL_ADDRESS that answers but is not Temporal: exit 4 naming the address', async () => {
    const server = http2.createServer((_req, res) => {
      res.writeHead(404);
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      await expectRefused([[['query', 'hi'], new RegExp(`No Temporal server at ${address}: it answered, but not as Temporal`), { env: { TEMPORAL_ADDRESS: address } }]], 4);
    } finally {
      server.close();
    }
  });

  test('a worker whose CLAUDE_PATH points nowhere refuses to start, naming the path', async () => {
    const notClaude = await file('not-claude.sh', '#!/bin/sh\necho hello\n');
    const { chmod } = await import('node:fs/promises');
    await chmod(notClaude, 0o755);
    for (const claudePath of ['/nonexistent/bin/claude', notClaude]) {
      const r = await cli(['worker'], { ...env(), CLAUDE_PATH: claudePath });
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain(`Invalid CLAUDE_PATH: ${claudePath}`);
      expect(r.stdout).not.toMatch(/ready/);
    }
  });
});
