/**
 * A local Anthropic Messages API stub that the real `claude` CLI runs against
 * (ANTHROPIC_BASE_URL) in tests and the demo. Node `http` only.
 *
 * Default reply to `POST /v1/messages` (streamed as SSE when `stream: true`,
 * one JSON message otherwise):
 *
 *     reply to "<T>" after <N> user prompts
 *
 * where <T> is the first 60 characters (UTF-16 units) of the last user prompt,
 * verbatim (directives included), and <N> counts the user prompts of the
 * request. A user prompt is a `role: user` message with at least one text block
 * that is not a `<system-reminder>`; its text is those blocks joined with "\n".
 * Tool results and reminders never count. When the request ends with tool
 * results, ` after tool: "<R>"` is appended, <R> being the first 60 characters
 * of the last tool result's text. Usage is 1000 input / 20 output tokens.
 *
 * Directives, read from the last user prompt (so they work across processes):
 *
 *     [[error S]]          answer HTTP S (400 401 403 404 413 429 500 529, ...) with the API's error body
 *     [[error S xK]]       the same for the first K matching requests of this conversation, then normal;
 *                          counted per directive text + conversation (text of the first user prompt)
 *     [[delay MS]]         wait MS before answering
 *     [[slow MSxK]]        stream the text as K deltas MS apart (text padded with '.' to K characters)
 *     [[long CHARS]]       a text reply of exactly CHARS characters (default text, then filler)
 *     [[tool NAME ARGS]]   first a tool_use of NAME (ARGS: a JSON object, or Bash command / Read path / ...);
 *                          once a tool result follows the prompt, text
 *     [[tools K]]          Bash tool_use `echo turn I` until K tool turns followed the prompt, then text
 *     [[usage IN OUT]]     report IN input and OUT output tokens
 *     [[hang]]             accept the request and never answer
 *
 * Several directives combine; order of effect: hang, delay, error, tool/tools, then the text shape.
 *
 * `GET /_stub/requests` returns the recorded requests as JSON (`DELETE` clears them), for tests
 * and tools in other processes; control requests are not recorded.
 * `StubOptions.handler` is asked first; `undefined` falls back to directives and the default.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** One request the stub received, as recorded (errors and probes included). */
export interface RecordedRequest {
  method: string;
  /** Path without the query string, e.g. `/v1/messages`. */
  path: string;
  /** Query string without `?`, e.g. `beta=true`; empty when none. */
  query: string;
  headers: Record<string, string | string[] | undefined>;
  /** Parsed JSON body; `undefined` when there was none or it was not JSON. */
  body: unknown;
  /** Arrival time, epoch milliseconds. */
  time: number;
  /** How the stub answered: `text`, `tool_use`, `error <status>`, `hang`, `count_tokens`, `models`, `probe`, `not_found`, `bad_json`. */
  scenario: string;
}

interface ReplyShape {
  /** Wait this long before answering; default 0. */
  delayMs?: number;
  /** Stream the text in this many deltas; default 1 (or 64 KiB pieces for long text). */
  deltas?: number;
  /** Milliseconds between deltas; default 0. */
  deltaIntervalMs?: number;
  /** Reported input tokens; default 1000. */
  inputTokens?: number;
  /** Reported output tokens; default 20. */
  outputTokens?: number;
}

/** What a programmatic handler may answer. */
export type StubReply =
  | (ReplyShape & { type: 'text'; text: string })
  | (ReplyShape & { type: 'tool_use'; name: string; input: Record<string, unknown>; text?: string })
  | { type: 'error'; status: number; message?: string; delayMs?: number }
  | { type: 'hang' };

export interface StubOptions {
  /** Port to listen on; default 0 (a free port). */
  port?: number;
  /** Asked first for every `POST /v1/messages`; `undefined` falls back to directives and the default reply. */
  handler?: (req: RecordedRequest) => StubReply | undefined | Promise<StubReply | undefined>;
}

