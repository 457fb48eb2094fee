import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect, inject, test } from 'vitest';
import { runClaude } from '../../src/runner/run.js';
import { type ParsedLine } from '../../src/runner/parser.js';
import { userPrompts } from '../../src/stub/replies.js';
import { type RecordedRequest } from '../../src/stub/server.js';
import { TEST_HOME } from '../helpers/home.js';

test('the real claude binary, run against the stack stub, reports a system/init session id and a result', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ct-smoke-claude-'));
  try {
    const marker = `smoke-${randomUUID()}`;
    const lines: ParsedLine[] = [];
    const outcome = await runClaude(
      { mode: 'query', prompt: `${marker} say hello` },
      {
        configDir: path.join(dir, 'config'),
        workDir: dir,
        baseEnv: { ANTHROPIC_BASE_URL: inject('stubUrl'), ANTHROPIC_API_KEY: 'sk-ant-test-dummy', HOME: TEST_HOME },
        onMessage: (m) => void lines.push(m),
      },
    );
    const init = lines.find((l) => l.type === 'system' && l.data.subtype === 'init');
    expect(init && 'data' in init ? init.data.session_id : undefined).toBe(outcome.sessionId);
    expect(outcome.sessionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(outcome.status).toBe('success');
    expect(lines.at(-1)?.type).toBe('result');
    expect(outcome.resultText).toContain(marker);

    const recorded = (await (await fetch(`${inject('stubUrl')}/_stub/requests`)).json()) as RecordedRequest[];
    const mine = recorded.filter((r) => r.path === '/v1/messages' && JSON.stringify(r.body).includes(marker));
    expect(mine).toHaveLength(1);
    expect(userPrompts(mine[0]!.body)).toEqual([`${marker} say hello`]);
    expect(mine[0]!.headers['x-api-key']).toBe('sk-ant-test-dummy');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
