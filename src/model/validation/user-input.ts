/**
 * Checks of values users type: prompts, dates and ranges, decimal numbers,
 * counts, model names, ids and connection settings. One implementation each,
 * used by the CLI (under the flag's name), the library client, pipeline files,
 * the store and the worker. Each throws `invalidInput(field, problem)`; the
 * problem says what is accepted. Pure module.
 */
import { invalidInput } from '../failures.js';
import { MAX_ID_LENGTH, MAX_MODEL_LENGTH, MAX_PROMPT_BYTES } from '../defaults.js';

// eslint-disable-next-line no-control-regex
const CONTROL_RE = /[\u0000-\u001f\u007f]/;

/** A value as a message shows it: strings quoted and cut, others by their kind. */
export function shown(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'number') return Number.isNaN(value) ? 'NaN (not a number)' : String(value);
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : typeof value;
}

/** Bytes of a string in UTF-8, without Node's Buffer (workflows use this module too). */
export function utf8Bytes(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

function wellFormed(s: string): boolean {
  return (s as unknown as { isWellFormed(): boolean }).isWellFormed();
}

/** Describes a size for messages: `256 KiB`, `1 MiB`. */
export function sizeText(bytes: number): string {
  return bytes % (1024 * 1024) === 0 ? `${bytes / (1024 * 1024)} MiB` : bytes % 1024 === 0 ? `${bytes / 1024} KiB` : `${bytes} bytes`;
}

/** A prompt: text with something in it, no NUL byte, well-formed, at most {@link MAX_PROMPT_BYTES}. */
export function promptText(value: unknown, field = 'prompt'): string {
  if (typeof value !== 'string') throw invalidInput(field, `must be text, got ${shown(value)}`);
  if (value.trim() === '') throw invalidInput(field, 'must not be empty');
  if (value.includes('\u0000')) throw invalidInput(field, 'must not contain a NUL byte');
  if (!wellFormed(value)) throw invalidInput(field, 'must be well-formed Unicode');
  const bytes = utf8Bytes(value);
  if (bytes > MAX_PROMPT_BYTES) throw invalidInput(field, `is ${bytes} bytes, more than the maximum of ${sizeText(MAX_PROMPT_BYTES)}`);
  return value;
}

export const DATE_FORMS = 'YYYY-MM-DD (UTC midnight) or an ISO date-time with a zone such as 2026-01-02T03:04:05Z or 2026-01-02T03:04:05+01:00';
const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-](\d{2}):(\d{2})))?$/;

function daysInMonth(year: number, month: number): number {
  return [31, year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]!;
}

/**
 * A date: a valid `Date`, or text in one of {@link DATE_FORMS}. The calendar is checked
 * (`2026-02-30` is refused rather than read as March 2).
 */
export function dateValue(value: unknown, field: string): Date {
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw invalidInput(field, 'must be a valid date');
    return new Date(value.getTime());
  }
  if (typeof value !== 'string') throw invalidInput(field, `must be a date as ${DATE_FORMS}, got ${shown(value)}`);
  const m = DATE_RE.exec(value);
  if (!m) throw invalidInput(field, `must be a date as ${DATE_FORMS}, got ${shown(value)}`);
  const [year, month, day, hour = 0, minute = 0, second = 0] = [m[1], m[2], m[3], m[4], m[5], m[6]].map((x) => (x === undefined ? undefined : Number(x))) as number[];
  const zoneH = m[8] === undefined ? 0 : Number(m[8]);
  const zoneM = m[9] === undefined ? 0 : Number(m[9]);
  if (month! < 1 || month! > 12 || day! < 1 || day! > daysInMonth(year!, month!)) throw invalidInput(field, `is not a calendar date: ${shown(value)}`);
  if (hour > 23 || minute > 59 || second > 59 || zoneH > 23 || zoneM > 59) throw invalidInput(field, `is not a valid time of day: ${shown(value)}`);
  const d = new Date(m[4] === undefined ? `${value}T00:00:00Z` : value);
  if (Number.isNaN(d.getTime())) throw invalidInput(field, `must be a date as ${DATE_FORMS}, got ${shown(value)}`);
  return d;
}

/** A range must not end before it starts; names both ends. */
export function dateRange(start: Date | undefined, end: Date | undefined, startField: string, endField: string): void {
  if (start && end && start.getTime() > end.getTime()) {
    throw invalidInput(startField, `${start.toISOString()} is later than ${endField} ${end.toISOString()}`);
  }
}

/** A decimal number typed by a user (`12`, `0.5`, `.5`): no hexadecimal, exponents, signs or `NaN`. */
export function decimalText(text: string, field: string): number {
  if (!/^(\d+(\.\d*)?|\.\d+)$/.test(text.trim())) {
    const n = Number(text);
    const why =
      text.trim() === '' ? 'is empty' : Number.isNaN(n) ? `is not a number: ${shown(text)}` : n < 0 ? `must not be negative, got ${shown(text)}` : `is not a plain decimal number: ${shown(text)}`;
    throw invalidInput(field, `${why} (write it like 12 or 0.5)`);
  }
  return Number(text);
}

