import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClaudeTemporalError } from '../../src/model/failures.js';
import { DEFAULT_CONTINUE_PROMPT, defaultClaudePath, runClaude, type ParsedLine, type RunOptions, type RunRequest } from '../../src/runner/index.js';
import { userPrompts } from '../../src/stub/replies.js';
import { startStub, type StubServer } from '../../src/stub/server.js';
import { FAKE_CLAUDE } from './helpers.js';
import { processRunning } from '../../src/processes.js';
import { descendants } from '../../src/runner/process-tree.js';
import { commOf } from '../helpers/processes.js';
import { TEST_HOME } from '../helpers/home.js';

let stub: StubServer;
const roots: string[] = [];

beforeAll(async () => {
  stub = await startStub();
});
afterAll(async () => {
  await stub.close();
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

/** A fresh config dir and cwd for one test. */
function sandbox(): { configDir: string; cwd: string } {
  const root = mkdtempSync(join(tmpdir(), 'runner-test-'));
  roots.push(root);
  const configDir = join(root, 'config');
  const cwd = join(root, 'cwd');
  mkdirSync(configDir);
  mkdirSync(cwd);
  return { configDir, cwd };
}

function options(box: { configDir: string; cwd: string }, extra: Partial<RunOptions> = {}): RunOptions {
  return { configDir: box.configDir, workDir: box.cwd, maxRetries: 0, baseEnv: { ANTHROPIC_BASE_URL: stub.url, ANTHROPIC_API_KEY: 'dummy-key', HOME: TEST_HOME }, ...extra };
}

async function run(box: { configDir: string; cwd: string }, request: RunRequest, extra: Partial<RunOptions> = {}) {
  const lines: ParsedLine[] = [];
  const outcome = await runClaude(request, options(box, { onBatch: (b) => void lines.push(...b), ...extra }));
  return { outcome, lines };
}

function requestsWith(text: string) {
  return stub.requests.filter((r) => r.path === '/v1/messages' && userPrompts(r.body).some((p) => p.includes(text)));
}

describe('runClaude with the real CLI against the stub', () => {
  it('query: success, session id, cost, every line delivered in order', async () => {
    const box = sandbox();
    const { outcome, lines } = await run(box, { mode: 'query', prompt: 'hello query' });
    expect(outcome.failure).toBeUndefined();
    expect(outcome.status).toBe('success');
    expect(outcome.sessionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(outcome.resultText).toBe('reply to "hello query" after 1 user prompts');
    expect(outcome.exitCode).toBe(0);
    expect(outcome.runCostUsd).toBeGreaterThan(0);
    expect(outcome.cumulativeCostUsd).toBeCloseTo(outcome.runCostUsd, 10);
    expect(Object.keys(outcome.usageByModel)).toHaveLength(1);
    expect(outcome.models).toHaveLength(1);
    expect(lines.map((l) => l.type)).toEqual(['system', 'assistant', 'result']);
    expect(outcome.messageCount).toBe(lines.length);
    expect(lines.map((l) => l.lineNumber)).toEqual([1, 2, 3]);
    // Transcript lands in the chosen config dir, not in HOME.
    expect(readdirSync(join(box.configDir, 'projects'))).toHaveLength(1);
  });

  it('resume keeps the id and carries the history; fork gets a new id with the history', async () => {
    const box = sandbox();
    const first = await run(box, { mode: 'query', prompt: 'resume-first' });
    const id = first.outcome.sessionId as string;
    const resumed = await run(box, { mode: 'resume', sessionId: id, prompt: 'resume-second' });
    expect(resumed.outcome.status).toBe('success');
    expect(resumed.outcome.sessionId).toBe(id);
    expect(resumed.outcome.resultText).toBe('reply to "resume-second" after 2 user prompts');
    expect(userPrompts(requestsWith('resume-second')[0]?.body)).toEqual(['resume-first', 'resume-second']);
    // 2.1.330: total is the lineage's, run cost is this run's only.
    expect(resumed.outcome.cumulativeCostUsd).toBeCloseTo(first.outcome.runCostUsd + resumed.outcome.runCostUsd, 10);

    const forkId = '22222222-2222-4222-8222-2222222222aa';
    const forked = await run(box, { mode: 'fork', sessionId: id, newSessionId: forkId, prompt: 'resume-third' });
    expect(forked.outcome.status).toBe('success');
    expect(forked.outcome.sessionId).toBe(forkId);
    expect(forked.outcome.resultText).toBe('reply to "resume-third" after 3 user prompts');

    const unnamed = await run(box, { mode: 'fork', sessionId: id, prompt: 'resume-fourth' });
    expect(unnamed.outcome.sessionId).not.toBe(id);
    expect(unnamed.outcome.sessionId).not.toBe(forkId);
    expect(unnamed.outcome.resultText).toBe('reply to "resume-fourth" after 3 user prompts');
  });

  it('continue takes the most recent session of the cwd, with the default prompt when none', async () => {
    const box = sandbox();
    const first = await run(box, { mode: 'query', prompt: 'continue-first' });
    const cont = await run(box, { mode: 'continue' });
    expect(cont.outcome.status).toBe('success');
    expect(cont.outcome.sessionId).toBe(first.outcome.sessionId);
    expect(cont.outcome.resultText).toBe(`reply to "${DEFAULT_CONTINUE_PROMPT}" after 2 user prompts`);
  });

  it('tool use over two turns', async () => {
    const box = sandbox();
    const { outcome, lines } = await run(box, { mode: 'query', prompt: '[[tool Bash echo tool-ran]] use a tool', allowedTools: ['Bash'] });
    expect(outcome.status).toBe('success');
    expect(outcome.numTurns).toBe(2);
    expect(outcome.resultText).toContain('after tool: "tool-ran"');
    expect(lines.map((l) => l.type)).toEqual(['system', 'assistant', 'user', 'assistant', 'result']);
  });

  it('max turns is status max_turns with MaxTurnsReached', async () => {
    const box = sandbox();
    const { outcome } = await run(box, { mode: 'query', prompt: '[[tools 5]] loop', allowedTools: ['Bash'], maxTurns: 1 });
    expect(outcome.status).toBe('max_turns');
    expect(outcome.subtype).toBe('error_max_turns');
    expect(outcome.failure).toMatchObject({ type: 'MaxTurnsReached', retryable: false });
  });

  it('max budget is status budget_exceeded with BudgetExceeded', async () => {
    const box = sandbox();
    const { outcome } = await run(box, { mode: 'query', prompt: '[[usage 100000 5000]] spend', maxBudgetUsd: 0.01 });
    expect(outcome.status).toBe('budget_exceeded');
    expect(outcome.subtype).toBe('error_max_budget_usd');
    expect(outcome.failure?.type).toBe('BudgetExceeded');
    expect(outcome.runCostUsd).toBeGreaterThan(0.01);
  });

  it('unknown session id is SessionNotFound; a used --session-id is SessionIdInUse', async () => {
    const box = sandbox();
    const missing = await run(box, { mode: 'resume', sessionId: '00000000-0000-4000-8000-000000000000', prompt: 'x' });
    expect(missing.outcome.failure).toMatchObject({ type: 'SessionNotFound', retryable: false });
    expect(missing.outcome.sessionId).toBe('00000000-0000-4000-8000-000000000000');
    const id = '44444444-4444-4444-8444-444444444444';
    expect((await run(box, { mode: 'query', prompt: 'in-use first', newSessionId: id })).outcome.status).toBe('success');
    const again = await run(box, { mode: 'query', prompt: 'in-use again', newSessionId: id });
    expect(again.outcome.failure).toMatchObject({ type: 'SessionIdInUse', retryable: true });
    expect(again.outcome.failure?.evidence.stderrTail).toMatch(/already in use/);
  });

  it.each([
    [401, 'ClaudeAuthError'],
    [403, 'ClaudeAuthError'],
    [400, 'ClaudeBadRequest'],
    [429, 'RateLimited'],
    [500, 'ServerError'],
    [529, 'Overloaded'],
  ] as const)('HTTP %i is %s', async (status, type) => {
    const box = sandbox();
    const { outcome } = await run(box, { mode: 'query', prompt: `[[error ${status}]] fail` });
    expect(outcome.status).toBe('failed');
    expect(outcome.failure).toMatchObject({ type, evidence: { status } });
    expect(outcome.runCostUsd).toBe(0);
  });

  it('a transient 529 is retried by the CLI when retries are allowed', async () => {
    const box = sandbox();
    const { outcome, lines } = await run(box, { mode: 'query', prompt: '[[error 529 x1]] flaky' }, { maxRetries: 1 });
    expect(outcome.status).toBe('success');
    expect(lines.some((l) => l.type === 'system' && l.data.subtype === 'api_retry')).toBe(true);
  });

  it('a reply of several MB comes through whole', async () => {
    const box = sandbox();
    const { outcome } = await run(box, { mode: 'query', prompt: '[[long 5000000]] big' });
    expect(outcome.status).toBe('success');
    expect(outcome.resultText).toHaveLength(5_000_000);
  });

  it('a line over the configured maximum is MalformedOutput', async () => {
    const box = sandbox();
    const { outcome, lines } = await run(box, { mode: 'query', prompt: '[[long 300000]] too big' }, { maxLineBytes: 100_000 });
    expect(outcome.failure).toMatchObject({ type: 'MalformedOutput', retryable: false });
    expect(lines.some((l) => l.type === 'malformed' && l.reason === 'too_long')).toBe(true);
  });

  it('cancellation mid-stream kills the whole tree', async () => {
    const box = sandbox();
    const controller = new AbortController();
    let pid = 0;
    let tree: number[] = [];
    const outcome = await runClaude(
      { mode: 'query', prompt: '[[tool Bash echo waiting && sleep 300]] wait', allowedTools: ['Bash'] },
      options(box, {
        signal: controller.signal,
        killDelayMs: 1000,
        onSpawn: (p) => (pid = p),
        onMessage: (m) => {
          if (m.type === 'assistant') {
            // The tool is running: note the tree, then cancel.
            setTimeout(() => {
              tree = descendants(pid);
              controller.abort();
            }, 500);
          }
        },
      }),
    );
    expect(outcome.failure).toMatchObject({ type: 'Cancelled', retryable: false });
    expect(outcome.status).toBe('failed');
    expect(pid).toBeGreaterThan(0);
    expect(tree.length).toBeGreaterThan(0);
    expect(processRunning(pid)).toBe(false);
    for (const p of tree) expect(processRunning(p)).toBe(false);
  });

  it('cancellation while streaming a slow reply', async () => {
    const box = sandbox();
    const controller = new AbortController();
    let pid = 0;
    const outcome = await runClaude(
      { mode: 'query', prompt: '[[slow 100x300]] slow' },
      options(box, {
        signal: controller.signal,
        killDelayMs: 1000,
        onSpawn: (p) => (pid = p),
        onMessage: (m) => {
          if (m.type === 'system') setTimeout(() => controller.abort(), 300);
        },
      }),
    );
    expect(outcome.failure?.type).toBe('Cancelled');
    expect(processRunning(pid)).toBe(false);
  });

  it('timeout is TimedOut', async () => {
    const box = sandbox();
    const { outcome } = await run(box, { mode: 'query', prompt: '[[hang]] never', timeoutMs: 1500 }, { killDelayMs: 500 });
    expect(outcome.failure).toMatchObject({ type: 'TimedOut', retryable: true });
  });

  it('batches by size, with back-pressure, and a final flush', async () => {
    const box = sandbox();
    const batches: ParsedLine[][] = [];
    const outcome = await runClaude(
      { mode: 'query', prompt: '[[tools 3]] batches', allowedTools: ['Bash'] },
      options(box, {
        batchSize: 2,
        batchIntervalMs: 60_000,
        onBatch: async (b) => {
          batches.push(b);
          await new Promise((r) => setTimeout(r, 100));
        },
      }),
    );
    expect(outcome.status).toBe('success');
    expect(batches.every((b) => b.length <= 2)).toBe(true);
    const all = batches.flat();
    expect(all).toHaveLength(outcome.messageCount);
    expect(all.map((l) => l.lineNumber)).toEqual(all.map((_, i) => i + 1));
  });

  it('an error thrown by a callback kills the run and is rethrown', async () => {
    const box = sandbox();
    await expect(
      runClaude({ mode: 'query', prompt: 'callback fails' }, options(box, { onMessage: () => Promise.reject(new Error('store down')) })),
    ).rejects.toThrow('store down');
  });

  it('the prompt waits for promptAfter: the CLI starts meanwhile, and asks the API nothing until it settles, however long that takes', async () => {
    const box = sandbox();
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    let spawned = 0;
    const running = run(box, { mode: 'query', prompt: 'gated prompt' }, { promptAfter: gate, onSpawn: () => (spawned = Date.now()) });
    await new Promise((r) => setTimeout(r, 4000)); // longer than the 3 s the CLI waits for a first byte
    expect(spawned).toBeGreaterThan(0);
    expect(requestsWith('gated prompt')).toHaveLength(0);
    open();
    const { outcome } = await running;
    expect(outcome.status).toBe('success');
    expect(requestsWith('gated prompt')).toHaveLength(1);
  });

  it('a rejected promptAfter stops the run before the CLI has its prompt, and is rethrown', async () => {
    const box = sandbox();
    let pid = 0;
    await expect(
      run(box, { mode: 'query', prompt: 'never sent' }, { promptAfter: Promise.reject(new Error('entry not written')), onSpawn: (p) => (pid = p) }),
    ).rejects.toThrow('entry not written');
    expect(pid).toBeGreaterThan(0);
    expect(processRunning(pid)).toBe(false);
    expect(requestsWith('never sent')).toHaveLength(0);
  });
});

describe('runClaude before spawn', () => {
  it('bad input throws InvalidInput and runs nothing', async () => {
    const box = sandbox();
    const before = stub.requests.length;
    await expect(runClaude({ mode: 'resume', prompt: 'x' } as RunRequest, options(box))).rejects.toMatchObject({ type: 'InvalidInput', evidence: { field: 'sessionId' } });
    await expect(runClaude({ mode: 'query', prompt: 'x', cwd: '/nonexistent/dir' }, options(box))).rejects.toMatchObject({ type: 'InvalidInput', evidence: { field: 'cwd' } });
    expect(stub.requests.length).toBe(before);
  });

  it('a missing or non-executable binary is ClaudeBinaryMissing naming the path', async () => {
    const box = sandbox();
    const missing = join(box.cwd, 'no-such-claude');
    await expect(runClaude({ mode: 'query', prompt: 'x' }, options(box, { claudePath: missing }))).rejects.toSatisfy(
      (e: unknown) => e instanceof ClaudeTemporalError && e.type === 'ClaudeBinaryMissing' && e.message.includes(missing),
    );
    const plain = join(box.cwd, 'not-executable');
    writeFileSync(plain, '#!/bin/sh\n');
    chmodSync(plain, 0o644);
    await expect(runClaude({ mode: 'query', prompt: 'x' }, options(box, { claudePath: plain }))).rejects.toMatchObject({ type: 'ClaudeBinaryMissing' });
    await expect(runClaude({ mode: 'query', prompt: 'x' }, options(box, { claudePath: 'no-such-claude-on-path' }))).rejects.toMatchObject({ type: 'ClaudeBinaryMissing' });
  });

  it('the default binary is the installed CLI', () => {
    expect(defaultClaudePath()).toMatch(/@anthropic-ai\/claude-code\/bin\/claude/);
  });
});

describe('runClaude with a fake CLI (what the real one cannot do)', () => {
  const fake = (mode: string): RunRequest => ({ mode: 'query', prompt: 'x', env: { FAKE_CLAUDE_MODE: mode } });

  it('garbage on stdout is MalformedOutput, the bad line kept', async () => {
    const box = sandbox();
    const { outcome, lines } = await run(box, fake('garbage'), { claudePath: FAKE_CLAUDE });
    expect(outcome.failure).toMatchObject({ type: 'MalformedOutput' });
    expect(lines.find((l) => l.type === 'malformed')?.raw).toBe('this is not json');
  });

  it('a crash mid-line is Crashed (retryable), not bad output', async () => {
    const box = sandbox();
    const { outcome, lines } = await run(box, fake('crash-mid-line'), { claudePath: FAKE_CLAUDE });
    expect(outcome.failure).toMatchObject({ type: 'Crashed', retryable: true });
    expect(outcome.signal).toBe('SIGKILL');
    expect(outcome.sessionId).toBe('33333333-3333-4333-8333-333333333333');
    expect(lines.at(-1)?.type).toBe('malformed');
  });

  it('a hang without output is cancelled with its grandchild', async () => {
    const box = sandbox();
    const controller = new AbortController();
    let pid = 0;
    // Cancelled once the grandchild runs (and has been announced): on a slow start a fixed delay could come first.
    let watch: NodeJS.Timeout | undefined;
    const onSpawn = (p: number) => {
      pid = p;
      watch = setInterval(() => {
        if (!descendants(p).some((d) => commOf(d) === 'sleep')) return;
        clearInterval(watch);
        setTimeout(() => controller.abort(), 100);
      }, 50);
    };
    const { outcome } = await run(box, fake('hang'), { claudePath: FAKE_CLAUDE, signal: controller.signal, killDelayMs: 500, onSpawn }).finally(() => clearInterval(watch));
    expect(outcome.failure?.type).toBe('Cancelled');
    const grandchild = Number(/grandchild (\d+)/.exec(outcome.stderrTail)?.[1]);
    expect(grandchild).toBeGreaterThan(0);
    expect(processRunning(pid)).toBe(false);
    expect(processRunning(grandchild)).toBe(false);
  });

  it('the child gets a minimal environment, never the parent one wholesale', async () => {
    const box = sandbox();
    process.env.RUNNER_TEST_PARENT_SECRET = 'leak';
    try {
      const { lines } = await run(box, { ...fake('env'), env: { FAKE_CLAUDE_MODE: 'env', EXTRA_ONE: 'yes' } }, { claudePath: FAKE_CLAUDE, maxRetries: 3 });
      const envLine = lines.find((l) => l.type === 'system' && l.data.subtype === 'env');
      const env = (envLine?.type === 'system' ? envLine.data.env : {}) as Record<string, string>;
      expect(env.RUNNER_TEST_PARENT_SECRET).toBeUndefined();
      expect(env).toMatchObject({
        EXTRA_ONE: 'yes',
        ANTHROPIC_BASE_URL: stub.url,
        ANTHROPIC_API_KEY: 'dummy-key',
        CLAUDE_CONFIG_DIR: box.configDir,
        CLAUDE_CODE_MAX_RETRIES: '3',
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
        DISABLE_AUTOUPDATER: '1',
      });
      expect(env.PATH).toBe(process.env.PATH);
    } finally {
      delete process.env.RUNNER_TEST_PARENT_SECRET;
    }
  });
});
