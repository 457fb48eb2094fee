/** Page cursors: opaque base64url JSON of the last key and a digest of the query. */
import { createHash } from 'node:crypto';
import { type Filter } from 'mongodb';
import { invalidInput } from '../model/failures.js';
import { type SessionDoc } from './documents.js';
import * as v from '../model/validation/index.js';

export interface KeysetCursor {
  u: number;
  i: string;
}

export function queryDigest(query: unknown): string {
  return createHash('sha256').update(JSON.stringify(query)).digest('base64url').slice(0, 12);
}

export function encodeCursor(doc: { updatedAt: Date; _id: string }, digest: string): string {
  return Buffer.from(JSON.stringify({ u: doc.updatedAt.getTime(), i: doc._id, q: digest })).toString('base64url');
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

/** Rows after the cursor in (updatedAt desc, _id desc) order. */
export function afterCursor(c: KeysetCursor): Filter<SessionDoc> {
  const u = new Date(c.u);
  return { $or: [{ updatedAt: { $lt: u } }, { updatedAt: u, _id: { $lt: c.i } }] };
}
