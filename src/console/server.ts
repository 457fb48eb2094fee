/**
 * The console's HTTP server (`node:http`, no framework): routing, the access
 * token, same-origin checks on writes, security headers (a strict CSP: no
 * inline script or style), the two assets, and Server-Sent Events for the
 * live page.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo } from 'node:net';
import { invalidInput } from '../model/failures.js';
import { CONSOLE_CSS, CONSOLE_JS } from './assets.js';
import { type Html } from './html.js';
import { costsRoute, inputProblem, liveFragmentHtml, liveRoute, sessionRoute, sessionsRoute, type ConsoleDeps } from './pages.js';
import { errorPage } from './views/layout.js';
import { cancelPage } from './views/live.js';

export { type ConsoleDeps } from './pages.js';

/** Default address of the console. */
export const DEFAULT_CONSOLE_HOST = '127.0.0.1';
/** Default port of the console. */
export const DEFAULT_CONSOLE_PORT = 8233;
/** The cookie that carries the access token after the first visit with `?token=`. */
export const TOKEN_COOKIE = 'ct_console_token';

export interface ConsoleOptions {
  /** Interface to listen on; default 127.0.0.1. A non-loopback host needs `token`. */
  host?: string;
  /** Default 8233; 0 picks a free port. */
  port?: number;
  /** When set, every request must carry it (`Authorization: Bearer`, the cookie, or `?token=` once). */
  token?: string | null;
  /** How often the live page's events re-read live work; default 1000 ms. */
  liveIntervalMs?: number;
}

