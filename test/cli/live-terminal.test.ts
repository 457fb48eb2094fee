/**
 * Live work on a pseudo-terminal (`script` from util-linux), keys typed as a user types them: Ctrl-C
 * detaches, a second Ctrl-C cancels, `watch --messages` tails the step, and the `chat` loop.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, inject, test } from 'vitest';
import { createClient, type ClaudeTemporalClient } from '../../src/client/index.js';
import { PROJECT_ROOT } from '../../src/paths.js';
import { waitFor } from '../helpers/durable.js';
import { cli, cliFixture, MAIN, startWorker } from './helpers.js';

let fx: Awaited<ReturnType<typeof cliFixture>>;
const clients: ClaudeTemporalClient[] = [];
beforeAll(async () => {
  fx = await cliFixture();
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await fx?.close();
});

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
// eslint-disable-next-line no-control-regex
const plain = (s: string) => s.replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '').replace(/\r/g, '\n');

interface Terminal {
  output(): string;
  type(keys: string): void;
  waitFor(re: RegExp, what: string, timeoutMs?: number): Promise<RegExpMatchArray>;
  exited: Promise<number | null>;
}

/** The CLI on a pseudo-terminal we type into. */
function terminal(args: string[], env: Record<string, string>): Terminal {
  // `exec`: the CLI itself, not a shell that would also take the Ctrl-C and report 130 for it.
  const command = `exec ${[MAIN, ...args].map(quote).join(' ')}`;
  const child = spawn('script', ['-qfec', command, '/dev/null'], { cwd: PROJECT_ROOT, env: { PATH: process.env.PATH, TERM: 'xterm', ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve(code));
  });
  return {
    output: () => plain(output),
    type: (keys) => void child.stdin.write(keys),
    async waitFor(re, what, timeoutMs = 90_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const m = plain(output).match(re);
        if (m) return m;
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(`no ${what} on the terminal:\n${plain(output)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    exited,
  };
}

async function setup() {
  const taskQueue = `cli-${randomUUID()}`;
  const worker = await startWorker(taskQueue, fx.dbName);
  const client = await createClient({ address: inject('temporalAddress'), taskQueue, store: fx.store });
  clients.push(client);
  return { worker, client, env: fx.env(taskQueue) };
}

test('the first Ctrl-C detaches and names the watch and cancel commands; the run goes on', async () => {
  const { worker, client, env } = await setup();
  try {
    const t = terminal(['query', '[[slow 200x60]] tell me slowly'], env);
    const [, id] = await t.waitFor(/workflow (query-[0-9a-f-]{36})/, 'workflow id');
    await t.waitFor(/steps · /, 'progress line');
    t.type('\u0003');
    expect(await t.exited).toBe(130);
    const out = t.output();
    expect(out).toContain(`Detached: ${id} goes on in the background.`);
    expect(out).toContain(`follow it: claude-temporal watch ${id}`);
    expect(out).toContain(`cancel it: claude-temporal cancel ${id}`);
    const desc = await client.temporal.workflow.getHandle(id!).describe();
    expect(desc.status.name).toBe('RUNNING');
    // Come back to it: `watch` exits with the run's exit code.
    const w = await cli(['watch', id!], env, { timeoutMs: 120_000 });
    expect(w.code, w.stderr).toBe(0);
    expect(w.stdout).toMatch(/status\s+success/);
  } finally {
    await worker.stop();
  }
}, 300_000);

test('a second Ctrl-C cancels the run and waits for it to stop', async () => {
  const { worker, client, env } = await setup();
  try {
    const t = terminal(['query', '[[slow 300x300]] a long story'], env);
    const [, id] = await t.waitFor(/workflow (query-[0-9a-f-]{36})/, 'workflow id');
    await t.waitFor(/steps · /, 'progress line');
    // The step has started (its entry is written): one cancelled before a worker picks it up leaves no entry.
    await waitFor('the step to start', async () => (await fx.store.runsOfWorkflows([id!])).length > 0);
    t.type('\u0003');
    await t.waitFor(/Detached: /, 'the detach note');
    t.type('\u0003');
    expect(await t.exited, t.output()).toBe(5);
    const out = t.output();
    expect(out).toContain(`Cancelling ${id} and waiting for it to stop`);
    expect(out).toMatch(/status\s+cancelled/);
    expect(out).toMatch(new RegExp(`cancelled: ${id}, \\$\\d+\\.\\d{4}`));
    expect((await client.temporal.workflow.getHandle(id!).describe()).status.name).toBe('CANCELLED');
    expect((await fx.store.runsOfWorkflows([id!])).map((r) => r.failureType)).toEqual(['Cancelled']);
  } finally {
    await worker.stop();
  }
}, 300_000);

test('watch --messages prints the running step\'s messages as they are stored', async () => {
  const { worker, client, env } = await setup();
  try {
    const run = await client.startPipeline({
      name: 'tail-me',
      steps: [{ mode: 'query', prompt: '[[delay 1500]] [[tool Bash echo hello-from-tool]] [[slow 300x20]] then write' }],
    });
    const t = terminal(['watch', run.workflowId, '--messages'], env);
    await t.waitFor(/⚙ Bash echo hello-from-tool/, 'the tool call');
    expect(await t.exited).toBe(0);
    expect(t.output()).toMatch(/pipeline tail-me\s+completed/);
  } finally {
    await worker.stop();
  }
}, 300_000);

test('the chat loop: a reply as it is stored, /cost, /fork, /exit', async () => {
  const { worker, env } = await setup();
  try {
    const key = `pty-${randomUUID().slice(0, 8)}`;
    const t = terminal(['chat', key], env);
    await t.waitFor(/you> /, 'the prompt');
    t.type('Hello, I am Bob\r');
    await t.waitFor(/exchange 1 · \$\d+\.\d{4}/, 'the first reply');
    expect(t.output()).toMatch(/reply to "Hello, I am Bob" after 1 user prompts/);
    t.type('/cost\r');
    await t.waitFor(/\$\d+\.\d{4} over 1 exchanges \(1 runs\), session [0-9a-f-]{36}/, 'the cost');
    t.type('/fork What if I were Carol\r');
    await t.waitFor(/forked [0-9a-f-]{36} into session [0-9a-f-]{36}; continuing there/, 'the fork');
    await t.waitFor(/exchange 2 · /, 'the forked reply');
    t.type('/exit\r');
    expect(await t.exited).toBe(0);
    expect(t.output()).toContain(`left ${key}; it stays open`);
    const record = await fx.store.getConversation(key);
    expect(record?.exchanges).toBe(2);
    await cli(['chat', key, '--close'], env);
  } finally {
    await worker.stop();
  }
}, 300_000);
