/** Listing and search: a filter on indexed fields, pages in (sort key, _id) order, by default (updatedAt desc, _id desc). */
import { type Filter } from 'mongodb';
import { type StoreContext } from './context.js';
import { afterCursor, decodeCursor, encodeCursor, queryDigest } from './cursors.js';
import { toMetadata, type SessionDoc } from './documents.js';
import { guard } from './errors.js';
import { type ListOptions, type Page, type SearchQuery, type SessionMetadata, type SessionSort } from '../model/session.js';
import * as v from '../model/validation/index.js';

export async function listSessions(c: StoreContext, options?: ListOptions): Promise<Page<SessionMetadata>> {
  const o = v.listOptions(options);
  const digest = queryDigest('list');
  const after = o.cursor ? decodeCursor(o.cursor, digest) : null;
  return guard(() => page(c, after ? afterCursor(after) : {}, o.limit, digest));
}

export async function search(c: StoreContext, query: SearchQuery): Promise<Page<SessionMetadata>> {
  const q = v.searchQuery(query);
  const { limit, cursor, ...criteria } = q;
  const digest = queryDigest(criteria);
  const after = cursor ? decodeCursor(cursor, digest) : null;
  const filter = searchFilter(q);
  const sort = q.sort ?? 'updatedAt';
  const asc = q.order === 'asc';
  if (after) Object.assign(filter, afterCursor(after, sort, asc));
  return guard(() => page(c, filter as Filter<SessionDoc>, limit, digest, sort, asc));
}

function searchFilter(q: ReturnType<typeof v.searchQuery>): Record<string, unknown> {
  const filter: Record<string, unknown> = {};
  if (q.tags || q.allTags) filter.tags = { ...(q.tags ? { $in: q.tags } : {}), ...(q.allTags ? { $all: q.allTags } : {}) };
  if (q.after || q.before) filter.createdAt = { ...(q.after ? { $gte: q.after } : {}), ...(q.before ? { $lte: q.before } : {}) };
  if (q.updatedAfter || q.updatedBefore) {
    filter.updatedAt = { ...(q.updatedAfter ? { $gte: q.updatedAfter } : {}), ...(q.updatedBefore ? { $lte: q.updatedBefore } : {}) };
  }
  if (q.minCost !== undefined || q.maxCost !== undefined) {
    filter.totalCostUsd = { ...(q.minCost !== undefined ? { $gte: q.minCost } : {}), ...(q.maxCost !== undefined ? { $lte: q.maxCost } : {}) };
  }
  if (q.model) filter.models = q.model;
  if (q.status) filter.status = q.status;
  if (q.scope) filter.scope = q.scope;
  if (q.held !== undefined) filter.hold = { $exists: q.held };
  return filter;
}

async function page(c: StoreContext, filter: Filter<SessionDoc>, limit: number, digest: string, sort: SessionSort = 'updatedAt', asc = false): Promise<Page<SessionMetadata>> {
  const dir = asc ? 1 : -1;
  const docs = await c.sessions.find(filter).sort({ [sort]: dir, _id: dir }).limit(limit + 1).toArray();
  const more = docs.length > limit;
  const items = more ? docs.slice(0, limit) : docs;
  const last = items.at(-1);
  return { items: items.map(toMetadata), nextCursor: more && last ? encodeCursor(last, digest, sort) : null };
}
