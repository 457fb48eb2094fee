/**
 * Incremental NDJSON parser for `claude --output-format stream-json`.
 *
 * Works on bytes, splits on `\n` (never inside a UTF-8 sequence) and decodes
 * each line once. Memory is bounded by `maxLineBytes`: a longer line is
 * skipped up to its newline and reported as a `too_long` malformed line.
 * Every line keeps its exact text (`raw`) because the store keeps lines
 * byte-identical; unknown types and fields are kept as they are.
 */

import { type RawModelUsage } from '../model/cost.js';

export { type RawModelUsage };

/** Default longest accepted line: 64 MiB. */
export const DEFAULT_MAX_LINE_BYTES = 64 * 1024 * 1024;

/** How much of an over-long line is kept as evidence. */
const TOO_LONG_PREFIX_BYTES = 1024;

export interface ParserOptions {
  /** Longest accepted line in bytes, newline excluded; default 64 MiB. */
  maxLineBytes?: number;
}

export interface ContentBlock {
  type: string;
  text?: string;
  id?: string;
  name?: string;
  input?: unknown;
  [key: string]: unknown;
}

export interface SystemData {
  type: 'system';
  subtype: string;
  session_id?: string;
  /** `init` only. */
  model?: string;
  cwd?: string;
  tools?: string[];
  claude_code_version?: string;
  /** `api_retry` only. */
  attempt?: number;
  max_retries?: number;
  error_status?: number | null;
  error?: string;
  [key: string]: unknown;
}

export interface AssistantData {
  type: 'assistant';
  message: { id?: string; model?: string; role?: string; content?: ContentBlock[]; usage?: Record<string, unknown>; [key: string]: unknown };
  session_id?: string;
  parent_tool_use_id?: string | null;
  is_api_error_message?: boolean;
  api_error_status?: number | null;
  [key: string]: unknown;
}

export interface UserData {
  type: 'user';
  message: { role?: string; content?: ContentBlock[] | string; [key: string]: unknown };
  session_id?: string;
  parent_tool_use_id?: string | null;
  [key: string]: unknown;
}

export interface ResultData {
  type: 'result';
  subtype: string;
  is_error: boolean;
  session_id?: string;
  num_turns?: number;
  result?: string;
  errors?: string[];
  total_cost_usd?: number;
  duration_ms?: number;
  api_error_status?: number | null;
  api_error_type?: string;
  terminal_reason?: string;
  modelUsage?: Record<string, RawModelUsage>;
  /** 2.1.330+: what this process spent since its previous result. */
  model_usage_since_last_result?: Record<string, RawModelUsage>;
  [key: string]: unknown;
}

export interface StreamEventData {
  type: 'stream_event';
  event: { type: string; [key: string]: unknown };
  session_id?: string;
  [key: string]: unknown;
}

export interface UnknownData {
  type?: unknown;
  [key: string]: unknown;
}

interface LineBase {
  /** The exact line, without its `\n`. */
  raw: string;
  /** 1-based line number in the stream. */
  lineNumber: number;
}

export interface SystemMessage extends LineBase {
  type: 'system';
  data: SystemData;
}
export interface AssistantMessage extends LineBase {
  type: 'assistant';
  data: AssistantData;
}
export interface UserMessage extends LineBase {
  type: 'user';
  data: UserData;
}
export interface ResultMessage extends LineBase {
  type: 'result';
  data: ResultData;
}
export interface StreamEventMessage extends LineBase {
  type: 'stream_event';
  data: StreamEventData;
}
/** A JSON object whose `type` the parser does not know: kept as it is. */
export interface UnknownMessage extends LineBase {
  type: 'unknown';
  data: UnknownData;
}

export type ClaudeMessage = SystemMessage | AssistantMessage | UserMessage | ResultMessage | StreamEventMessage | UnknownMessage;

export type MalformedReason = 'invalid_json' | 'not_an_object' | 'too_long';

/** A line that is not a message. For `too_long`, `raw` holds only the first KiB. */
export interface MalformedLine extends LineBase {
  type: 'malformed';
  reason: MalformedReason;
  error: string;
  /** Length of the line in bytes. */
  bytes: number;
}

export type ParsedLine = ClaudeMessage | MalformedLine;

const KNOWN_TYPES = new Set(['system', 'assistant', 'user', 'result', 'stream_event']);