/** A positive decimal (costs and budgets): greater than 0 and finite. */
export function positiveDecimalText(text: string, field: string): number {
  const n = decimalText(text, field);
  if (!(n > 0) || !Number.isFinite(n)) throw invalidInput(field, `must be greater than 0, got ${shown(text)}`);
  return n;
}

/** A whole number from `min` to `max` typed by a user. */
export function integerText(text: string, field: string, min = 1, max = Number.MAX_SAFE_INTEGER): number {
  const range = max === Number.MAX_SAFE_INTEGER ? (min === 1 ? 'a positive integer' : `an integer of at least ${min}`) : `an integer from ${min} to ${max}`;
  if (!/^\d+$/.test(text.trim())) throw invalidInput(field, `must be ${range}, got ${shown(text)}`);
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < min || n > max) throw invalidInput(field, `must be ${range}, got ${shown(text)}`);
  return n;
}

// Aliases (`sonnet`, `opus[1m]`), ids (`claude-sonnet-4-5-20250929`), Vertex (`...@20240620`) and Bedrock ARNs.
const MODEL_RE = /^[A-Za-z0-9][A-Za-z0-9._:/@[\]-]*$/;

/** A model alias or id. */
export function modelName(value: unknown, field = 'model'): string {
  if (typeof value !== 'string') throw invalidInput(field, `must be a model alias or id, got ${shown(value)}`);
  if (value.length === 0) throw invalidInput(field, 'must not be empty');
  if (value.length > MAX_MODEL_LENGTH) throw invalidInput(field, `must be at most ${MAX_MODEL_LENGTH} characters`);
  if (!MODEL_RE.test(value)) throw invalidInput(field, `must be a model alias or id such as sonnet or claude-sonnet-4-5 (letters, digits and . _ : / @ [ ] -), got ${shown(value)}`);
  return value;
}

/** A workflow or schedule id: not blank, printable, at most {@link MAX_ID_LENGTH} characters. */
export function idText(value: unknown, field: string): string {
  if (typeof value !== 'string') throw invalidInput(field, `must be text, got ${shown(value)}`);
  if (value.trim() === '') throw invalidInput(field, 'must not be empty');
  if (value.length > MAX_ID_LENGTH) throw invalidInput(field, `must be at most ${MAX_ID_LENGTH} characters`);
  if (CONTROL_RE.test(value) || !wellFormed(value)) throw invalidInput(field, 'must not contain control characters');
  if (value !== value.trim()) throw invalidInput(field, 'must not start or end with spaces');
  return value;
}

function port(text: string, field: string, whole: string): void {
  if (!/^\d{1,5}$/.test(text) || Number(text) < 1 || Number(text) > 65535) throw invalidInput(field, `has port ${shown(text)}, which is not from 1 to 65535: ${whole}`);
}

/** A MongoDB connection string: `mongodb://host[:port][,host...]/...` or `mongodb+srv://host/...`. */
export function mongoUri(value: string, field = 'MONGODB_URI'): string {
  const m = /^(mongodb(?:\+srv)?):\/\/(?:([^@/]*)@)?([^/?]*)(.*)$/.exec(value);
  const redacted = value.replace(/\/\/([^:/@]+):[^@/]*@/, '//$1:***@');
  if (!m) throw invalidInput(field, `must start with mongodb:// or mongodb+srv://, got ${shown(redacted)}`);
  const hosts = m[3]!.split(',');
  if (hosts.some((h) => h === '')) throw invalidInput(field, `names no host: ${redacted}`);
  for (const h of hosts) {
    const hp = /^(\[[0-9A-Fa-f:.]+\]|[^:[\]]+)(?::(.*))?$/.exec(decodeURIComponent(h));
    if (!hp) throw invalidInput(field, `has a malformed host ${shown(h)}: ${redacted}`);
    if (hp[2] !== undefined) {
      if (m[1] === 'mongodb+srv') throw invalidInput(field, `must not give a port with mongodb+srv: ${redacted}`);
      port(hp[2], field, redacted);
    }
  }
  if (m[4] && !/^(\/[^?]*)?(\?.*)?$/.test(m[4])) throw invalidInput(field, `has a malformed path or options: ${redacted}`);
  return value;
}

/** A Temporal frontend address: `host:port`. */
export function temporalAddress(value: string, field = 'TEMPORAL_ADDRESS'): string {
  const m = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(.*)$/.exec(value);
  if (!m) throw invalidInput(field, `must be host:port such as 127.0.0.1:7233, got ${shown(value)}`);
  port(m[2]!, field, value);
  return value;
}
