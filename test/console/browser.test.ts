/**
 * The console in headless Chromium (Debian's `chromium`, driven by
 * playwright-core through its executable path): every page, a session to one
 * of its forks and back, filtering costs, markup in model output staying text,
 * and a live run advancing and then cancelled after the confirmation. The
 * README's screenshots come from here (UPDATE_SCREENSHOTS=1 writes them into
 * docs/; otherwise they go to a temporary folder).
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { PROJECT_ROOT } from '../../src/paths.js';
import { waitFor } from '../helpers/durable.js';
import { setupConsoleFixture, type ConsoleFixture } from './fixture.js';

const CANDIDATES = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter((p): p is string => Boolean(p));
const executablePath = CANDIDATES.find((p) => existsSync(p));
const why = `no Chromium at ${CANDIDATES.join(' or ')} (install Debian's chromium package, or set CHROMIUM_PATH)`;
if (!executablePath) {
  if (process.env.CI) throw new Error(`Browser tests cannot run in CI: ${why}`);
  console.warn(`console browser tests SKIPPED: ${why}`);
}

const shots = process.env.UPDATE_SCREENSHOTS === '1' ? path.join(PROJECT_ROOT, 'docs') : undefined;

describe.skipIf(!executablePath)('console in Chromium', () => {
  let f: ConsoleFixture;
  let browser: BrowserContext;
  let profile: string;
  let shotDir: string;
  const problems: string[] = [];

  beforeAll(async () => {
    f = await setupConsoleFixture();
    profile = await mkdtemp(path.join(os.tmpdir(), 'ct-chromium-'));
    shotDir = shots ?? (await mkdtemp(path.join(os.tmpdir(), 'ct-shots-')));
    browser = await chromium.launchPersistentContext(profile, {
      executablePath,
      headless: true,
      viewport: { width: 1280, height: 900 },
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });
  afterAll(async () => {
    await browser?.close();
    await f?.close();
    if (profile) await rm(profile, { recursive: true, force: true });
    if (!shots && shotDir) await rm(shotDir, { recursive: true, force: true });
  });

  async function open(url: string): Promise<Page> {
    const page = await browser.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(m.text());
    });
    page.on('pageerror', (e) => problems.push(e.message));
    await page.goto(f.console.url + url);
    return page;
  }

  test('each page opens without script errors or CSP violations', async () => {
    for (const [url, heading] of [['/sessions', 'Sessions'], [`/sessions/${f.rootSessionId}`, 'Session'], ['/costs', 'Costs'], ['/live', 'Live']] as const) {
      const page = await open(url);
      expect(await page.locator('h1').innerText()).toContain(heading);
      await page.close();
    }
    expect(problems).toEqual([]);
  });

  test('a session, one of its forks, and back; tool calls collapsed and expandable', async () => {
    const page = await open(`/sessions?tag=${f.tag}`);
    await page.screenshot({ path: path.join(shotDir, 'console-sessions.png') });
    await page.click(`a[href="/sessions/${f.rootSessionId}"]`);
    await page.waitForURL(`**/sessions/${f.rootSessionId}`);
    const tool = page.locator('details.tool').first();
    expect(await tool.getAttribute('open')).toBeNull();
    expect(await page.locator('details.tool pre.tool-result').first().isVisible()).toBe(false);
    await page.click('button.expand-all');
    await page.locator('details.tool pre.tool-result').first().waitFor({ state: 'visible' });
    expect(await page.locator('.forked-here').innerText()).toContain(f.forkSessionId.slice(0, 8));
    await page.screenshot({ path: path.join(shotDir, 'console-session.png'), fullPage: true });

    await page.click(`.forked-here a[href="/sessions/${f.forkSessionId}"]`);
    await page.waitForURL(`**/sessions/${f.forkSessionId}`);
    expect(await page.locator('a.parent').getAttribute('href')).toBe(`/sessions/${f.rootSessionId}`);
    await page.goBack();
    await page.waitForURL(`**/sessions/${f.rootSessionId}`);
    expect(await page.locator('a.parent').count()).toBe(0); // a root has no parent
    expect(await page.locator('h1').innerText()).toContain(f.rootSessionId);
    await page.close();
  });

  test('filtering the costs keeps the filters in the URL and restacks the charts', async () => {
    const page = await open('/costs');
    await page.fill('input[name="tag"]', f.tag);
    await page.selectOption('select[name="stack"]', 'model');
    await page.click('form.filters button[type="submit"]');
    await page.waitForURL(/stack=model/);
    expect(page.url()).toContain(`tag=${f.tag}`);
    expect(await page.locator('figcaption').first().innerText()).toContain('stacked by model');
    expect(await page.locator('#estimated-total').innerText()).toBe('$0.2500');
    expect(await page.locator('#by-pipeline').innerText()).toContain('console-docs');
    await page.screenshot({ path: path.join(shotDir, 'console-costs.png'), fullPage: true });
    await page.close();
  });

  test('markup in a tool result and in assistant text shows as text and runs nothing', async () => {
    const page = await open(`/sessions/${f.xssSessionId}`);
    await page.click('button.expand-all');
    expect(await page.locator('pre.tool-result').innerText()).toContain('<script>window.__xss = 1</script><img src=x onerror=');
    expect(await page.locator('.msg.assistant').innerText()).toContain('<script>window.__xss = 1</script>');
    expect(await page.evaluate(() => (globalThis as unknown as { __xss?: number }).__xss)).toBeUndefined();
    expect(await page.locator('main img').count()).toBe(0);
    expect(await page.locator('main script').count()).toBe(0);
    await page.close();
  });

  test('a live run advances on the page and is cancelled after the confirmation', async () => {
    const workflowId = `console-live-${randomUUID()}`;
    const run = await f.worker.client.startPipeline(
      {
        name: 'console-live',
        tags: [f.tag],
        defaults: { maxTurns: 40, allowedTools: ['Bash'] },
        steps: [{ name: 'long-task', mode: 'query', prompt: 'Work through the list [[tools 60]] [[delay 700]]' }],
      },
      { workflowId },
    );
    const page = await open('/live');
    const card = page.locator(`article.live-run[data-workflow-id="${workflowId}"]`);
    await card.waitFor({ timeout: 60_000 });
    const count = async () => Number((await card.locator('.msg-count').first().textContent({ timeout: 60_000 })) ?? 0);
    const first = await waitFor('the first stored messages on the live page', async () => ((await count()) >= 2 ? count() : undefined), 90_000);
    await waitFor('more messages on the live page', async () => (await count()) > first, 90_000);
    await card.locator('.tail details.tool').first().waitFor({ state: 'attached' });
    await page.screenshot({ path: path.join(shotDir, 'console-live.png'), fullPage: true });

    await card.locator('a.cancel').click();
    await page.waitForURL(`**/live/${workflowId}/cancel`);
    expect(await page.locator('h1').innerText()).toContain(workflowId);
    await page.click('button.danger');
    await page.waitForURL('**/live');
    await waitFor('the workflow to stop', async () => (await run.handle.describe()).status.name !== 'RUNNING', 90_000);
    await waitFor('the run to leave the live page', async () => (await page.locator(`article.live-run[data-workflow-id="${workflowId}"]`).count()) === 0, 30_000);
    expect((await run.handle.describe()).status.name).toBe('CANCELLED');
    await page.close();
  });
});
