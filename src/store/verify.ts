/**
 * The store's invariants, checked over every session, and the repair of what
 * a crash left behind:
 * - no ledger entry `running` unless a run holds its session's lease;
 * - no message stored for a failed run (its conversation was rolled back);
 * - each session's `messageCount` equals its message documents;
 * - each session's `totalCostUsd` equals the exact sum of its ledger, and its
 *   status follows its latest run.
 * Sessions whose lease a run holds right now are in flight and are skipped.
 */
import { type Collection, type Db } from 'mongodb';
import { addUsd } from '../model/formats.js';
import { type StoreProblem, type VerifyReport } from '../model/session.js';
import { isLive, type LeaseDoc } from './lease.js';

interface VerifyCollections {
  sessions: Collection<{ _id: string; messageCount?: number; totalCostUsd?: number; status?: string }>;
  messages: Collection<{ _id: string; sessionId: string; runId: string }>;
  runs: Collection<{ _id: string; sessionId: string; status: string; costUsd?: number; startedAt?: Date; estimated?: boolean; failureType?: string | null }>;
  leases: Collection<LeaseDoc>;
}

export interface VerifyHooks {
  now(): Date;
  /** Marks a run the store finds abandoned as failed (an estimate of nothing), dropping its messages. */
  settleRun(sessionId: string, runId: string): Promise<void>;
  discardRunMessages(sessionId: string, runId: string): Promise<number>;
  /** Recomputes a session's derived fields from its ledger and messages. */
  recompute(sessionId: string): Promise<void>;
}

/** The collections verify reads, by name. */
export function verifyCollections(db: Db, names: { sessions: string; messages: string; runs: string; leases: string }): VerifyCollections {
  return { sessions: db.collection(names.sessions), messages: db.collection(names.messages), runs: db.collection(names.runs), leases: db.collection(names.leases) };
}

export async function verifySessions(c: VerifyCollections, hooks: VerifyHooks, options: { repair?: boolean } = {}): Promise<VerifyReport> {
  const report: VerifyReport = { sessionsChecked: 0, sessionsInFlight: 0, problems: [], repaired: 0 };
  const cursor = c.sessions.find({}, { projection: { _id: 1, messageCount: 1, totalCostUsd: 1, status: 1 } }).sort({ _id: 1 }).batchSize(200);
  try {
    for await (const s of cursor) {
      const lease = await c.leases.find({ sessionId: s._id }).sort({ token: -1 }).limit(1).next();
      if (isLive(lease, hooks.now())) {
        report.sessionsInFlight += 1;
        continue;
      }
      report.sessionsChecked += 1;
      const found = await checkSession(c, s);
      if (found.length === 0) continue;
      report.problems.push(...found);
      if (options.repair) report.repaired += await repairSession(s._id, found, hooks);
    }
  } finally {
    await cursor.close().catch(() => undefined);
  }
  return report;
}

async function checkSession(
  c: VerifyCollections,
  s: { _id: string; messageCount?: number; totalCostUsd?: number; status?: string },
): Promise<StoreProblem[]> {
  const sessionId = s._id;
  const problems: StoreProblem[] = [];
  const runs = await c.runs.find({ sessionId }, { projection: { status: 1, costUsd: 1, startedAt: 1 } }).sort({ startedAt: 1, _id: 1 }).toArray();
  for (const r of runs) {
    if (r.status === 'running') {
      problems.push({ sessionId, runId: r._id, kind: 'runStuckRunning', message: `Run ${r._id} is recorded as running but no run holds the session` });
    }
    if (r.status === 'failed' || r.status === 'running') {
      const n = await c.messages.countDocuments({ sessionId, runId: r._id });
      if (n > 0) problems.push({ sessionId, runId: r._id, kind: 'failedRunMessages', message: `${n} messages of failed run ${r._id} are still stored` });
    }
  }
  const messageCount = await c.messages.countDocuments({ sessionId });
  if ((s.messageCount ?? 0) !== messageCount) {
    problems.push({ sessionId, kind: 'messageCount', message: `messageCount is ${s.messageCount ?? 0} but ${messageCount} messages are stored` });
  }
  const ledgerTotal = addUsd(...runs.map((r) => r.costUsd ?? 0));
  if ((s.totalCostUsd ?? 0) !== ledgerTotal) {
    problems.push({ sessionId, kind: 'totalCost', message: `totalCostUsd is ${s.totalCostUsd ?? 0} but its ledger sums to ${ledgerTotal}` });
  }
  const latest = runs.at(-1);
  if (latest && s.status === 'active' && latest.status !== 'running') {
    problems.push({ sessionId, kind: 'status', message: `status is active but its latest run ${latest._id} is ${latest.status}` });
  }
  return problems;
}

async function repairSession(sessionId: string, problems: StoreProblem[], hooks: VerifyHooks): Promise<number> {
  for (const p of problems) {
    if (p.kind === 'runStuckRunning' && p.runId) await hooks.settleRun(sessionId, p.runId);
    else if (p.kind === 'failedRunMessages' && p.runId) await hooks.discardRunMessages(sessionId, p.runId);
  }
  await hooks.recompute(sessionId);
  return problems.length;
}
