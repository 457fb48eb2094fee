/**
 * Field validators: each checks one value and throws `invalidInput(field, problem)`
 * naming the field (`tags[1]`, `entry.costUsd`, ...), or returns it normalised.
 *
 * Dates: every date field accepts a valid `Date` or a string in one of
 * `DATE_FORMS` (`2026-01-02`, `2026-01-02T03:04:05Z`, `...+01:00`), because
 * activity inputs cross Temporal as JSON (a `Date` arrives as such a string)
 * and users type dates. Both become a `Date`.
 */
import { invalidInput } from '../failures.js';
import { TAG_CHARS_MESSAGE, TAG_RE, UUID_RE } from '../formats.js';
import {
  DEFAULT_LIMIT,
  MAX_DESCRIPTION_LENGTH,
  MAX_LIMIT,
  MAX_NAME_LENGTH,
  MAX_RUN_ID_LENGTH,
  MAX_SCOPE_LENGTH,
  MAX_TAG_LENGTH,
  MAX_TAGS,
} from '../defaults.js';
import { type Origin } from '../session.js';
import { dateValue, shown } from './user-input.js';

// eslint-disable-next-line no-control-regex
const CONTROL_RE = /[\u0000-\u001f\u007f]/;

/** A rejected value as messages show it (`NaN` reads as not a number). */
export const describe = shown;

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

export function requireObject(value: unknown, field: string): Record<string, unknown> {
  if (!isPlainObject(value)) throw invalidInput(field, `must be an object, got ${describe(value)}`);
  return value;
}

export function optionalObject(value: unknown, field: string): Record<string, unknown> {
  return value === undefined ? {} : requireObject(value, field);
}

export function requireString(value: unknown, field: string): string {
  if (typeof value !== 'string') throw invalidInput(field, `must be a string, got ${describe(value)}`);
  return value;
}

/** A name-like string: non-empty, bounded, no control characters, no leading `$`. */
export function name(value: unknown, field: string, max = MAX_NAME_LENGTH): string {
  const s = requireString(value, field);
  if (s.length === 0) throw invalidInput(field, 'must not be empty');
  if (s.length > max) throw invalidInput(field, `must be at most ${max} characters`);
  if (s.startsWith('$')) throw invalidInput(field, 'must not start with $');
  if (CONTROL_RE.test(s)) throw invalidInput(field, 'must not contain control characters');
  if (!(s as unknown as { isWellFormed(): boolean }).isWellFormed()) throw invalidInput(field, 'must be well-formed Unicode');
  return s;
}

/** A session id: a UUID, normalised to lower case (UUIDs are case-insensitive). */
export function sessionId(value: unknown, field = 'sessionId'): string {
  const s = requireString(value, field);
  if (!UUID_RE.test(s)) throw invalidInput(field, 'must be a UUID');
  return s.toLowerCase();
}

/** Run ids are our own strings: non-empty, bounded, no `$` prefix, no control characters. */
export function runId(value: unknown, field = 'runId'): string {
  return name(value, field, MAX_RUN_ID_LENGTH);
}

export function tag(value: unknown, field: string): string {
  const s = requireString(value, field);
  if (s.length === 0) throw invalidInput(field, 'must not be empty');
  if (s.length > MAX_TAG_LENGTH) throw invalidInput(field, `must be at most ${MAX_TAG_LENGTH} characters`);
  if (!TAG_RE.test(s)) throw invalidInput(field, TAG_CHARS_MESSAGE);
  return s;
}

/** A list of tags, de-duplicated in order. */
export function tags(value: unknown, field = 'tags'): string[] {
  if (!Array.isArray(value)) throw invalidInput(field, `must be an array of strings, got ${describe(value)}`);
  if (value.length > MAX_TAGS) throw invalidInput(field, `must hold at most ${MAX_TAGS} tags`);
  const out: string[] = [];
  value.forEach((t, i) => {
    const v = tag(t, `${field}[${i}]`);
    if (!out.includes(v)) out.push(v);
  });
  return out;
}

export function nonEmptyTags(value: unknown, field = 'tags'): string[] {
  const t = tags(value, field);
  if (t.length === 0) throw invalidInput(field, 'must hold at least one tag');
  return t;
}

/** A `Date`, or a date in one of `DATE_FORMS` (calendar checked). */
export function date(value: unknown, field: string): Date {
  return dateValue(value, field);
}

export function nullableDate(value: unknown, field: string): Date | null {
  return value === null ? null : date(value, field);
}

/** A cost in USD: a finite number >= 0. */
export function cost(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw invalidInput(field, `must be a finite number, got ${describe(value)}`);
  if (value < 0) throw invalidInput(field, 'must be >= 0');
  return value;
}

export function count(value: unknown, field: string, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) throw invalidInput(field, `must be an integer, got ${describe(value)}`);
  if (value < 0) throw invalidInput(field, 'must be >= 0');
  if (value > max) throw invalidInput(field, `must be at most ${max}`);
  return value;
}

export function limit(value: unknown, field = 'limit'): number {
  if (value === undefined) return DEFAULT_LIMIT;
  if (typeof value !== 'number' || !Number.isInteger(value)) throw invalidInput(field, `must be an integer, got ${describe(value)}`);
  if (value < 1 || value > MAX_LIMIT) throw invalidInput(field, `must be between 1 and ${MAX_LIMIT}`);
  return value;
}

export function oneOf<T extends string>(value: unknown, allowed: readonly T[], field: string): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw invalidInput(field, `must be one of ${allowed.join(', ')}`);
  }
  return value as T;
}

export function bool(value: unknown, field: string): boolean {
  if (typeof value !== 'boolean') throw invalidInput(field, `must be a boolean, got ${describe(value)}`);
  return value;
}

export function cursor(value: unknown, field = 'cursor'): string | null {
  if (value === undefined || value === null) return null;
  const s = requireString(value, field);
  if (s.length === 0 || s.length > 512 || !/^[A-Za-z0-9_-]+$/.test(s)) throw invalidInput(field, 'is not a cursor this store returned');
  return s;
}

export function description(value: unknown, field = 'description'): string | null {
  if (value === null) return null;
  const s = requireString(value, field);
  if (s.length > MAX_DESCRIPTION_LENGTH) throw invalidInput(field, `must be at most ${MAX_DESCRIPTION_LENGTH} characters`);
  if (!(s as unknown as { isWellFormed(): boolean }).isWellFormed()) throw invalidInput(field, 'must be well-formed Unicode');
  return s;
}

export function scope(value: unknown, field = 'scope'): string {
  return name(value, field, MAX_SCOPE_LENGTH);
}

export function origin(value: unknown, field = 'origin'): Origin {
  const o = requireObject(value, field);
  const out: Origin = {};
  if (o.pipeline !== undefined) out.pipeline = name(o.pipeline, `${field}.pipeline`);
  if (o.workflowId !== undefined) out.workflowId = name(o.workflowId, `${field}.workflowId`);
  if (o.step !== undefined) out.step = name(o.step, `${field}.step`);
  return out;
}
