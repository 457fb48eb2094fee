import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultReplyText, parseDirectives, userPrompts } from '../../src/stub/replies.js';
import { startStub, type StubServer } from '../../src/stub/server.js';

let stub: StubServer;
beforeAll(async () => {
  stub = await startStub({
    handler: (req) => {
      const prompts = userPrompts(req.body);
      return prompts.at(-1) === 'use the handler' ? { type: 'text', text: 'from handler' } : undefined;
    },
  });
});
afterAll(async () => {
  await stub.close();
});

const REMINDER = { type: 'text', text: '<system-reminder>\nignore me\n</system-reminder>\n' };
function body(prompts: string[], extra: Record<string, unknown> = {}) {
  const messages: unknown[] = [];
  prompts.forEach((p, i) => {
    messages.push({ role: 'user', content: i === 0 ? [REMINDER, { type: 'text', text: p }] : p });
    if (i < prompts.length - 1) messages.push({ role: 'assistant', content: [{ type: 'text', text: 'earlier' }] });
  });
  return { model: 'claude-test', max_tokens: 100, messages, ...extra };
}

async function post(payload: unknown, init: RequestInit = {}) {
  return fetch(`${stub.url}/v1/messages?beta=true`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': 'k' }, body: JSON.stringify(payload), ...init });
}

interface SseEvent {
  event: string;
  data: Record<string, unknown>;
}
async function sse(res: Response): Promise<SseEvent[]> {
  const text = await res.text();
  return text
    .split('\n\n')
    .filter(Boolean)
    .map((block) => {
      const lines = block.split('\n');
      const event = lines.find((l) => l.startsWith('event: '))?.slice(7) ?? '';
      const data = JSON.parse(lines.find((l) => l.startsWith('data: '))?.slice(6) ?? '{}') as Record<string, unknown>;
      return { event, data };
    });
}
function streamedText(events: SseEvent[]): string {
  return events
    .filter((e) => e.event === 'content_block_delta')
    .map((e) => (e.data.delta as { text?: string }).text ?? '')
    .join('');
}

describe('stub over HTTP', () => {
  it('answers non-streaming JSON with the default reply and records the request', async () => {
    stub.clearRequests();
    const res = await post(body(['first question', 'second question']));
    expect(res.status).toBe(200);
    const json = (await res.json()) as { content: { type: string; text: string }[]; stop_reason: string; usage: { input_tokens: number; output_tokens: number }; model: string };
    expect(json.content).toEqual([{ type: 'text', text: 'reply to "second question" after 2 user prompts' }]);
    expect(json.stop_reason).toBe('end_turn');
    expect(json.model).toBe('claude-test');
    expect(json.usage).toMatchObject({ input_tokens: 1000, output_tokens: 20 });
    expect(stub.requests).toHaveLength(1);
    expect(stub.requests[0]).toMatchObject({ method: 'POST', path: '/v1/messages', query: 'beta=true', scenario: 'text' });
    expect(stub.requests[0]?.headers['x-api-key']).toBe('k');
    expect(typeof stub.requests[0]?.time).toBe('number');
  });

  it('streams SSE in the API event order', async () => {
    const res = await post(body(['stream me'], { stream: true }));
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const events = await sse(res);
    expect(events.map((e) => e.event)).toEqual(['message_start', 'ping', 'content_block_start', 'content_block_delta', 'content_block_stop', 'message_delta', 'message_stop']);
    expect(events.every((e) => e.data.type === e.event)).toBe(true);
    expect(streamedText(events)).toBe('reply to "stream me" after 1 user prompts');
    expect(events[5]?.data).toMatchObject({ delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 20 } });
  });

  it.each([400, 401, 403, 429, 500, 529])('[[error %i]] answers that status with the API error body, every time', async (status) => {
    for (let i = 0; i < 2; i++) {
      const res = await post(body([`[[error ${status}]] hi`], { stream: true }));
      expect(res.status).toBe(status);
      const json = (await res.json()) as { type: string; error: { type: string; message: string } };
      expect(json.type).toBe('error');
      expect(json.error.type).toBe({ 400: 'invalid_request_error', 401: 'authentication_error', 403: 'permission_error', 429: 'rate_limit_error', 500: 'api_error', 529: 'overloaded_error' }[status]);
    }
    expect(stub.requests.at(-1)?.scenario).toBe(`error ${status}`);
  });

  it('[[error S xN]] fails the first N requests of a conversation, counted per conversation', async () => {
    const a = body(['[[error 529 x2]] conv A']);
    expect((await post(a)).status).toBe(529);
    expect((await post(a)).status).toBe(529);
    expect((await post(a)).status).toBe(200);
    // A different conversation has its own count.
    expect((await post(body(['[[error 529 x2]] conv B']))).status).toBe(529);
    // The same conversation later on (directive in the last prompt, same first prompt) is past its failures.
    expect((await post(body(['[[error 529 x2]] conv A', 'again [[error 529 x2]]']))).status).toBe(200);
  });

  it('[[tool ...]] answers a tool_use, then text once the tool result is back', async () => {
    const first = await sse(await post(body(['[[tool Bash echo hi]] go'], { stream: true })));
    const start = first.find((e) => e.event === 'content_block_start')?.data.content_block as { type: string; id: string; name: string };
    expect(start).toMatchObject({ type: 'tool_use', name: 'Bash' });
    const json = first
      .filter((e) => e.event === 'content_block_delta')
      .map((e) => (e.data.delta as { partial_json: string }).partial_json)
      .join('');
    expect(JSON.parse(json)).toMatchObject({ command: 'echo hi' });
    expect(first.find((e) => e.event === 'message_delta')?.data).toMatchObject({ delta: { stop_reason: 'tool_use' } });
    const messages = [
      ...body(['[[tool Bash echo hi]] go']).messages,
      { role: 'assistant', content: [{ type: 'tool_use', id: start.id, name: 'Bash', input: { command: 'echo hi' } }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: start.id, content: 'hi' }] },
    ];
    const second = (await (await post({ model: 'm', messages })).json()) as { content: { text: string }[] };
    expect(second.content[0]?.text).toBe('reply to "[[tool Bash echo hi]] go" after 1 user prompts after tool: "hi"');
  });

  it('[[tools N]] keeps asking for Bash until N tool turns', async () => {
    const messages: unknown[] = [...body(['[[tools 2]] loop']).messages];
    const commands: string[] = [];
    for (let turn = 0; turn < 3; turn++) {
      const reply = (await (await post({ model: 'm', messages })).json()) as { content: { type: string; id?: string; input?: { command: string }; text?: string }[] };
      const block = reply.content[0];
      if (block?.type !== 'tool_use') {
        expect(block?.text).toContain('after tool: "turn 2"');
        break;
      }
      commands.push(block.input?.command ?? '');
      messages.push({ role: 'assistant', content: reply.content }, { role: 'user', content: [{ type: 'tool_result', tool_use_id: block.id, content: block.input?.command.replace('echo ', '') }] });
    }
    expect(commands).toEqual(['echo turn 1', 'echo turn 2']);
  });

  it('[[usage]], [[long]] and [[slow]] shape the reply', async () => {
    const usage = (await (await post(body(['[[usage 100000 5000]] x']))).json()) as { usage: { input_tokens: number; output_tokens: number } };
    expect(usage.usage).toMatchObject({ input_tokens: 100000, output_tokens: 5000 });
    const long = await sse(await post(body(['[[long 300000]] x'], { stream: true })));
    expect(streamedText(long)).toHaveLength(300000);
    expect(streamedText(long).startsWith('reply to "[[long 300000]] x"')).toBe(true);
    const slow = await sse(await post(body(['[[slow 5x10]] x'], { stream: true })));
    expect(slow.filter((e) => e.event === 'content_block_delta')).toHaveLength(10);
    expect(streamedText(slow)).toBe('reply to "[[slow 5x10]] x" after 1 user prompts');
  });

  it('[[delay]] waits and [[hang]] never answers (but is recorded)', async () => {
    expect((await post(body(['[[delay 50]] x']))).status).toBe(200);
    const before = stub.requests.length;
    await expect(post(body(['[[hang]] x']), { signal: AbortSignal.timeout(300) })).rejects.toThrow();
    expect(stub.requests.length).toBe(before + 1);
    expect(stub.requests.at(-1)?.scenario).toBe('hang');
  });

  it('asks the programmatic handler first', async () => {
    const json = (await (await post(body(['use the handler']))).json()) as { content: { text: string }[] };
    expect(json.content[0]?.text).toBe('from handler');
  });

  it('answers count_tokens, probes, models and unknown routes', async () => {
    const count = await fetch(`${stub.url}/v1/messages/count_tokens`, { method: 'POST', body: JSON.stringify(body(['x'])) });
    expect(((await count.json()) as { input_tokens: number }).input_tokens).toBeGreaterThan(0);
    expect((await fetch(stub.url, { method: 'HEAD' })).status).toBe(200);
    expect((await fetch(`${stub.url}/v1/models`)).status).toBe(200);
    const missing = await fetch(`${stub.url}/v2/nothing`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { type: string } }).error.type).toBe('not_found_error');
    const bad = await fetch(`${stub.url}/v1/messages`, { method: 'POST', body: '{nope' });
    expect(bad.status).toBe(400);
    expect(stub.requests.at(-1)?.scenario).toBe('bad_json');
  });
});

