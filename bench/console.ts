/**
 * Console benchmark: the page of a session of 2,000 stored messages (prompts,
 * markdown replies, tool calls and results). Prints the server's time to
 * answer (store read + render, over HTTP) and, when Chromium is installed, the
 * time to first paint and to load, and the time to expand every tool call.
 * Run: `npm run bench:console` (BENCH_MESSAGES to change the size; MONGODB_URI
 * to use a real MongoDB instead of a private FerretDB server).
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { chromium } from 'playwright-core';
import { buildConversation } from '../src/console/conversation.js';
import { startConsole } from '../src/console/server.js';
import { sessionPage } from '../src/console/views/session.js';
import { startPrivateMongo } from './private-mongo.js';
import { createMongoStore } from '../src/store/mongo-store.js';

const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 2000);
const ROUNDS = 7;
const CHROMIUM = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p): p is string => Boolean(p) && existsSync(p!));

/** Four messages per turn: a prompt, a reply with a tool call, its result, a markdown answer. */
function conversation(count: number): unknown[] {
  const out: unknown[] = [];
  for (let turn = 0; out.length < count; turn++) {
    const id = `toolu_${turn}`;
    out.push({ type: 'user', message: { role: 'user', content: `Step ${turn}: look at src/file-${turn}.ts and explain what it does` } });
    out.push({ type: 'assistant', message: { role: 'assistant', model: 'claude-sonnet-5-5', content: [{ type: 'text', text: `Reading file ${turn}.` }, { type: 'tool_use', id, name: 'Read', input: { file_path: `/work/src/file-${turn}.ts` } }] } });
    out.push({ type: 'user', message: { role: 'user', content: [{ type: 'tool_result', tool_use_id: id, content: `export function f${turn}(x: number) {\n  return x * ${turn};\n}\n`.repeat(20) }] } });
    out.push({ type: 'assistant', message: { role: 'assistant', model: 'claude-sonnet-5-5', content: [{ type: 'text', text: `## File ${turn}\n\nIt defines **f${turn}**, which:\n\n- multiplies its input by ${turn}\n- has no side effects\n\n\`\`\`ts\nf${turn}(2) // ${turn * 2}\n\`\`\`` }] } });
  }
  return out.slice(0, count);
}

/** The console's own share: building the conversation and the page from messages in memory. */
async function renderTimes(store: ReturnType<typeof createMongoStore>, sessionId: string): Promise<number[]> {
  const loaded = await store.loadSession(sessionId);
  if (!loaded.found) throw new Error('bench session vanished');
  const messages = [];
  for await (const m of loaded.session.messages()) messages.push(m);
  const lineage = await store.getLineage(sessionId);
  const times: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const t0 = performance.now();
    const items = buildConversation({ messages, runs: new Map() });
    sessionPage({ metadata: loaded.session.metadata, lineage, runs: [], items, temporalUiUrl: null, namespace: 'default' });
    times.push(performance.now() - t0);
  }
  return times;
}

interface BrowserGlobals {
  performance: { now(): number; getEntriesByName(n: string): { startTime: number }[]; getEntriesByType(t: string): unknown[] };
  document: { getElementsByTagName(name: string): { length: number }; querySelector(s: string): { click(): void } | null };
  requestAnimationFrame(cb: () => void): void;
}

const ms = (n: number) => `${n.toFixed(0)} ms`;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const server = await startPrivateMongo('console');
  const dbName = `bench_console_${Date.now()}`;
  const store = createMongoStore({ uri: server.uri, dbName });
  const sessionId = randomUUID();
  try {
    await store.ensureIndexes();
    await store.saveSession(sessionId, conversation(MESSAGES), { tags: ['bench'], description: 'A long session' });
    const running = await startConsole({ store, client: null, temporalUiUrl: null, namespace: 'default' }, { port: 0 });
    const url = `${running.url}/sessions/${sessionId}`;
    try {
      const times: number[] = [];
      let bytes = 0;
      for (let i = 0; i < ROUNDS + 1; i++) {
        const t0 = performance.now();
        const res = await fetch(url);
        const body = await res.text();
        if (res.status !== 200) throw new Error(`GET ${url}: ${res.status}`);
        if (i > 0) times.push(performance.now() - t0); // the first warms the JIT and the server's caches
        bytes = Buffer.byteLength(body);
      }
      console.log(`session of ${MESSAGES} messages: page ${(bytes / 1024).toFixed(0)} KiB`);
      console.log(`server time (GET, store read + render): median ${ms(median(times))}, best ${ms(Math.min(...times))}, worst ${ms(Math.max(...times))} over ${ROUNDS} requests (target under 300 ms)`);
      console.log(`  of which render (conversation + HTML, messages already read): median ${ms(median(await renderTimes(store, sessionId)))}`);
      console.log(`  machine load average while measuring: ${loadavg()[0]!.toFixed(1)} on ${(await import('node:os')).cpus().length} cores`);
      if (!CHROMIUM) {
        console.log('browser figures skipped: no Chromium (install Debian\'s chromium package or set CHROMIUM_PATH)');
        return;
      }
      const profile = mkdtempSync(join(tmpdir(), 'bench-chromium-'));
      const browser = await chromium.launchPersistentContext(profile, {
        executablePath: CHROMIUM,
        headless: true,
        args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      });
      try {
        const fcp: number[] = [];
        const load: number[] = [];
        const expand: number[] = [];
        let nodes = 0;
        for (let i = 0; i < 3; i++) {
          const page = await browser.newPage();
          await page.goto(url, { waitUntil: 'load' });
          // Page code: typed loosely, since this project compiles without the DOM library.
          const t = await page.evaluate(() => {
            const w = globalThis as unknown as BrowserGlobals;
            const paint = w.performance.getEntriesByName('first-contentful-paint')[0];
            const nav = w.performance.getEntriesByType('navigation')[0] as unknown as { loadEventEnd: number };
            return { fcp: paint ? paint.startTime : NaN, load: nav.loadEventEnd, nodes: w.document.getElementsByTagName('*').length };
          });
          fcp.push(t.fcp);
          load.push(t.load);
          nodes = t.nodes;
          // Usable: expanding every tool call at once, then the next frame.
          expand.push(
            await page.evaluate(async () => {
              const w = globalThis as unknown as BrowserGlobals;
              const t0 = w.performance.now();
              w.document.querySelector('button.expand-all')!.click();
              await new Promise((r) => w.requestAnimationFrame(() => setTimeout(r, 0)));
              return w.performance.now() - t0;
            }),
          );
          await page.close();
        }
        console.log(`Chromium: first contentful paint median ${ms(median(fcp))}, load ${ms(median(load))} (${nodes} elements; tool calls collapsed)`);
        console.log(`Chromium: expanding all ${Math.floor(MESSAGES / 4)} tool calls and painting: median ${ms(median(expand))}`);
      } finally {
        await browser.close();
        rmSync(profile, { recursive: true, force: true });
      }
    } finally {
      await running.close();
    }
  } finally {
    await store.deleteSession(sessionId).catch(() => undefined);
    await store.close();
    await server.stop();
  }
}

await main();
