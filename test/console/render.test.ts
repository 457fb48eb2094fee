/** The console's pure parts: escaping, markdown, the conversation model and the spend reduction. */
import { randomUUID } from 'node:crypto';
import { expect, test } from 'vitest';
import { buildConversation, transcriptPrompts } from '../../src/console/conversation.js';
import { MAX_STACK_KEYS, summarizeCosts } from '../../src/console/costs.js';
import { escapeHtml, html, trusted } from '../../src/console/html.js';
import { markdown } from '../../src/console/markdown.js';
import { type RunLedgerEntry, type StoredMessage } from '../../src/model/session.js';

test('html escapes every interpolated string, at any nesting, and only trusted markup passes', () => {
  const chars = '<>&"\'`=/ ab\u00e9\u{1F600}';
  for (let i = 0; i < 2000; i++) {
    const s = Array.from({ length: 1 + (i % 40) }, (_, k) => chars[(i * 7 + k * 13) % chars.length]).join('');
    const out = html`<p title="${s}">${[s, [s]]}</p>`.value;
    expect(out.slice(3)).not.toMatch(/<(?!\/p>)/);
    const decoded = out.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&');
    expect(decoded).toBe(`<p title="${s}">${s}${s}</p>`);
  }
  expect(html`${trusted('<b>x</b>')}`.value).toBe('<b>x</b>');
  expect(escapeHtml('<script>')).toBe('&lt;script&gt;');
});