export interface StubServer {
  /** Base URL for ANTHROPIC_BASE_URL, e.g. `http://127.0.0.1:41234`. */
  url: string;
  port: number;
  /** Every request received, in arrival order. */
  readonly requests: RecordedRequest[];
  clearRequests(): void;
  close(): Promise<void>;
}

const ERROR_TYPES: Readonly<Record<number, string>> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  529: 'overloaded_error',
};

const ERROR_MESSAGES: Readonly<Record<number, string>> = {
  400: 'Stub bad request',
  401: 'invalid x-api-key',
  403: 'Stub permission denied',
  404: 'Stub not found',
  413: 'Stub request too large',
  429: 'Stub rate limited',
  500: 'Stub internal server error',
  529: 'Overloaded',
};

const DEFAULT_INPUT_TOKENS = 1000;
const DEFAULT_OUTPUT_TOKENS = 20;
const LONG_PIECE = 64 * 1024;
const QUOTE_CHARS = 60;
const DIRECTIVE_RE = /\[\[\s*(error|delay|slow|long|tools|tool|usage|hang)\b([^\]]*)\]\]/g;

interface Directives {
  error?: { status: number; times?: number; raw: string };
  delayMs?: number;
  slow?: { intervalMs: number; deltas: number };
  long?: number;
  tool?: { name: string; args: string };
  tools?: number;
  usage?: { input: number; output: number };
  hang?: boolean;
}

/** Parses the directives of a prompt; unknown or malformed ones are ignored. */
export function parseDirectives(text: string): Directives {
  const d: Directives = {};
  for (const m of text.matchAll(DIRECTIVE_RE)) {
    const name = m[1];
    const args = (m[2] ?? '').trim();
    const nums = args.split(/\s+/).filter(Boolean);
    switch (name) {
      case 'error': {
        const status = Number(nums[0]);
        if (!Number.isInteger(status) || status < 400 || status > 599) break;
        const times = /^x(\d+)$/.exec(nums[1] ?? '');
        d.error = { status, raw: m[0], ...(times ? { times: Number(times[1]) } : {}) };
        break;
      }
      case 'delay':
        if (Number.isFinite(Number(nums[0]))) d.delayMs = Number(nums[0]);
        break;
      case 'slow': {
        const s = /^(\d+)x(\d+)$/.exec(args);
        if (s) d.slow = { intervalMs: Number(s[1]), deltas: Math.max(1, Number(s[2])) };
        break;
      }
      case 'long':
        if (Number.isInteger(Number(nums[0]))) d.long = Number(nums[0]);
        break;
      case 'tool': {
        const t = /^(\S+)\s*([\s\S]*)$/.exec(args);
        if (t?.[1]) d.tool = { name: t[1], args: t[2] ?? '' };
        break;
      }
      case 'tools':
        if (Number.isInteger(Number(nums[0]))) d.tools = Number(nums[0]);
        break;
      case 'usage':
        if (nums.length >= 2 && nums.every((n) => Number.isFinite(Number(n)))) {
          d.usage = { input: Number(nums[0]), output: Number(nums[1]) };
        }
        break;
      case 'hang':
        d.hang = true;
        break;
    }
  }
  return d;
}

interface Block {
  type?: string;
  text?: string;
  content?: unknown;
}
interface ApiMessage {
  role?: string;
  content?: unknown;
}

function blocksOf(message: ApiMessage): Block[] {
  if (typeof message.content === 'string') return [{ type: 'text', text: message.content }];
  return Array.isArray(message.content) ? (message.content as Block[]) : [];
}

function promptText(message: ApiMessage): string | undefined {
  if (message.role !== 'user') return undefined;
  const texts = blocksOf(message)
    .filter((b) => b.type === 'text' && typeof b.text === 'string' && !b.text.trimStart().startsWith('<system-reminder>'))
    .map((b) => b.text as string);
  return texts.length > 0 ? texts.join('\n') : undefined;
}

