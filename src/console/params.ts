/**
 * URL parameters of the pages, checked as the CLI checks its flags: a bad
 * value is an error naming the parameter, shown on the page with status 400.
 */
import { SESSION_SORTS, SESSION_STATUSES, type SearchQuery, type SessionSort, type SessionStatus } from '../model/session.js';
import { dayToIso } from '../model/formats.js';
import { date as validDate } from '../model/validation/fields.js';
import { STACK_BY, type StackBy } from './costs.js';

export class ParamError extends Error {
  constructor(
    readonly param: string,
    problem: string,
  ) {
    super(`Invalid ${param}: ${problem}`);
  }
}

/** `YYYY-MM-DD` (midnight UTC) or an ISO date-time with a zone, as the CLI's date flags. */
export function dateParam(q: URLSearchParams, name: string): Date | undefined {
  const v = q.get(name)?.trim();
  if (!v) return undefined;
  try {
    return validDate(dayToIso(v), name);
  } catch {
    throw new ParamError(name, `must be YYYY-MM-DD or an ISO date-time with a zone, got ${v}`);
  }
}

function numberParam(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name)?.trim();
  if (!v) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new ParamError(name, `must be a non-negative number, got ${v}`);
  return n;
}

function oneOf<T extends string>(q: URLSearchParams, name: string, allowed: readonly T[]): T | undefined {
  const v = q.get(name)?.trim();
  if (!v) return undefined;
  if (!(allowed as readonly string[]).includes(v)) throw new ParamError(name, `must be one of ${allowed.join(', ')}`);
  return v as T;
}

/** Tags from repeated `tag` parameters, also comma-separated. */
export function tagsParam(q: URLSearchParams): string[] {
  return [...new Set(q.getAll('tag').flatMap((t) => t.split(',')).map((t) => t.trim()).filter(Boolean))];
}

export interface SessionFilters {
  query: SearchQuery;
  /** The filters as given, to refill the form and build links. */
  form: Record<string, string | string[]>;
}

export function sessionFilters(q: URLSearchParams): SessionFilters {
  const tags = tagsParam(q);
  const all = q.get('all') === '1';
  const minCost = numberParam(q, 'minCost');
  const maxCost = numberParam(q, 'maxCost');
  if (minCost !== undefined && maxCost !== undefined && minCost > maxCost) throw new ParamError('minCost', 'must not exceed maxCost');
  const limitText = q.get('limit')?.trim();
  const limit = limitText ? Number(limitText) : 50;
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new ParamError('limit', `must be an integer from 1 to 1000, got ${limitText}`);
  const query: SearchQuery = {
    ...(tags.length ? (all ? { allTags: tags } : { tags }) : {}),
    after: dateParam(q, 'after'),
    before: dateParam(q, 'before'),
    minCost,
    maxCost,
    model: q.get('model')?.trim() || undefined,
    status: oneOf<SessionStatus>(q, 'status', SESSION_STATUSES),
    scope: q.get('scope')?.trim() || undefined,
    sort: oneOf<SessionSort>(q, 'sort', SESSION_SORTS),
    order: oneOf(q, 'order', ['asc', 'desc'] as const),
    limit,
    cursor: q.get('cursor') || undefined,
  };
  const form: Record<string, string | string[]> = {};
  for (const k of ['after', 'before', 'minCost', 'maxCost', 'model', 'status', 'scope', 'sort', 'order', 'limit']) {
    const v = q.get(k)?.trim();
    if (v) form[k] = v;
  }
  if (tags.length) form.tag = tags;
  if (all) form.all = '1';
  return { query: Object.fromEntries(Object.entries(query).filter(([, v]) => v !== undefined)) as SearchQuery, form };
}

export interface CostFilters {
  since?: Date;
  until?: Date;
  tags: string[];
  stack: StackBy;
  form: Record<string, string | string[]>;
}

export function costFilters(q: URLSearchParams): CostFilters {
  const since = dateParam(q, 'since');
  const until = dateParam(q, 'until');
  if (since && until && since >= until) throw new ParamError('since', 'must be before until');
  const tags = tagsParam(q);
  const stack = oneOf<StackBy>(q, 'stack', STACK_BY) ?? 'tag';
  const form: Record<string, string | string[]> = { stack };
  for (const k of ['since', 'until']) {
    const v = q.get(k)?.trim();
    if (v) form[k] = v;
  }
  if (tags.length) form.tag = tags;
  return { since, until, tags, stack, form };
}
