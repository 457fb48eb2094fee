/**
 * `saveSession`: a session's parsed messages stored as one run, `saved:<sessionId>`, whose ledger
 * entry is priced by the runner's cost logic.
 */
import { createHash } from 'node:crypto';
import { runCost, type ResultCostFields } from '../model/cost.js';
import { type ModelUsage } from '../model/run.js';
import { upsertOne, type StoreContext } from './context.js';
import { COLLECTIONS, toRunDoc } from './documents.js';
import { guard } from './errors.js';
import { deleteFiles, fileIds } from './gridfs.js';
import { recompute } from './derived.js';
import { forgetBrief, noteBrief, toBrief } from './run-briefs.js';
import { runStart, writeOverflow } from './messages.js';
import { mustGet, writeSession } from './sessions.js';
import { type RunLedgerEntry, type SaveSessionOptions, type SessionMetadata, type SessionUpsert } from '../model/session.js';
import * as v from '../model/validation/index.js';

/** The run id under which `saveSession` stores a session's messages. */
export function savedRunId(sessionId: string): string {
  return `saved:${sessionId}`;
}

/**
 * Stores parsed messages as run `saved:<sessionId>`, message i at seq i, each line being
 * `JSON.stringify(message)`. Saving again replaces that run's messages (by position, and
 * drops positions past the new end), so it is idempotent. The `result` messages, if any,
 * become the run's ledger entry: its spend is what the runner would charge for them
 * (`model_usage_since_last_result` when present, so a fork does not count its parent's spend).
 */
export async function saveSession(c: StoreContext, sessionId: string, messages: readonly unknown[], options?: SaveSessionOptions): Promise<SessionMetadata> {
  const sid = v.sessionId(sessionId);
  const msgs = v.savedMessages(messages);
  const opts = v.saveOptions(options);
  const entry = savedEntry(sid, msgs);
  return guard(async () => {
    const upsert: SessionUpsert = { sessionId: sid, tags: opts.tags };
    if (opts.description !== undefined) upsert.description = opts.description;
    await writeSession(c, upsert);
    const rid = savedRunId(sid);
    await replaceMessages(c, sid, rid, msgs);
    if (entry) {
      const created = await c.sessions.findOne({ _id: sid }, { projection: { createdAt: 1, tags: 1 } });
      const startedAt = created?.createdAt ?? c.clock();
      const full: RunLedgerEntry = {
        ...entry,
        startedAt,
        day: v.utcDay(startedAt),
        month: v.utcDay(startedAt).slice(0, 7),
        tags: created?.tags ?? opts.tags,
      };
      const { _id, ...fields } = toRunDoc(full);
      // The entry before its brief (see `rebuildBriefs`).
      await upsertOne(c.runs, { _id }, { $set: fields });
      await noteBrief(c, sid, toBrief({ _id, ...fields }));
    } else {
      // The entry first: a session with folded runs rebuilds its briefs from the ledger.
      await c.runs.deleteOne({ _id: rid });
      await forgetBrief(c, sid, rid);
    }
    await recompute(c, sid, null);
    return mustGet(c, sid);
  });
}

/** Puts message i at seq i of the run and removes positions past the new end. */
async function replaceMessages(c: StoreContext, sid: string, rid: string, msgs: v.ValidMessage[]): Promise<void> {
  const runAt = await runStart(c, sid, rid);
  const inline = msgs.filter((m) => m.bytes <= c.inlineLimit);
  if (inline.length > 0) {
    await c.messages.bulkWrite(
      inline.map((m) => ({
        replaceOne: {
          filter: { _id: `${rid}:${m.seq}` },
          replacement: { sessionId: sid, runId: rid, seq: m.seq, runAt, type: m.type, subtype: m.subtype, raw: m.raw },
          upsert: true,
        },
      })),
      { ordered: false },
    );
  }
  for (const m of msgs.filter((x) => x.bytes > c.inlineLimit)) await writeOverflow(c, sid, rid, runAt, m, true);
  await c.messages.deleteMany({ runId: rid, seq: { $gte: msgs.length } });
  const stale = await fileIds(c, COLLECTIONS.overflow, { 'metadata.runId': rid, 'metadata.seq': { $gte: msgs.length } });
  await deleteFiles(c, COLLECTIONS.overflow, stale);
}

type SavedEntry = Omit<RunLedgerEntry, 'startedAt' | 'day' | 'month' | 'tags'>;

/** The ledger entry of saved messages: status and counts from the last `result`, spend from all of them (lenient: foreign data). */
function savedEntry(sessionId: string, msgs: v.ValidMessage[]): SavedEntry | null {
  const results = msgs.filter((m) => m.type === 'result').map((m) => JSON.parse(m.raw) as Record<string, unknown>);
  const last = results.at(-1);
  if (!last) return null;
  const cost = runCost(results as ResultCostFields[]);
  const usageByModel = storableUsage(cost.usageByModel);
  const models = Object.keys(usageByModel);
  return {
    runId: savedRunId(sessionId),
    sessionId,
    mode: 'query',
    promptDigest: createHash('sha256').update('').digest('hex'),
    status: last.is_error === true ? 'failed' : 'success',
    failureType: null,
    subtype: typeof last.subtype === 'string' ? last.subtype.slice(0, 128) : null,
    costUsd: nonNegative(cost.runCostUsd),
    cumulativeCostUsd: nonNegative(cost.cumulativeCostUsd),
    usageByModel,
    numTurns: count(last.num_turns),
    messageCount: msgs.length,
    exitCode: null,
    finishedAt: null,
    durationMs: count(last.duration_ms),
    stepKey: null,
    attempt: 0,
    model: models.at(-1) ?? null,
    pipeline: null,
    workflowId: null,
  };
}

function nonNegative(x: unknown): number {
  return typeof x === 'number' && Number.isFinite(x) && x >= 0 ? x : 0;
}

function count(x: unknown): number {
  return typeof x === 'number' && Number.isInteger(x) && x >= 0 ? x : 0;
}

/** Usage the store can keep: model ids that are usable keys, non-negative counts. */
function storableUsage(usage: Record<string, ModelUsage>): Record<string, ModelUsage> {
  const out: Record<string, ModelUsage> = {};
  for (const [model, u] of Object.entries(usage)) {
    if (!model || model.startsWith('$') || model.length > 512) continue;
    out[model] = {
      inputTokens: count(u.inputTokens),
      outputTokens: count(u.outputTokens),
      cacheReadInputTokens: count(u.cacheReadInputTokens),
      cacheCreationInputTokens: count(u.cacheCreationInputTokens),
      costUSD: nonNegative(u.costUSD),
    };
  }
  return out;
}