function messagesOf(body: unknown): ApiMessage[] {
  const messages = (body as { messages?: unknown } | undefined)?.messages;
  return Array.isArray(messages) ? (messages as ApiMessage[]) : [];
}

/** The user prompts of a Messages API request body, oldest first (tool results and system reminders excluded). */
export function userPrompts(body: unknown): string[] {
  return messagesOf(body)
    .map(promptText)
    .filter((t): t is string => t !== undefined);
}

function toolResultText(block: Block): string {
  if (typeof block.content === 'string') return block.content;
  if (Array.isArray(block.content)) {
    return (block.content as Block[]).map((b) => (typeof b.text === 'string' ? b.text : '')).join('');
  }
  return '';
}

/** Tool turns since the last user prompt, and the text of the latest tool result. */
function toolTurnsSincePrompt(messages: ApiMessage[]): { turns: number; lastResult?: string } {
  let turns = 0;
  let lastResult: string | undefined;
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i] as ApiMessage;
    if (promptText(m) !== undefined) break;
    if (m.role !== 'user') continue;
    const results = blocksOf(m).filter((b) => b.type === 'tool_result');
    if (results.length > 0) {
      turns++;
      lastResult ??= toolResultText(results[results.length - 1] as Block);
    }
  }
  return lastResult === undefined ? { turns } : { turns, lastResult };
}

/** The default reply text for a request body (see the format at the top of this file). */
export function defaultReplyText(body: unknown): string {
  const messages = messagesOf(body);
  const prompts = userPrompts(body);
  const last = prompts[prompts.length - 1] ?? '';
  let text = `reply to "${last.slice(0, QUOTE_CHARS)}" after ${prompts.length} user prompts`;
  const last2 = messages[messages.length - 1];
  if (last2 && promptText(last2) === undefined) {
    const { lastResult } = toolTurnsSincePrompt(messages);
    if (lastResult !== undefined) text += ` after tool: "${lastResult.slice(0, QUOTE_CHARS)}"`;
  }
  return text;
}

function toolInput(name: string, args: string): Record<string, unknown> {
  const trimmed = args.trim();
  if (trimmed.startsWith('{')) {
    try {
      const parsed: unknown = JSON.parse(trimmed);
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
    } catch {
      // Not JSON: treat it as the tool's main argument below.
    }
  }
  switch (name) {
    case 'Bash':
      return { command: trimmed, description: 'stub tool call' };
    case 'Read':
    case 'Write':
    case 'Edit':
      return { file_path: trimmed };
    case 'Glob':
    case 'Grep':
      return { pattern: trimmed };
    default:
      return { command: trimmed };
  }
}

function fillToLength(base: string, length: number): string {
  if (base.length >= length) return base.slice(0, length);
  const filler = ' lorem ipsum dolor sit amet';
  const parts = [base];
  let size = base.length;
  const block = filler.repeat(Math.ceil(65536 / filler.length));
  while (size < length) {
    const piece = block.slice(0, length - size);
    parts.push(piece);
    size += piece.length;
  }
  return parts.join('');
}

function splitText(text: string, deltas: number): string[] {
  if (deltas <= 1) {
    if (text.length <= LONG_PIECE) return [text];
    deltas = Math.ceil(text.length / LONG_PIECE);
  }
  const size = Math.ceil(text.length / deltas);
  const out: string[] = [];
  for (let i = 0; i < deltas; i++) out.push(text.slice(i * size, (i + 1) * size));
  return out;
}

