/** A session's ancestors (walked up one parent at a time) and its tree of forks (breadth-first down). */
import { type StoreContext } from './context.js';
import { toMetadata, type SessionDoc } from './documents.js';
import { guard, notFound } from './errors.js';
import { deletedOn } from './retention.js';
import { type LineageNode, type LineageResult, type SessionMetadata } from '../model/session.js';
import * as v from '../model/validation/index.js';

const MAX_ANCESTORS = 10_000;
const MAX_NODES = 100_000;

export async function getLineage(c: StoreContext, sessionId: string): Promise<LineageResult> {
  const sid = v.sessionId(sessionId);
  return guard(async () => {
    const self = await c.sessions.findOne({ _id: sid });
    if (!self) throw notFound(sid);
    const { ancestors, missing } = await ancestorsOf(c, self);
    // The chain ended at a deleted ancestor: its tombstone says when.
    const parentDeleted = missing ? { sessionId: missing, deletedAt: await deletedOn(c, missing) } : null;
    return { ancestors, tree: await forksOf(c, self), parentDeleted };
  });
}

async function ancestorsOf(c: StoreContext, self: SessionDoc): Promise<{ ancestors: SessionMetadata[]; missing: string | null }> {
  const ancestors: SessionMetadata[] = [];
  const seen = new Set([self._id]);
  let parentId = self.lineage?.parentSessionId ?? null;
  // A deleted ancestor ends the chain.
  while (parentId && !seen.has(parentId) && ancestors.length < MAX_ANCESTORS) {
    seen.add(parentId);
    const p = await c.sessions.findOne({ _id: parentId });
    if (!p) return { ancestors, missing: parentId };
    ancestors.unshift(toMetadata(p));
    parentId = p.lineage?.parentSessionId ?? null;
  }
  return { ancestors, missing: null };
}

function node(d: Pick<SessionDoc, '_id' | 'createdAt' | 'totalCostUsd' | 'description' | 'lineage'>): LineageNode {
  return {
    sessionId: d._id,
    createdAt: d.createdAt,
    totalCostUsd: d.totalCostUsd ?? 0,
    description: d.description ?? null,
    forkedAtMessage: d.lineage?.forkedAtMessage ?? null,
    children: [],
  };
}

/** One query per level of forks. */
async function forksOf(c: StoreContext, self: SessionDoc): Promise<LineageNode> {
  const tree = node(self);
  const nodes = new Map([[self._id, tree]]);
  let frontier = [self._id];
  while (frontier.length > 0 && nodes.size < MAX_NODES) {
    const children = await c.sessions
      .find({ 'lineage.parentSessionId': { $in: frontier } }, { projection: { createdAt: 1, totalCostUsd: 1, description: 1, lineage: 1 } })
      .sort({ createdAt: 1, _id: 1 })
      .toArray();
    frontier = [];
    for (const child of children) {
      if (nodes.has(child._id)) continue;
      const n = node(child);
      nodes.get(child.lineage.parentSessionId as string)?.children.push(n);
      nodes.set(child._id, n);
      frontier.push(child._id);
    }
  }
  return tree;
}