test('markdown renders formatting but no HTML, images or script links', () => {
  const out = markdown('**bold** <script>alert(1)</script> <img src=x onerror=alert(1)> ![i](http://x/i.png) [j](javascript:alert(1)) [ok](https://example.com)').value;
  expect(out).toContain('<strong>bold</strong>');
  expect(out).not.toMatch(/<script|<img|href="javascript/);
  expect(out).toContain('<a href="https://example.com" rel="noopener noreferrer nofollow">ok</a>');
});

const msg = (runId: string, seq: number, line: object): StoredMessage => ({ sessionId: 's', runId, seq, type: (line as { type: string }).type, subtype: (line as { subtype?: string }).subtype ?? null, raw: JSON.stringify(line) });

test('the conversation pairs tool calls with results, places prompts, outcomes and fork markers', () => {
  const messages = [
    msg('r1', 0, { type: 'system', subtype: 'init', model: 'm' }),
    msg('r1', 1, { type: 'assistant', message: { content: [{ type: 'tool_use', id: 't1', name: 'Bash', input: { command: 'ls' } }] } }),
    msg('r1', 2, { type: 'user', message: { content: [{ type: 'tool_result', tool_use_id: 't1', content: [{ type: 'text', text: 'a.txt' }] }] } }),
    msg('r1', 3, { type: 'result', subtype: 'success', num_turns: 2, total_cost_usd: 0.01, usage: { input_tokens: 5, output_tokens: 7 } }),
    msg('r2', 0, { type: 'assistant', message: { content: [{ type: 'text', text: 'second' }] } }),
  ];
  const run = (runId: string, status: RunLedgerEntry['status']) => ({ runId, status }) as RunLedgerEntry;
  const items = buildConversation({
    messages,
    runs: new Map([['r1', run('r1', 'success')], ['r2', run('r2', 'running')]]),
    prompts: ['parent prompt', 'first prompt'],
    forks: [{ sessionId: 'child', forkedAtMessage: 4 }],
  });
  expect(items.map((i) => i.kind)).toEqual(['run', 'prompt', 'system', 'tool', 'outcome', 'forked', 'run', 'text']);
  expect(items[1]).toEqual({ kind: 'prompt', text: 'first prompt' });
  expect(items[3]).toMatchObject({ kind: 'tool', name: 'Bash', result: { text: 'a.txt', isError: false } });
  expect(items[4]).toMatchObject({ kind: 'outcome', outcome: { numTurns: 2, inputTokens: 5, outputTokens: 7 } });
  expect(items[5]).toEqual({ kind: 'forked', at: 4, sessionIds: ['child'] });
});

test('transcript prompts: user text lines, not tool results or meta lines', () => {
  const jsonl = [
    { type: 'user', message: { role: 'user', content: 'one' } },
    { type: 'assistant', message: { content: [{ type: 'text', text: 'user' }] } },
    { type: 'user', message: { content: [{ type: 'tool_result', tool_use_id: 'x', content: 'r' }] } },
    { type: 'user', isMeta: true, message: { content: 'meta' } },
    { type: 'user', message: { content: [{ type: 'text', text: 'two' }] } },
  ].map((l) => JSON.stringify(l)).join('\n');
  expect(transcriptPrompts(jsonl)).toEqual(['one', 'two']);
});

function entry(over: Partial<RunLedgerEntry> & { estimated?: boolean }): RunLedgerEntry {
  return {
    runId: randomUUID(), sessionId: 's1', mode: 'query', promptDigest: '', status: 'completed', failureType: null, subtype: null, costUsd: 0.1, cumulativeCostUsd: 0.1,
    usageByModel: {}, numTurns: 1, messageCount: 1, exitCode: 0, startedAt: new Date('2026-01-02T00:00:00Z'), finishedAt: null, durationMs: 1, stepKey: null, attempt: 1,
    day: '2026-01-02', month: '2026-01', tags: [], model: 'm1', pipeline: null, workflowId: null, ...over,
  } as RunLedgerEntry;
}

test('spend: exact and estimated apart, runs under each tag, model split from usage, sums exact', async () => {
  const entries = [
    entry({ costUsd: 0.1, tags: ['a', 'b'], usageByModel: { m1: { inputTokens: 1, outputTokens: 2, costUSD: 0.07 } as never, m2: { inputTokens: 3, outputTokens: 4, costUSD: 0.03 } as never } }),
    entry({ costUsd: 0.2, tags: ['a'], sessionId: 's2', pipeline: 'p', day: '2026-01-03' }),
    entry({ costUsd: 0.25, tags: ['a'], estimated: true, status: 'failed' }),
  ];
  const s = await summarizeCosts(entries, { stack: 'tag' });
  expect(s.total).toMatchObject({ exactUsd: 0.3, estimatedUsd: 0.25, runs: 3, sessions: 2 });
  expect(s.byTag.find((r) => r.key === 'a')).toMatchObject({ exactUsd: 0.3, estimatedUsd: 0.25, runs: 3 });
  expect(s.byTag.find((r) => r.key === 'b')).toMatchObject({ exactUsd: 0.1, runs: 1 });
  expect(s.byModel.find((r) => r.key === 'm2')).toMatchObject({ exactUsd: 0.03, inputTokens: 3 });
  expect(s.byModel.find((r) => r.key === 'm1')).toMatchObject({ exactUsd: 0.07 + 0.2, estimatedUsd: 0.25 });
  expect(s.byPipeline.map((r) => r.key)).toEqual(['(none)', 'p']);
  expect(s.days.periods).toEqual(['2026-01-02', '2026-01-03']);
  expect(s.days.rows[0]).toEqual({ period: '2026-01-02', exact: s.days.keys.map((k) => (k === 'a' || k === 'b' ? 100_000 : 0)), estimated: 250_000 });
  expect(s.months.rows).toHaveLength(1);

  const many = Array.from({ length: 20 }, (_, i) => entry({ tags: [`t${i}`], costUsd: (i + 1) / 100 }));
  const stacked = await summarizeCosts(many, { stack: 'tag' });
  expect(stacked.days.keys).toHaveLength(MAX_STACK_KEYS);
  expect(stacked.days.keys.at(-1)).toBe('other');
  expect(stacked.days.rows[0]!.exact.reduce((a, b) => a + b, 0)).toBe(many.reduce((a, e) => a + Math.round(e.costUsd * 1e6), 0));
});