/** Decides the reply from the directives of the last user prompt. */
function replyFromDirectives(body: unknown, counters: Map<string, number>): StubReply {
  const prompts = userPrompts(body);
  const d = parseDirectives(prompts[prompts.length - 1] ?? '');
  if (d.hang) return { type: 'hang' };
  const delay = d.delayMs !== undefined ? { delayMs: d.delayMs } : {};
  if (d.error) {
    if (d.error.times === undefined) return { type: 'error', status: d.error.status, ...delay };
    const key = `${d.error.raw}\u0000${prompts[0] ?? ''}`;
    const seen = counters.get(key) ?? 0;
    if (seen < d.error.times) {
      counters.set(key, seen + 1);
      return { type: 'error', status: d.error.status, ...delay };
    }
  }
  const shape: ReplyShape = {
    ...delay,
    ...(d.slow ? { deltas: d.slow.deltas, deltaIntervalMs: d.slow.intervalMs } : {}),
    ...(d.usage ? { inputTokens: d.usage.input, outputTokens: d.usage.output } : {}),
  };
  const { turns } = toolTurnsSincePrompt(messagesOf(body));
  if (d.tool && turns === 0) {
    return { ...shape, type: 'tool_use', name: d.tool.name, input: toolInput(d.tool.name, d.tool.args) };
  }
  if (d.tools !== undefined && turns < d.tools) {
    return { ...shape, type: 'tool_use', name: 'Bash', input: { command: `echo turn ${turns + 1}`, description: 'stub tool turn' } };
  }
  let text = defaultReplyText(body);
  if (d.long !== undefined) text = fillToLength(text, d.long);
  if (d.slow && text.length < d.slow.deltas) text = text.padEnd(d.slow.deltas, '.');
  return { ...shape, type: 'text', text };
}

function errorBody(status: number, message?: string): string {
  return JSON.stringify({
    type: 'error',
    error: { type: ERROR_TYPES[status] ?? (status >= 500 ? 'api_error' : 'invalid_request_error'), message: message ?? ERROR_MESSAGES[status] ?? `Stub error ${status}` },
    request_id: `req_stub_${Date.now().toString(36)}`,
  });
}