/** Parses one line (without its newline). */
export function parseLine(raw: string, lineNumber: number): ParsedLine {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (err) {
    return { type: 'malformed', reason: 'invalid_json', error: err instanceof Error ? err.message : String(err), raw, lineNumber, bytes: Buffer.byteLength(raw) };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { type: 'malformed', reason: 'not_an_object', error: 'Line is JSON but not an object', raw, lineNumber, bytes: Buffer.byteLength(raw) };
  }
  const type = (value as { type?: unknown }).type;
  if (typeof type === 'string' && KNOWN_TYPES.has(type)) {
    return { type, data: value, raw, lineNumber } as ClaudeMessage;
  }
  return { type: 'unknown', data: value as UnknownData, raw, lineNumber };
}

function isBlank(buf: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = buf[i];
    if (c !== 0x20 && c !== 0x09 && c !== 0x0d) return false;
  }
  return true;
}

/**
 * Push-style parser: feed chunks, get the complete lines parsed so far.
 * Blank lines are skipped; they carry nothing.
 */
export class NdjsonParser {
  readonly maxLineBytes: number;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Bytes of an over-long line being skipped, or -1 when not skipping. */
  private skipping = -1;
  private skippedPrefix: Buffer | undefined;
  private lineNumber = 0;

  constructor(options: ParserOptions = {}) {
    const max = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
    if (!Number.isInteger(max) || max <= 0) throw new RangeError('maxLineBytes must be a positive integer');
    this.maxLineBytes = max;
  }

  /** Parses the complete lines of `chunk` (plus what was pending) and returns them in order. */
  push(chunk: Uint8Array | string): ParsedLine[] {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const out: ParsedLine[] = [];
    let start = 0;
    for (;;) {
      const nl = buf.indexOf(0x0a, start);
      if (nl === -1) break;
      this.finishLine(buf, start, nl, out);
      start = nl + 1;
    }
    if (start < buf.length) this.keep(buf, start, buf.length);
    return out;
  }

  /** Flushes a last line without a trailing newline. */
  end(): ParsedLine[] {
    const out: ParsedLine[] = [];
    if (this.skipping >= 0 || this.pendingBytes > 0) this.finishLine(Buffer.alloc(0), 0, 0, out);
    return out;
  }

  private keep(buf: Buffer, start: number, end: number): void {
    const len = end - start;
    if (this.skipping >= 0) {
      this.skipping += len;
      return;
    }
    if (this.pendingBytes + len > this.maxLineBytes) {
      // Over the limit: keep a short prefix as evidence and drop the rest.
      this.skippedPrefix = Buffer.concat([...this.pending, buf.subarray(start, end)], Math.min(this.pendingBytes + len, TOO_LONG_PREFIX_BYTES));
      this.skipping = this.pendingBytes + len;
      this.pending = [];
      this.pendingBytes = 0;
      return;
    }
    // Copy: the caller may reuse its chunk buffer.
    this.pending.push(Buffer.from(buf.subarray(start, end)));
    this.pendingBytes += len;
  }

  private finishLine(buf: Buffer, start: number, end: number, out: ParsedLine[]): void {
    if (this.skipping >= 0 || this.pendingBytes + (end - start) > this.maxLineBytes) {
      if (this.skipping < 0) this.keep(buf, start, end);
      else this.skipping += end - start;
      const bytes = this.skipping;
      const raw = (this.skippedPrefix ?? Buffer.alloc(0)).toString('utf8');
      this.skipping = -1;
      this.skippedPrefix = undefined;
      this.lineNumber++;
      out.push({ type: 'malformed', reason: 'too_long', error: `Line of ${bytes} bytes exceeds the limit of ${this.maxLineBytes} bytes`, raw, lineNumber: this.lineNumber, bytes });
      return;
    }
    let line: Buffer;
    let lineStart = start;
    let lineEnd = end;
    if (this.pendingBytes > 0) {
      this.pending.push(buf.subarray(start, end));
      line = Buffer.concat(this.pending, this.pendingBytes + (end - start));
      this.pending = [];
      this.pendingBytes = 0;
      lineStart = 0;
      lineEnd = line.length;
    } else {
      line = buf;
    }
    if (isBlank(line, lineStart, lineEnd)) return;
    this.lineNumber++;
    out.push(parseLine(line.toString('utf8', lineStart, lineEnd), this.lineNumber));
  }
}

/** Parses a byte stream (e.g. a child's stdout) line by line. */
export async function* parseStream(source: AsyncIterable<Uint8Array | string>, options: ParserOptions = {}): AsyncGenerator<ParsedLine> {
  const parser = new NdjsonParser(options);
  for await (const chunk of source) {
    for (const line of parser.push(chunk)) yield line;
  }
  for (const line of parser.end()) yield line;
}

/** Parses a whole NDJSON text (fixtures, stored transcripts). */
export function parseText(text: string, options: ParserOptions = {}): ParsedLine[] {
  const parser = new NdjsonParser(options);
  return [...parser.push(text), ...parser.end()];
}
