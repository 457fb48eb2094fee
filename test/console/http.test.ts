/**
 * Every console route over HTTP against the real stack: status, content type,
 * security headers, what the page shows, and bad input as a 400 naming the
 * parameter.
 */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { setupConsoleFixture, XSS_TEXT, type ConsoleFixture } from './fixture.js';

let f: ConsoleFixture;
beforeAll(async () => {
  f = await setupConsoleFixture();
});
afterAll(async () => {
  await f?.close();
});

async function get(path: string, init: RequestInit = {}) {
  const res = await fetch(f.console.url + path, { redirect: 'manual', ...init });
  return { res, text: await res.text() };
}

const form = (data: Record<string, string>) => ({
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded', origin: f.console.url },
  body: new URLSearchParams(data).toString(),
});

describe('pages', () => {
  test('/ redirects to the sessions page', async () => {
    const { res } = await get('/');
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/sessions');
  });

  test('every HTML response carries a strict CSP and no inline script', async () => {
    const { res, text } = await get('/sessions');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const csp = res.headers.get('content-security-policy')!;
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(text).not.toMatch(/<script>(?!window)/);
    expect(text).toContain('<script src="/assets/console.js" defer></script>');
  });

  test('/sessions filters by tag, paginates with a cursor that keeps the filters, and sorts', async () => {
    const all = await get(`/sessions?tag=${f.tag}`);
    for (const id of [f.rootSessionId, f.forkSessionId, f.xssSessionId]) expect(all.text).toContain(`/sessions/${id}`);

    const first = await get(`/sessions?tag=${f.tag}&limit=2&sort=createdAt&order=asc`);
    expect(first.text).toContain(`/sessions/${f.rootSessionId}`);
    expect(first.text).not.toContain(`/sessions/${f.xssSessionId}`);
    const next = /href="(\/sessions\?[^"]*cursor=[^"]+)"/.exec(first.text)![1]!.replace(/&amp;/g, '&');
    expect(next).toContain(`tag=${f.tag}`);
    expect(next).toContain('sort=createdAt');
    const second = await get(next);
    expect(second.res.status).toBe(200);
    expect(second.text).toContain(`/sessions/${f.xssSessionId}`);
    expect(second.text).not.toContain(`/sessions/${f.rootSessionId}`);
    expect(second.text).toContain('First page');

    const forks = await get(`/sessions?tag=${f.tag}&tag=alternative&all=1`);
    expect(forks.text).toContain(`/sessions/${f.forkSessionId}`);
    expect(forks.text).not.toContain(`/sessions/${f.rootSessionId}"`);

    const model = (await f.d.store.getSession(f.rootSessionId))!.model!;
    const filtered = await get(`/sessions?tag=${f.tag}&status=completed&minCost=0.000001&maxCost=1000&after=2000-01-01&before=2999-01-01&model=${model}`);
    expect(filtered.text).toContain(`/sessions/${f.rootSessionId}`);
    expect(filtered.text).not.toContain(`/sessions/${f.xssSessionId}`);
    const cheap = await get(`/sessions?tag=${f.tag}&maxCost=0.002`);
    expect(cheap.text).toContain(`/sessions/${f.xssSessionId}`);
    expect(cheap.text).not.toContain(`/sessions/${f.rootSessionId}`);
  });

  test('/sessions with a bad filter is a 400 naming the parameter', async () => {
    for (const [q, param] of [
      ['after=yesterday', 'after'],
      ['minCost=-1', 'minCost'],
      ['status=gone', 'status'],
      ['sort=name', 'sort'],
      ['limit=5000', 'limit'],
      ['cursor=nonsense', 'cursor'],
      ['minCost=5&maxCost=1', 'minCost'],
    ]) {
      const { res, text } = await get(`/sessions?${q}`);
      expect(res.status, q).toBe(400);
      expect(text, q).toContain(`Invalid ${param}`);
    }
  });

  test('/sessions/:id shows metadata, runs with workflow links, the conversation and the fork tree', async () => {
    const { res, text } = await get(`/sessions/${f.rootSessionId}`);
    expect(res.status).toBe(200);
    expect(text).toContain('Docs for the console test');
    expect(text).toContain('Analyze the code'); // the first prompt, from the transcript
    expect(text).toContain('Now write **the docs** for it'); // a prompt is plain text
    expect(text).toContain('<details class="tool">');
    expect(text).not.toContain('<details class="tool" open');
    expect(text).toContain('echo analysed');
    expect(text).toContain(`http://127.0.0.1:8233/namespaces/default/workflows/${f.pipelineWorkflowId}`);
    expect(text).toContain('forked here');
    expect(text).toContain(`href="/sessions/${f.forkSessionId}"`);
    expect(text).toMatch(/class="outcome ok"/);
    expect(text).toContain('estimated'); // the lost attempt's ledger entry

    const fork = await get(`/sessions/${f.forkSessionId}`);
    expect(fork.text).toContain(`class="parent" href="/sessions/${f.rootSessionId}"`);
    expect(fork.text).toContain('Try another approach');
  });

  test('assistant markdown is rendered; markup in model output and tool results is text', async () => {
    const root = await get(`/sessions/${f.rootSessionId}`);
    expect(root.text).toMatch(/<div class="text md">/);
    const { text } = await get(`/sessions/${f.xssSessionId}`);
    expect(text).not.toContain('<script>window.__xss');
    expect(text).not.toContain('<img src=x');
    expect(text).not.toContain('href="javascript:');
    expect(text).toContain('&lt;script&gt;window.__xss = 1&lt;/script&gt;&lt;img src=x onerror=');
    expect(XSS_TEXT).toContain('<script>');
  });

  test('/sessions/:id of an unknown or malformed id', async () => {
    expect((await get('/sessions/00000000-0000-4000-8000-000000000000')).res.status).toBe(404);
    const bad = await get('/sessions/not-a-session');
    expect(bad.res.status).toBe(400);
    expect(bad.text).toContain('sessionId');
  });

  test('POST tags and description edit the session; cross-site posts are refused', async () => {
    const id = f.forkSessionId;
    const add = await get(`/sessions/${id}/tags`, form({ add: 'reviewed, keep' }));
    expect(add.res.status).toBe(303);
    expect((await f.d.store.getSession(id))!.tags).toEqual(expect.arrayContaining(['reviewed', 'keep']));
    await get(`/sessions/${id}/tags`, form({ remove: 'keep' }));
    expect((await f.d.store.getSession(id))!.tags).not.toContain('keep');
    const badTag = await get(`/sessions/${id}/tags`, form({ add: 'no spaces allowed!' }));
    expect(badTag.res.status).toBe(400);
    expect(badTag.text).toContain('Invalid tags');

    await get(`/sessions/${id}/description`, form({ description: 'A fork worth keeping' }));
    expect((await f.d.store.getSession(id))!.description).toBe('A fork worth keeping');

    const cross = await get(`/sessions/${id}/tags`, { ...form({ add: 'evil' }), headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://evil.example' } });
    expect(cross.res.status).toBe(403);
    expect((await f.d.store.getSession(id))!.tags).not.toContain('evil');
    expect((await get(`/sessions/${id}/tags`)).res.status).toBe(405);
  });

  test('/costs shows exact and estimated spend apart, stacked by tag or model, filtered', async () => {
    const { res, text } = await get(`/costs?tag=${f.tag}`);
    expect(res.status).toBe(200);
    expect(text).toContain('<svg');
    expect(text).toMatch(/id="estimated-total">\$0\.2500</);
    expect(text).toContain('id="by-tag"');
    expect(text).toContain('id="by-model"');
    expect(text).toContain('id="by-pipeline"');
    expect(text).toContain('console-docs');
    expect(text).toContain('Spend by day, stacked by tag');
    const byModel = await get(`/costs?tag=${f.tag}&stack=model`);
    expect(byModel.text).toContain('Spend by month, stacked by model');
    const none = await get(`/costs?tag=${f.tag}&since=2000-01-01&until=2000-01-02`);
    expect(none.text).toContain('No runs match');
    for (const [q, param] of [['since=soon', 'since'], ['stack=colour', 'stack'], ['since=2020-02-02&until=2020-01-01', 'since']]) {
      const bad = await get(`/costs?${q}`);
      expect(bad.res.status, q).toBe(400);
      expect(bad.text, q).toContain(`Invalid ${param}`);
    }
  });

  test('/live, its event stream, and the cancel confirmation of a run that is not running', async () => {
    const live = await get('/live');
    expect(live.res.status).toBe(200);
    expect(live.text).toContain('id="live"');
    const ctrl = new AbortController();
    const res = await fetch(`${f.console.url}/live/events`, { signal: ctrl.signal });
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const reader = res.body!.getReader();
    let got = '';
    while (!got.includes('event: live')) got += new TextDecoder().decode((await reader.read()).value);
    expect(got).toContain('Nothing is running');
    ctrl.abort();
    const confirm = await get('/live/no-such-workflow/cancel');
    expect(confirm.text).toContain('not running any more');
    const post = await get('/live/no-such-workflow/cancel', form({}));
    expect(post.res.status).toBe(404);
  });

  test('assets, favicon, unknown paths', async () => {
    const css = await get('/assets/console.css');
    expect(css.res.headers.get('content-type')).toBe('text/css; charset=utf-8');
    const js = await get('/assets/console.js');
    expect(js.res.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(js.text).toContain('EventSource');
    expect((await get('/favicon.ico')).res.status).toBe(204);
    expect((await get('/nowhere')).res.status).toBe(404);
  });

  test('without a token, a request naming a non-loopback host is refused (DNS rebinding)', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(`${f.console.url}/sessions`, { headers: { host: 'evil.example' } }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      });
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(421);
  });
});