describe('stub helpers', () => {
  it('parses combined directives and ignores unknown ones', () => {
    expect(parseDirectives('[[error 529 x3]] [[delay 10]] [[slow 50x40]] [[long 9]] [[tool Read /etc/hosts]] [[tools 3]] [[usage 1 2]] [[hang]] [[nope 1]]')).toEqual({
      error: { status: 529, times: 3, raw: '[[error 529 x3]]' },
      delayMs: 10,
      slow: { intervalMs: 50, deltas: 40 },
      long: 9,
      tool: { name: 'Read', args: '/etc/hosts' },
      tools: 3,
      usage: { input: 1, output: 2 },
      hang: true,
    });
  });

  it('counts user prompts without tool results and reminders', () => {
    const b = {
      messages: [
        { role: 'user', content: [REMINDER, { type: 'text', text: 'a' }] },
        { role: 'system', content: [{ type: 'text', text: 'env' }] },
        { role: 'assistant', content: [{ type: 'tool_use', id: 't', name: 'Bash', input: {} }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't', content: 'r' }] },
        { role: 'user', content: [REMINDER] },
        { role: 'user', content: 'b'.repeat(100) },
      ],
    };
    expect(userPrompts(b)).toEqual(['a', 'b'.repeat(100)]);
    expect(defaultReplyText(b)).toBe(`reply to "${'b'.repeat(60)}" after 2 user prompts`);
  });
});

describe('stub as a standalone process', () => {
  it('prints ready <url>, serves, and stops on SIGTERM', async () => {
    const main = fileURLToPath(new URL('../../src/stub/main.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', main], { stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const first = await new Promise<string>((resolve) => createInterface({ input: child.stdout }).once('line', resolve));
    expect(first).toMatch(/^ready http:\/\/127\.0\.0\.1:\d+$/);
    const url = first.slice('ready '.length);
    const res = await fetch(`${url}/v1/messages`, { method: 'POST', body: JSON.stringify(body(['from another process'])) });
    expect(((await res.json()) as { content: { text: string }[] }).content[0]?.text).toBe('reply to "from another process" after 1 user prompts');
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