export interface RunningConsole {
  url: string;
  server: Server;
  close(): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";
const MAX_FORM_BYTES = 64 * 1024;

export function isLoopback(host: string): boolean {
  return LOOPBACK.has(host) || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** A Host header's name without the port. */
function hostName(header: string | undefined): string {
  if (!header) return '';
  if (header.startsWith('[')) return header.slice(1, header.indexOf(']'));
  return header.replace(/:\d+$/, '');
}

const digest = (s: string) => createHash('sha256').update(s).digest();
function sameToken(given: string | undefined, token: string): boolean {
  return given !== undefined && timingSafeEqual(digest(given), digest(token));
}

function cookie(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return decodeURIComponent(v.join('='));
  }
  return undefined;
}

function send(res: ServerResponse, status: number, body: string, type = 'text/html; charset=utf-8', extra: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store', ...extra });
  res.end(body);
}

const sendPage = (res: ServerResponse, status: number, page: Html) => send(res, status, page.value);

function redirect(res: ServerResponse, location: string, extra: Record<string, string> = {}): void {
  res.writeHead(303, { location, 'content-length': 0, ...extra });
  res.end();
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_FORM_BYTES) throw invalidInput('form', `must be at most ${MAX_FORM_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

/** Writes must come from the console's own pages: a cross-site form cannot tag, describe or cancel. */
function sameOrigin(req: IncomingMessage): boolean {
  const site = req.headers['sec-fetch-site'];
  if (site) return site === 'same-origin' || site === 'none';
  const origin = req.headers.origin;
  if (!origin) return true;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}

type Handler = (req: IncomingMessage, res: ServerResponse, match: RegExpExecArray, url: URL) => Promise<void>;

function routes(deps: ConsoleDeps, opts: Required<Pick<ConsoleOptions, 'liveIntervalMs'>>, streams: Set<ServerResponse>): [string, RegExp, Handler][] {
  const sessionPath = async (res: ServerResponse, id: string, notice: string | null = null, status = 200) => {
    const pageHtml = await sessionRoute(deps, id, notice);
    if (!pageHtml) return sendPage(res, 404, errorPage(404, `Session ${id} not found`));
    sendPage(res, status, pageHtml);
  };
  return [
    ['GET', /^\/$/, async (_q, res) => redirect(res, '/sessions')],
    ['GET', /^\/sessions$/, async (_q, res, _m, url) => {
      const r = await sessionsRoute(deps, url.searchParams);
      sendPage(res, r.status, r.body);
    }],
    ['GET', /^\/sessions\/([^/]+)$/, async (_q, res, m) => sessionPath(res, decodeURIComponent(m[1]!))],
    ['POST', /^\/sessions\/([^/]+)\/tags$/, async (req, res, m) => {
      const id = decodeURIComponent(m[1]!);
      const form = await readForm(req);
      const split = (name: string) => (form.get(name) ?? '').split(',').map((t) => t.trim()).filter(Boolean);
      try {
        if (!(await deps.store.getSession(id))) return sendPage(res, 404, errorPage(404, `Session ${id} not found`));
        if (split('add').length) await deps.store.tagSession(id, split('add'));
        if (split('remove').length) await deps.store.untagSession(id, split('remove'));
      } catch (err) {
        const problem = inputProblem(err);
        if (!problem) throw err;
        return sessionPath(res, id, problem, 400);
      }
      redirect(res, `/sessions/${encodeURIComponent(id)}`);
    }],
    ['POST', /^\/sessions\/([^/]+)\/description$/, async (req, res, m) => {
      const id = decodeURIComponent(m[1]!);
      const form = await readForm(req);
      const text = (form.get('description') ?? '').trim();
      try {
        if (!(await deps.store.getSession(id))) return sendPage(res, 404, errorPage(404, `Session ${id} not found`));
        await deps.store.setDescription(id, text || null);
      } catch (err) {
        const problem = inputProblem(err);
        if (!problem) throw err;
        return sessionPath(res, id, problem, 400);
      }
      redirect(res, `/sessions/${encodeURIComponent(id)}`);
    }],
    ['GET', /^\/costs$/, async (_q, res, _m, url) => {
      const r = await costsRoute(deps, url.searchParams);
      sendPage(res, r.status, r.body);
    }],
    ['GET', /^\/live$/, async (_q, res) => sendPage(res, 200, await liveRoute(deps))],
    ['GET', /^\/live\/events$/, async (req, res) => liveEvents(deps, req, res, opts.liveIntervalMs, streams)],
    ['GET', /^\/live\/([^/]+)\/cancel$/, async (_q, res, m) => {
      const id = decodeURIComponent(m[1]!);
      const running = deps.client ? (await deps.client.listRunning({ ...(deps.liveTaskQueue ? { taskQueue: deps.liveTaskQueue } : {}) })).find((w) => w.workflowId === id) : undefined;
      const detail = running && deps.client ? await deps.client.describeLive(running).catch(() => null) : null;
      sendPage(res, 200, cancelPage(id, detail));
    }],
    ['POST', /^\/live\/([^/]+)\/cancel$/, async (req, res, m) => {
      const id = decodeURIComponent(m[1]!);
      await readForm(req);
      if (!deps.client) return sendPage(res, 503, errorPage(503, 'Temporal is not reachable'));
      // The cancellation is asked for, not waited for: the live page shows the run stopping.
      const outcome = await deps.client.cancelRun(id, { timeoutMs: 0 }).catch((err: Error) => err);
      if (outcome instanceof Error || !outcome.requested) {
        return sendPage(res, 404, errorPage(404, `Could not cancel ${id}: ${outcome instanceof Error ? outcome.message : 'it is not running'}`));
      }
      redirect(res, '/live');
    }],
    ['GET', /^\/assets\/console\.css$/, async (_q, res) => send(res, 200, CONSOLE_CSS, 'text/css; charset=utf-8', { 'cache-control': 'max-age=300' })],
    ['GET', /^\/assets\/console\.js$/, async (_q, res) => send(res, 200, CONSOLE_JS, 'text/javascript; charset=utf-8', { 'cache-control': 'max-age=300' })],
    ['GET', /^\/favicon\.ico$/, async (_q, res) => send(res, 204, '', 'image/x-icon')],
  ];
}

/** Server-Sent Events: the live fragment, whenever it differs from the last one sent. */
async function liveEvents(deps: ConsoleDeps, req: IncomingMessage, res: ServerResponse, intervalMs: number, streams: Set<ServerResponse>): Promise<void> {
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive' });
  res.write('retry: 2000\n\n');
  streams.add(res);
  let last = '';
  let closed = false;
  const stop = () => {
    closed = true;
    streams.delete(res);
  };
  req.on('close', stop);
  while (!closed) {
    const fragment = await liveFragmentHtml(deps).catch((err: Error) => `<p class="error">${err.message.replace(/[<>&"']/g, '')}</p>`);
    if (fragment !== last && !closed) {
      last = fragment;
      res.write(`event: live\n${fragment.split('\n').map((l) => `data: ${l}`).join('\n')}\n\n`);
    } else if (!closed) res.write(': keep-alive\n\n');
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** The request handler (exported for tests that bring their own server). */
export function consoleHandler(deps: ConsoleDeps, options: ConsoleOptions = {}, streams = new Set<ServerResponse>()) {
  const token = options.token || null;
  const table = routes(deps, { liveIntervalMs: options.liveIntervalMs ?? 1000 }, streams);
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const headers = { 'content-security-policy': CSP, 'x-content-type-options': 'nosniff', 'referrer-policy': 'same-origin', 'x-frame-options': 'DENY' };
    for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
    try {
      const url = new URL(req.url ?? '/', 'http://console.invalid');
      if (token) {
        const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
        const fromQuery = url.searchParams.get('token') ?? undefined;
        if (fromQuery !== undefined && sameToken(fromQuery, token)) {
          url.searchParams.delete('token');
          return redirect(res, url.pathname + url.search, { 'set-cookie': `${TOKEN_COOKIE}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/` });
        }
        if (!sameToken(bearer, token) && !sameToken(cookie(req, TOKEN_COOKIE), token)) {
          return send(res, 401, 'An access token is required: open the console\'s URL with ?token=<token>\n', 'text/plain; charset=utf-8', { 'www-authenticate': 'Bearer' });
        }
      } else if (!isLoopback(hostName(req.headers.host))) {
        // Without a token only loopback names are served: another site's name resolving here (DNS rebinding) gets nothing.
        return send(res, 421, 'This console answers only on a loopback address\n', 'text/plain; charset=utf-8');
      }
      if (req.method === 'POST' && !sameOrigin(req)) return send(res, 403, 'Cross-site request refused\n', 'text/plain; charset=utf-8');
      const path = url.pathname.length > 1 ? url.pathname.replace(/\/+$/, '') : url.pathname;
      let allowed: string[] = [];
      for (const [method, re, handler] of table) {
        const m = re.exec(path);
        if (!m) continue;
        if (method === req.method || (method === 'GET' && req.method === 'HEAD')) return await handler(req, res, m, url);
        allowed.push(method);
      }
      allowed = [...new Set(allowed)];
      if (allowed.length) return send(res, 405, 'Method not allowed\n', 'text/plain; charset=utf-8', { allow: allowed.join(', ') });
      sendPage(res, 404, errorPage(404, `No page at ${path}`));
    } catch (err) {
      if (res.headersSent) return void res.end();
      const problem = inputProblem(err);
      const type = (err as { type?: string }).type;
      if (problem) return sendPage(res, 400, errorPage(400, problem));
      if (type === 'SessionNotFound') return sendPage(res, 404, errorPage(404, (err as Error).message));
      const status = type === 'StoreUnavailable' ? 503 : 500;
      sendPage(res, status, errorPage(status, (err as Error).message));
    }
  };
}

/** Start the console; refuses a non-loopback host without an access token. */
export async function startConsole(deps: ConsoleDeps, options: ConsoleOptions = {}): Promise<RunningConsole> {
  const host = options.host ?? DEFAULT_CONSOLE_HOST;
  if (!isLoopback(host) && !options.token) {
    throw invalidInput('host', `${host} is not a loopback address: set an access token (CLAUDE_TEMPORAL_CONSOLE_TOKEN) to serve beyond this machine`);
  }
  const streams = new Set<ServerResponse>();
  const handle = consoleHandler(deps, options, streams);
  const server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? DEFAULT_CONSOLE_PORT, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${shown}:${address.port}`,
    server,
    close: async () => {
      for (const s of streams) s.end();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
