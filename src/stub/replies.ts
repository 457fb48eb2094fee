/**
 * The replies of the Messages API stub: what `POST /v1/messages` answers.
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
 */

export interface ReplyShape {
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

/** Decides the reply from the directives of the last user prompt. */
export function replyFromDirectives(body: unknown, counters: Map<string, number>): StubReply {
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
