/**
 * Bad input and unreachable servers: exit codes 2 and 4, an `error:` line
 * naming the field, JSON errors under --json, and nothing written.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import { renderPipelineReference, renderSchemaFile, REFERENCE_FILE, SCHEMA_FILE } from '../../scripts/gen-docs.js';
import { readFile } from 'node:fs/promises';
import { cli, cliFixture, parseJson } from './helpers.js';

let fx: Awaited<ReturnType<typeof cliFixture>>;
beforeAll(async () => {
  fx = await cliFixture();
});
afterAll(async () => {
  // Every case here is rejected before anything runs: the file's database stays empty.
  const page = await fx.store.listSessions();
  expect(page.items).toEqual([]);
  await fx.close();
});

async function pipelineFile(name: string, text: string): Promise<string> {
  const dir = path.join(fx.home, 'pipelines');
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, name);
  await writeFile(file, text);
  return file;
}

describe('usage errors exit 2', () => {
  test('an unknown flag', async () => {
    const r = await cli(['query', 'hi', '--bogus'], fx.env());
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("error: unknown option '--bogus'");
  });

  test('an unknown flag under --json also prints a JSON error', async () => {
    const r = await cli(['--json', 'sessions', 'list', '--nope'], fx.env());
    expect(r.code).toBe(2);
    expect(parseJson<{ error: { type: string; exitCode: number } }>(r).error).toMatchObject({ type: 'InvalidInput', exitCode: 2 });
  });

  test('a malformed pipeline file names the step and the field', async () => {
    const file = await pipelineFile(
      'bad.yaml',
      ['name: docs', 'steps:', '  - mode: query', '    prompt: analyze', '  - mode: resume', '    prompt: document', '    options:', '      maxTurns: -3', ''].join('\n'),
    );
    const r = await cli(['run', file], fx.env());
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: Invalid steps\[1\]\.options\.maxTurns: .*bad\.yaml/m);
  });

  test('a tag that is an object in a pipeline file', async () => {
    const file = await pipelineFile('tags.json', JSON.stringify({ steps: [{ mode: 'query', prompt: 'hi' }], tags: ['ok', { nested: true }] }));
    const r = await cli(['--json', 'run', file], fx.env());
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/error: Invalid tags\[1\]/);
    expect(parseJson<{ error: { field: string } }>(r).error.field).toBe('tags[1]');
  });

  test('a pipeline file that is not YAML', async () => {
    const file = await pipelineFile('broken.yaml', 'steps: [\n  - mode: query\n');
    const r = await cli(['run', file], fx.env());
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/error: Invalid pipeline-file: .*is not valid YAML/);
  });

  test('a missing pipeline file', async () => {
    const r = await cli(['run', path.join(fx.home, 'nope.yaml')], fx.env());
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/error: Invalid pipeline-file: cannot read .*ENOENT/);
  });

  test('a session id that is not a UUID', async () => {
    const cases = [['resume', 'abc', 'hi'], ['fork', '123', 'a', 'b'], ['sessions', 'show', 'x'], ['sessions', 'delete', '../etc']];
    const results = await Promise.all(cases.map((args) => cli(args, fx.env())));
    results.forEach((r, i) => {
      expect(r.code, cases[i]!.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/error: Invalid session-id: must be a UUID/);
    });
  });

  test('a negative cost, in both flag spellings', async () => {
    for (const args of [['sessions', 'search', '--min-cost', '-1'], ['sessions', 'search', '--max-cost=-0.5']]) {
      const r = await cli(args, fx.env());
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/error: Invalid --m(in|ax)-cost: must not be negative/);
    }
  });

  test('bad step flags, dates, dimensions and tags name the flag', async () => {
    const cases: [string[], RegExp][] = [
      [['query', 'hi', '--max-turns', '0'], /Invalid --max-turns: must be a positive integer/],
      [['query', 'hi', '--budget-usd', 'lots'], /Invalid --budget-usd/],
      [['query', 'hi', '--tag', 'no spaces'], /Invalid --tag: /],
      [['query', '   '], /Invalid prompt: must not be empty/],
      [['query', 'hi', '--permission-mode', 'yolo'], /argument 'yolo' is invalid/],
      [['sessions', 'search', '--after', 'yesterday'], /Invalid --after/],
      [['costs', '--by', 'week'], /Invalid --by: must be one of total, tag, model, day, month, pipeline/],
      [['cleanup', 'run', '--max-age-days', '-2'], /Invalid --max-age-days/],
      [['sessions', 'list', '--limit', '0'], /Invalid --limit/],
    ];
    const results = await Promise.all(cases.map(([args]) => cli(args, fx.env())));
    results.forEach((r, i) => {
      const [args, message] = cases[i]!;
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(message);
    });
  });

  test('a config file with an unknown key', async () => {
    const file = path.join(fx.home, 'bad-config.json');
    await writeFile(file, JSON.stringify({ mongoUri: 'mongodb://x' }));
    const r = await cli(['--config', file, 'sessions', 'list'], fx.env());
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/error: Invalid config mongoUri: is not a known key/);
  });
});

describe('unreachable servers exit 4', () => {
  test('Temporal', async () => {
    const r = await cli(['--json', 'query', 'hi'], { ...fx.env(), TEMPORAL_ADDRESS: '127.0.0.1:1' });
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/error: Temporal server unavailable at 127\.0\.0\.1:1/);
    expect(parseJson<{ error: { type: string } }>(r).error.type).toBe('Unavailable');
  });

  test('MongoDB', async () => {
    const r = await cli(['sessions', 'list'], { ...fx.env(), MONGODB_URI: 'mongodb://127.0.0.1:1/?directConnection=true' });
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/error: MongoDB unavailable at mongodb:\/\/127\.0\.0\.1:1/);
  });

  test('nothing configured and no local stack: says how to start one', async () => {
    const { TEMPORAL_ADDRESS: _t, MONGODB_URI: _m, ...env } = fx.env();
    const r = await cli(['costs'], env);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/error: No MongoDB URI configured and no local stack is running: run `claude-temporal stack up`/);
  });
});

describe('configuration', () => {
  test('flags beat the environment, which beats the config file', async () => {
    const file = path.join(fx.home, 'config.json');
    await writeFile(file, JSON.stringify({ mongodbUri: inject('mongoUri'), mongodbDb: fx.dbName }));
    const { MONGODB_URI: _m, MONGODB_DB: _d, ...env } = fx.env();
    // The file alone: works.
    const fromFile = await cli(['--json', 'sessions', 'list'], { ...env, CLAUDE_TEMPORAL_CONFIG: file });
    expect(fromFile.code).toBe(0);
    expect(parseJson(fromFile)).toEqual({ items: [], nextCursor: null });
    // The environment overrides the file: an unreachable server.
    const fromEnv = await cli(['sessions', 'list'], { ...env, CLAUDE_TEMPORAL_CONFIG: file, MONGODB_URI: 'mongodb://127.0.0.1:1/?directConnection=true' });
    expect(fromEnv.code).toBe(4);
    // A flag overrides the environment again.
    const fromFlag = await cli(['--mongodb-uri', inject('mongoUri'), 'sessions', 'list'], { ...env, CLAUDE_TEMPORAL_CONFIG: file, MONGODB_URI: 'mongodb://127.0.0.1:1/?directConnection=true' });
    expect(fromFlag.code).toBe(0);
  });
});

describe('offline commands', () => {
  test('schema prints the pipeline JSON Schema', async () => {
    const r = await cli(['schema'], fx.env());
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(renderSchemaFile());
  });

  test('--help and --version exit 0', async () => {
    const help = await cli(['sessions', 'search', '--help'], fx.env());
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--all-tags');
    expect((await cli(['--version'], fx.env())).code).toBe(0);
  });

  test('the committed schema and pipeline reference are the generated ones', async () => {
    expect(await readFile(SCHEMA_FILE, 'utf8')).toBe(renderSchemaFile());
    expect(await readFile(REFERENCE_FILE, 'utf8')).toBe(renderPipelineReference());
  });
});
