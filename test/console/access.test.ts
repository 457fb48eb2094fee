/**
 * Who may reach the console: the token on every request when one is set, a
 * refused non-loopback host without one (in the library and the CLI, exit 2,
 * nothing started), and the `console` command serving until SIGTERM.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startConsole, TOKEN_COOKIE } from '../../src/console/server.js';
import { createMongoStore, type MongoSessionStore } from '../../src/store/mongo-store.js';
import { inject } from 'vitest';
import { cli, cliFixture, MAIN } from '../cli/helpers.js';

let fx: Awaited<ReturnType<typeof cliFixture>>;
let store: MongoSessionStore;
beforeAll(async () => {
  fx = await cliFixture();
  store = createMongoStore({ uri: inject('mongoUri'), dbName: fx.dbName });
});
afterAll(async () => {
  await store?.close();
  await fx?.close();
});

const TOKEN = `t-${randomUUID()}`;

test('with a token, every request needs it: bearer, cookie, or ?token= once (then a cookie)', async () => {
  const c = await startConsole({ store, client: null, temporalUiUrl: null, namespace: 'default' }, { port: 0, token: TOKEN });
  try {
    const plain = await fetch(`${c.url}/sessions`, { redirect: 'manual' });
    expect(plain.status).toBe(401);
    expect(await plain.text()).not.toContain('<html');
    expect((await fetch(`${c.url}/assets/console.js`)).status).toBe(401);
    expect((await fetch(`${c.url}/sessions`, { headers: { authorization: 'Bearer wrong-token-000000' } })).status).toBe(401);
    expect((await fetch(`${c.url}/sessions`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);

    const first = await fetch(`${c.url}/costs?token=${TOKEN}&stack=model`, { redirect: 'manual' });
    expect(first.status).toBe(303);
    expect(first.headers.get('location')).toBe('/costs?stack=model');
    const setCookie = first.headers.get('set-cookie')!;
    expect(setCookie).toContain('HttpOnly');
    expect(setCookie).toContain('SameSite=Strict');
    const cookie = setCookie.split(';')[0]!;
    expect(cookie.startsWith(`${TOKEN_COOKIE}=`)).toBe(true);
    const withCookie = await fetch(`${c.url}/costs?stack=model`, { headers: { cookie } });
    expect(withCookie.status).toBe(200);
    // Temporal is not reachable here: the live page says so and the rest works.
    expect(await (await fetch(`${c.url}/live`, { headers: { cookie } })).text()).toContain('Temporal is not reachable');
  } finally {
    await c.close();
  }
});

test('a non-loopback host without a token is refused before anything listens', async () => {
  await expect(startConsole({ store, client: null, temporalUiUrl: null, namespace: 'default' }, { host: '0.0.0.0', port: 0 })).rejects.toMatchObject({ type: 'InvalidInput', message: expect.stringContaining('host') });
  const r = await cli(['console', '--host', '0.0.0.0', '--port', '0'], fx.env());
  expect(r.code).toBe(2);
  expect(r.stderr).toContain('Invalid --host');
  expect(r.stderr).toContain('CLAUDE_TEMPORAL_CONSOLE_TOKEN');
  for (const [args, field] of [
    [['--port', 'eighty'], '--port'],
    [['--port', '70000'], '--port'],
  ] as const) {
    const bad = await cli(['console', ...args], fx.env());
    expect(bad.code, args.join(' ')).toBe(2);
    expect(bad.stderr).toContain(`Invalid ${field}`);
  }
  const short = await cli(['console', '--port', '0'], { ...fx.env(), CLAUDE_TEMPORAL_CONSOLE_TOKEN: 'short' });
  expect(short.code).toBe(2);
  expect(short.stderr).toContain('Invalid CLAUDE_TEMPORAL_CONSOLE_TOKEN');
});

test('`claude-temporal console` serves the store until SIGTERM', async () => {
  const child = spawn(MAIN, ['--json', 'console', '--port', '0'], { env: { PATH: process.env.PATH, ...fx.env() }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  try {
    const ready = await new Promise<{ url: string }>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        try {
          resolve(JSON.parse(out) as { url: string });
        } catch {
          // Not all of it yet.
        }
      });
      void exited.then((code) => reject(new Error(`console exited ${code}: ${err}`)));
    });
    expect(ready.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const res = await fetch(`${ready.url}/sessions`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('No sessions match');
  } finally {
    // Whatever failed above, the console this test started does not outlive it.
    child.kill('SIGTERM');
  }
  expect(await exited).toBe(0);
});
