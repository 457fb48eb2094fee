/**
 * A local Anthropic Messages API stub that the real `claude` CLI runs against
 * (ANTHROPIC_BASE_URL) in tests and the demo. Node `http` only.
 *
 * What it answers (the default reply and the prompt directives) is in `replies.ts`.
 *
 * `GET /_stub/requests` returns the recorded requests as JSON (`DELETE` clears them), for tests
 * and tools in other processes; control requests are not recorded.
 * `StubOptions.handler` is asked first; `undefined` falls back to directives and the default.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { replyFromDirectives, type StubReply } from './replies.js';

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
