/** Page cursors: opaque base64url JSON of the last key and a digest of the query. */
import { createHash } from 'node:crypto';
import { type Filter } from 'mongodb';
import { invalidInput } from '../model/failures.js';
import { type SessionDoc } from './documents.js';
import { type SessionSort } from '../model/session.js';
import * as v from '../model/validation/index.js';

export interface KeysetCursor {
  u: number;
  i: string;
}

export function queryDigest(query: unknown): string {
  return createHash('sha256').update(JSON.stringify(query)).digest('base64url').slice(0, 12);
}

/** The sort key's value as a number (dates as epoch milliseconds). */
function sortValue(doc: SessionDoc, field: SessionSort): number {
  const value = doc[field] as Date | number | undefined;
  return value instanceof Date ? value.getTime() : (value ?? 0);
}

export function encodeCursor(doc: SessionDoc, digest: string, sort: SessionSort = 'updatedAt'): string {
  return Buffer.from(JSON.stringify({ u: sortValue(doc, sort), i: doc._id, q: digest })).toString('base64url');
}

export function decodeCursor(cursor: string, digest: string): KeysetCursor {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalidInput('cursor', 'is not a cursor this store returned');
  }
  const c = parsed as { u?: unknown; i?: unknown; q?: unknown };
  if (typeof c !== 'object' || c === null || typeof c.u !== 'number' || !Number.isFinite(c.u) || typeof c.i !== 'string') {
    throw invalidInput('cursor', 'is not a cursor this store returned');
  }
  v.sessionId(c.i, 'cursor');
  if (c.q !== digest) throw invalidInput('cursor', 'belongs to a different query');
  return { u: c.u, i: c.i };
}

/** Rows after the cursor in (field, _id) order, descending unless `asc`. */
export function afterCursor(c: KeysetCursor, field: SessionSort = 'updatedAt', asc = false): Filter<SessionDoc> {
  const u = field === 'totalCostUsd' ? c.u : new Date(c.u);
  const op = asc ? '$gt' : '$lt';
  return { $or: [{ [field]: { [op]: u } }, { [field]: u, _id: { [op]: c.i } }] } as Filter<SessionDoc>;
}
