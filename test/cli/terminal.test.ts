/**
 * The live progress line under a pseudo-terminal (`script` from util-linux),
 * and the local stack commands (`stack up|status|down`) with a command that
 * falls back to the running local stack.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { PROJECT_ROOT } from '../../src/paths.js';
import { processRunning } from '../../src/processes.js';
import { cli, cliFixture, MAIN, parseJson, startWorker } from './helpers.js';

let fx: Awaited<ReturnType<typeof cliFixture>>;
beforeAll(async () => {
  fx = await cliFixture();
});
afterAll(async () => {
  await fx?.close();
});

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** Run the CLI on a pseudo-terminal; returns everything the terminal received. */
function underPty(args: string[], env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const command = [MAIN, ...args].map(quote).join(' ');
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qfec', command, '/dev/null'], { cwd: PROJECT_ROOT, env: { PATH: process.env.PATH, TERM: 'xterm', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

test('on a TTY the progress line redraws in place while the step runs', async () => {
  const taskQueue = `cli-${randomUUID()}`;
  const worker = await startWorker(taskQueue, fx.dbName);
  try {
    const { NO_COLOR: _n, ...env } = fx.env(taskQueue);
    const r = await underPty(['query', '[[slow 100x30]] hi'], env);
    expect(r.code, r.output).toBe(0);
    // eslint-disable-next-line no-control-regex
    const frames = r.output.split('\r').map((f) => f.replace(/\u001b\[[0-9;]*[A-Za-z]/g, '').trim()).filter((f) => / · \d+\/1 steps · /.test(f));
    expect(new Set(frames).size).toBeGreaterThanOrEqual(3);
    expect(frames[0]).toMatch(/step-1|starting/);
    // Colours on a TTY without NO_COLOR; the result follows the cleared line.
    expect(r.output).toContain('\u001b[32m');
    expect(r.output).toMatch(/reply to "\[\[slow 100x30\]\] hi" after 1 user prompts/);

    const plain = await underPty(['query', 'hello'], { ...env, NO_COLOR: '1' });
    expect(plain.code).toBe(0);
    expect(plain.output).not.toContain('\u001b[32m');
  } finally {
    await worker.stop();
  }
});

test('stack up, status and down; commands use the running local stack', async () => {
  const { TEMPORAL_ADDRESS: _t, MONGODB_URI: _m, ...env } = fx.env();
  const home = path.join(fx.home, `stack-${randomUUID().slice(0, 8)}`);
  const stackEnv = { ...env, CLAUDE_TEMPORAL_HOME: home };
  try {
    const up = await cli(['--json', 'stack', 'up', '--no-ui'], stackEnv, { timeoutMs: 120_000 });
    expect(up.code, up.stderr).toBe(0);
    const state = parseJson<{ temporalAddress: string; mongoUri: string; stubUrl: string; pids: Record<string, number>; running: boolean; started: boolean }>(up);
    expect(state).toMatchObject({ running: true, started: true, temporalUiUrl: null, stateFile: path.join(home, 'state.json') });
    expect(Object.keys(state.pids).sort()).toEqual(['ferretdb', 'stub', 'temporal']);

    const status = parseJson<{ running: boolean; services: Record<string, boolean> }>(await cli(['--json', 'stack', 'status'], stackEnv));
    expect(status).toMatchObject({ running: true, services: { temporal: true, ferretdb: true, stub: true } });
    const second = parseJson<{ started: boolean }>(await cli(['--json', 'stack', 'up'], stackEnv));
    expect(second.started).toBe(false);

    const list = await cli(['--json', 'sessions', 'list'], stackEnv);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stderr).toContain(`using the local stack at ${state.temporalAddress}`);
    const schedule = await cli(['--json', 'cleanup', 'status'], stackEnv);
    expect(schedule.code, schedule.stderr).toBe(0);

    const down = await cli(['--json', 'stack', 'down'], stackEnv);
    expect(down.code, down.stderr).toBe(0);
    expect(parseJson<{ stopped: Record<string, number> }>(down).stopped).toEqual(state.pids);
    for (const pid of Object.values(state.pids)) expect(processRunning(pid)).toBe(false);

    const gone = await cli(['costs'], stackEnv);
    expect(gone.code).toBe(4);
    expect(gone.stderr).toMatch(/no local stack is running: run `claude-temporal stack up`/);
  } finally {
    await cli(['stack', 'down'], stackEnv);
  }
});