function sendJson(res: ServerResponse, status: number, body: string, head = false): void {
  res.writeHead(status, { 'content-type': 'application/json', 'request-id': `req_stub_${Date.now().toString(36)}` });
  res.end(head ? undefined : body);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startStub(options: StubOptions = {}): Promise<StubServer> {
  const requests: RecordedRequest[] = [];
  const counters = new Map<string, number>();
  let messageSeq = 0;
  let closing = false;

  async function write(res: ServerResponse, chunk: string): Promise<boolean> {
    if (res.destroyed || closing) return false;
    if (!res.write(chunk)) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          res.off('drain', done);
          res.off('close', done);
          resolve();
        };
        res.on('drain', done);
        res.on('close', done);
      });
    }
    return !res.destroyed;
  }

  async function sendMessage(res: ServerResponse, reply: Exclude<StubReply, { type: 'error' } | { type: 'hang' }>, model: string, stream: boolean): Promise<void> {
    const id = `msg_stub_${++messageSeq}`;
    const inputTokens = reply.inputTokens ?? DEFAULT_INPUT_TOKENS;
    const outputTokens = reply.outputTokens ?? DEFAULT_OUTPUT_TOKENS;
    const toolId = `toolu_stub_${messageSeq}_${Math.random().toString(36).slice(2, 10)}`;
    const content: Record<string, unknown>[] = [];
    if (reply.type === 'text') content.push({ type: 'text', text: reply.text });
    else {
      if (reply.text) content.push({ type: 'text', text: reply.text });
      content.push({ type: 'tool_use', id: toolId, name: reply.name, input: reply.input });
    }
    const stopReason = reply.type === 'tool_use' ? 'tool_use' : 'end_turn';
    if (!stream) {
      sendJson(res, 200, JSON.stringify({ id, type: 'message', role: 'assistant', model, content, stop_reason: stopReason, stop_sequence: null, usage: { input_tokens: inputTokens, output_tokens: outputTokens, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 } }));
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'request-id': `req_stub_${messageSeq}` });
    const event = (type: string, data: Record<string, unknown>): Promise<boolean> => write(res, `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`);
    if (!(await event('message_start', { message: { id, type: 'message', role: 'assistant', model, content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: inputTokens, output_tokens: 1, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 } } }))) return;
    await event('ping', {});
    const interval = reply.deltaIntervalMs ?? 0;
    for (const [index, block] of content.entries()) {
      if (block.type === 'text') {
        await event('content_block_start', { index, content_block: { type: 'text', text: '' } });
        for (const [i, piece] of splitText(block.text as string, reply.deltas ?? 1).entries()) {
          if (i > 0 && interval > 0) await sleep(interval);
          if (!(await event('content_block_delta', { index, delta: { type: 'text_delta', text: piece } }))) return;
        }
      } else {
        await event('content_block_start', { index, content_block: { type: 'tool_use', id: block.id, name: block.name, input: {} } });
        const json = JSON.stringify(block.input);
        const half = Math.ceil(json.length / 2);
        await event('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json: json.slice(0, half) } });
        await event('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json: json.slice(half) } });
      }
      await event('content_block_stop', { index });
    }
    await event('message_delta', { delta: { stop_reason: stopReason, stop_sequence: null }, usage: { output_tokens: outputTokens } });
    await event('message_stop', {});
    res.end();
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://stub');
    const raw = await readBody(req);
    let body: unknown;
    let badJson = false;
    if (raw.length > 0) {
      try {
        body = JSON.parse(raw);
      } catch {
        badJson = true;
      }
    }
    if (url.pathname === '/_stub/requests') {
      // Control route for other processes (tests, the CLI): the recorded requests, never recorded itself.
      if (req.method === 'DELETE') requests.length = 0;
      sendJson(res, 200, req.method === 'DELETE' ? '{}' : JSON.stringify(requests));
      return;
    }
    const record: RecordedRequest = { method: req.method ?? 'GET', path: url.pathname, query: url.search.slice(1), headers: { ...req.headers }, body, time: Date.now(), scenario: 'probe' };
    requests.push(record);
    const head = req.method === 'HEAD';
    const path = url.pathname.replace(/\/+$/, '');

    if (req.method === 'POST' && path === '/v1/messages/count_tokens') {
      record.scenario = 'count_tokens';
      sendJson(res, 200, JSON.stringify({ input_tokens: Math.max(1, Math.ceil(raw.length / 4)) }));
      return;
    }
    if (req.method === 'GET' && path === '/v1/models') {
      record.scenario = 'models';
      sendJson(res, 200, JSON.stringify({ data: [], has_more: false, first_id: null, last_id: null }));
      return;
    }
    if (req.method === 'POST' && path === '/v1/messages') {
      if (badJson) {
        record.scenario = 'bad_json';
        sendJson(res, 400, errorBody(400, 'Request body is not valid JSON'));
        return;
      }
      const reply = (await options.handler?.(record)) ?? replyFromDirectives(body, counters);
      if (reply.type === 'hang') {
        record.scenario = 'hang';
        return; // Never answered; `close()` destroys the socket.
      }
      if ('delayMs' in reply && reply.delayMs) await sleep(reply.delayMs);
      if (reply.type === 'error') {
        record.scenario = `error ${reply.status}`;
        sendJson(res, reply.status, errorBody(reply.status, reply.message));
        return;
      }
      record.scenario = reply.type;
      const b = (body ?? {}) as { model?: unknown; stream?: unknown };
      await sendMessage(res, reply, typeof b.model === 'string' ? b.model : 'claude-stub', b.stream === true);
      return;
    }
    if (req.method === 'HEAD' || (req.method === 'GET' && (path === '' || path === '/v1'))) {
      record.scenario = 'probe';
      sendJson(res, 200, '{}', head);
      return;
    }
    record.scenario = 'not_found';
    sendJson(res, 404, errorBody(404, `Stub has no route ${req.method ?? ''} ${url.pathname}`), head);
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) sendJson(res, 500, errorBody(500, err instanceof Error ? err.message : String(err)));
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    clearRequests(): void {
      // `xK` counters survive: a retried conversation must keep seeing its earlier failures.
      requests.length = 0;
    },
    close(): Promise<void> {
      closing = true;
      return new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
