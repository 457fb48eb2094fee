/**
 * Retention: the cleanup that keeps the books, holds, the deletion log,
 * tombstones, archives and restore. The run ledger is never deleted with a
 * session (reports stay true for every period); only an explicit ledger purge
 * removes old entries of deleted sessions, and records how far back it went.
 *
 * Deleting a batch of sessions, each in this order, so a run going on in one
 * loses nothing and an interrupted cleanup leaves nothing behind (steps 2 and 5
 * read and delete the whole batch's data at once):
 * 1. skip it if a run of it is `running` or holds its lease; note its ledger's run ids;
 * 2. archive it (when asked) and measure it;
 * 3. write its tombstone, marked pending, with those run ids;
 * 4. delete its document only if `updatedAt` is still what was selected (a run that
 *    started since touched it, so it stays) and it is not on hold;
 * 5. delete the messages, overflow, transcripts and run starts of the noted runs only
 *    (a run that starts later has a new id and keeps its data);
 * 6. mark the tombstone done. A pending tombstone found later is finished (session gone)
 *    or dropped (session still there).
 */
import { randomUUID } from 'node:crypto';
import { type Collection, type Db, type Filter } from 'mongodb';
import {
  archiveLocation,
  archiveTargetName,
  LOG_ID_LIMIT,
  type ArchiveLocation,
  type CleanupResult,
  type CostReport,
  type DeletionRecord,
  type RestoreResult,
  type Tombstone,
  type ValidCleanup,
} from '../model/index.js';
import { archiveSession, restoreArchive } from './archive.js';
import { COLLECTIONS } from './documents.js';
import { deleteFiles, fileIds } from './gridfs.js';
import { upsert, type IdDoc } from './writes.js';
import { type SessionStore } from './types.js';
import { type StoreContext } from './context.js';

const DAY_MS = 86_400_000;
/** A pending tombstone of another cleanup is taken as abandoned after this long. */
const ABANDONED_MS = 60 * 60 * 1000;

export interface RetentionDeps {
  db: Db;
  now: () => Date;
  /** The public store API: messages, transcripts and appends for archive and restore. */
  store: SessionStore;
  /** Drop cached run starts of a deleted session. */
  forgetRunStarts(sessionId: string): void;
  /** The run id under which `saveSession` stores a session's messages (it may have no ledger entry). */
  savedRunId(sessionId: string): string;
  /** Point the session's scope at it when it is its latest (`continue` after a restore). */
  advanceScope(sessionId: string): Promise<void>;
  /** Rewrite these sessions' ledger briefs from the ledger (after entries were restored or purged). */
  rebuildBriefs(sessionIds: readonly string[]): Promise<void>;
}

interface TombstoneDoc {
  _id: string;
  deletedAt: Date;
  logId: string;
  parentSessionId: string | null;
  archiveRef: string | null;
  bytes: number;
  pending: boolean;
  runIds?: string[];
}

type LogDoc = Omit<DeletionRecord, 'logId'> & { _id: string };

interface SessionKey {
  _id: string;
  updatedAt: Date;
  lineage?: { parentSessionId?: string | null };
}

/** The filter of sessions a cleanup may delete: idle since `cutoff`, not on hold, without a kept tag. */
export function deletableFilter(cutoff: Date, keepTags: string[]): Filter<IdDoc> {
  const f: Filter<IdDoc> = { updatedAt: { $lt: cutoff }, hold: { $exists: false } };
  if (keepTags.length > 0) f.tags = { $nin: keepTags };
  return f;
}

export class Retention {
  private readonly sessions: Collection<IdDoc>;
  private readonly runs: Collection<IdDoc>;
  private readonly log: Collection<LogDoc>;
  private readonly tombstones: Collection<TombstoneDoc>;
  private readonly state: Collection<{ _id: string; purgedBefore?: Date }>;

  constructor(private readonly deps: RetentionDeps) {
    this.sessions = deps.db.collection('sessions');
    this.runs = deps.db.collection('runs');
    this.log = deps.db.collection<LogDoc>(COLLECTIONS.deletionLog);
    this.tombstones = deps.db.collection<TombstoneDoc>(COLLECTIONS.tombstones);
    this.state = deps.db.collection(COLLECTIONS.retention);
  }

  // -------------------------------------------------------------------------
  // Cleanup

  async cleanup(o: ValidCleanup): Promise<CleanupResult> {
    const d = this.deps;
    const logId = o.logId ?? `cleanup-${randomUUID()}`;
    const where = o.archive === undefined ? null : archiveLocation(o.archive);
    const startedAt = d.now();
    await this.openLog(logId, startedAt, o, where);
    if (!o.dryRun) await this.finishPending(logId);
    const cutoff = new Date(startedAt.getTime() - o.maxAgeDays * DAY_MS);
    const base = deletableFilter(cutoff, o.keepTags);
    const sessionIds: string[] = [];
    let skippedBusy = 0;
    let last: SessionKey | null = null;
    for (;;) {
      const filter: Filter<IdDoc> = last
        ? { ...base, $or: [{ updatedAt: { $gt: last.updatedAt } }, { updatedAt: last.updatedAt, _id: { $gt: last._id } }] }
        : base;
      const batch = (await this.sessions
        .find(filter, { projection: { _id: 1, updatedAt: 1, lineage: 1 } })
        .sort({ updatedAt: 1, _id: 1 })
        .limit(o.batchSize)
        .toArray()) as SessionKey[];
      if (batch.length === 0) break;
      last = batch[batch.length - 1] ?? null;
      const busy = new Set((await this.runs.distinct('sessionId', { sessionId: { $in: batch.map((s) => s._id) }, status: 'running' })) as string[]);
      // A run holds the session's lease from before it reads the transcript until after its last write.
      for (const s of batch) if (!busy.has(s._id) && (await d.store.liveLease(s._id))) busy.add(s._id);
      skippedBusy += busy.size;
      const idle = batch.filter((s) => !busy.has(s._id));
      const ids: string[] = [];
      if (o.dryRun) ids.push(...idle.map((s) => s._id));
      else {
        const deleted = await this.deleteBatch(idle, await this.runIdsOf(idle.map((s) => s._id)), logId, where);
        ids.push(...deleted);
        skippedBusy += idle.length - deleted.length;
      }
      sessionIds.push(...ids);
      if (o.onBatch) await o.onBatch({ deleted: sessionIds.length, sessionIds: ids });
      if (batch.length < o.batchSize) break;
    }
    const purged = !o.dryRun && o.purgeLedgerOlderThanDays !== undefined ? await this.purgeLedger(new Date(startedAt.getTime() - o.purgeLedgerOlderThanDays * DAY_MS)) : 0;
    return this.closeLog(logId, o.dryRun, sessionIds, skippedBusy, purged);
  }

  private async openLog(logId: string, startedAt: Date, o: ValidCleanup, where: ArchiveLocation | null): Promise<void> {
    const doc: Omit<LogDoc, '_id'> = {
      startedAt,
      finishedAt: null,
      trigger: o.trigger ?? { kind: 'command', name: 'cleanupOldSessions' },
      criteria: {
        maxAgeDays: o.maxAgeDays,
        keepTags: o.keepTags,
        archive: where ? archiveTargetName(where) : null,
        purgeLedgerOlderThanDays: o.purgeLedgerOlderThanDays ?? null,
      },
      dryRun: o.dryRun,
      count: 0,
      sessionIds: [],
      bytesFreed: 0,
      archiveRefs: [],
      ledgerEntriesPurged: 0,
    };
    // A retry with the same id keeps the first record's start and criteria.
    await upsert(this.log, { _id: logId }, { $setOnInsert: doc });
  }

  /** The record's totals come from the tombstones it left, so a retried cleanup counts each session once. */
  private async closeLog(logId: string, dryRun: boolean, listed: string[], skippedBusy: number, purged: number): Promise<CleanupResult> {
    if (dryRun) {
      const ids = listed.slice(0, LOG_ID_LIMIT);
      await this.log.updateOne({ _id: logId }, { $set: { count: listed.length, sessionIds: ids, finishedAt: this.deps.now() } });
      return { dryRun: true, wouldDelete: listed.length, sessionIds: listed, logId, skippedBusy };
    }
    let count = 0;
    let bytes = 0;
    const ids: string[] = [];
    const refs: string[] = [];
    for await (const t of this.tombstones.find({ logId, pending: false }, { projection: { bytes: 1, archiveRef: 1 } })) {
      count += 1;
      bytes += t.bytes ?? 0;
      if (ids.length < LOG_ID_LIMIT) ids.push(t._id);
      if (t.archiveRef && refs.length < LOG_ID_LIMIT) refs.push(t.archiveRef);
    }
    const prior = await this.log.findOne({ _id: logId }, { projection: { ledgerEntriesPurged: 1 } });
    const ledgerEntriesPurged = Math.max(prior?.ledgerEntriesPurged ?? 0, purged);
    await this.log.updateOne({ _id: logId }, { $set: { count, sessionIds: ids, bytesFreed: bytes, archiveRefs: refs, ledgerEntriesPurged, finishedAt: this.deps.now() } });
    // This run's list, plus what an earlier attempt under the same id deleted.
    const sessionIds = [...new Set([...ids, ...listed])];
    return { dryRun: false, deletedCount: Math.max(count, sessionIds.length), sessionIds, logId, skippedBusy, bytesFreed: bytes, archiveRefs: refs, ledgerEntriesPurged };
  }

  private async runIdsOf(sessionIds: string[]): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>(sessionIds.map((id) => [id, [this.deps.savedRunId(id)]]));
    for await (const r of this.runs.find({ sessionId: { $in: sessionIds } }, { projection: { _id: 1, sessionId: 1 } })) {
      out.get(r.sessionId as string)?.push(String(r._id));
    }
    return out;
  }

  /**
   * Steps 2-6 of the header for a batch, each session's own writes by key and the data of the
   * batch's deleted sessions in one pass per collection (FerretDB v1 scans for each such query);
   * returns the ids deleted (a session touched or held meanwhile stays).
   */
  private async deleteBatch(batch: SessionKey[], noted: Map<string, string[]>, logId: string, where: ArchiveLocation | null): Promise<string[]> {
    const { now } = this.deps;
    const bytes = await measure(this.deps.db, noted);
    const deleted = new Map<string, string[]>();
    for (const s of batch) {
      const runIds = noted.get(s._id) ?? [];
      const archiveRef = where ? await archiveSession(this.deps, s._id, logId, where) : null;
      const tomb: Omit<TombstoneDoc, '_id'> = { deletedAt: now(), logId, parentSessionId: s.lineage?.parentSessionId ?? null, archiveRef, bytes: bytes.get(s._id) ?? 0, pending: true, runIds };
      await upsert(this.tombstones, { _id: s._id }, { $set: tomb });
      const r = await this.sessions.deleteOne({ _id: s._id, updatedAt: s.updatedAt, hold: { $exists: false } });
      if (r.deletedCount === 0) await this.tombstones.deleteOne({ _id: s._id, logId, pending: true });
      else deleted.set(s._id, runIds);
    }
    await this.deleteRunData(deleted);
    for (const id of deleted.keys()) await this.tombstones.updateOne({ _id: id, logId }, { $set: { pending: false }, $unset: { runIds: '' } });
    return [...deleted.keys()];
  }

  /** The messages, overflow, transcripts and run starts of these sessions' noted runs (run ids are unique to a session). */
  private async deleteRunData(noted: Map<string, string[]>): Promise<void> {
    if (noted.size === 0) return;
    const { db } = this.deps;
    const sessionIds = { $in: [...noted.keys()] };
    const inRuns = { $in: [...noted.values()].flat() };
    await db.collection('messages').deleteMany({ sessionId: sessionIds, runId: inRuns });
    for (const bucket of [COLLECTIONS.overflow, COLLECTIONS.transcripts]) {
      await deleteFiles({ db }, bucket, await fileIds({ db }, bucket, { 'metadata.sessionId': sessionIds, 'metadata.runId': inRuns }));
    }
    for (const id of noted.keys()) await db.collection<IdDoc>(COLLECTIONS.transcriptFiles).deleteOne({ _id: id });
    await db.collection<IdDoc>('run_starts').deleteMany({ _id: inRuns });
    for (const id of noted.keys()) this.deps.forgetRunStarts(id);
  }

  /** Finishes what an interrupted cleanup left: its own pending tombstones, and anyone's abandoned ones. */
  private async finishPending(logId: string): Promise<void> {
    const abandoned = new Date(this.deps.now().getTime() - ABANDONED_MS);
    const pending = await this.tombstones.find({ pending: true, $or: [{ logId }, { deletedAt: { $lt: abandoned } }] }).limit(10_000).toArray();
    for (const t of pending) {
      if (await this.sessions.findOne({ _id: t._id }, { projection: { _id: 1 } })) {
        await this.tombstones.deleteOne({ _id: t._id, pending: true });
        continue;
      }
      await this.deleteRunData(new Map([[t._id, t.runIds ?? []]]));
      await this.tombstones.updateOne({ _id: t._id }, { $set: { pending: false }, $unset: { runIds: '' } });
    }
  }

  // -------------------------------------------------------------------------
  // Restore

  /** Brings an archived session back (see `restoreArchive`) and removes its tombstone. */
  async restore(ref: string): Promise<RestoreResult> {
    const result = await restoreArchive(this.deps, ref, await this.ledgerPurgedBefore());
    if (result.restored) await this.tombstones.deleteOne({ _id: result.sessionId });
    return result;
  }

  // -------------------------------------------------------------------------
  // Ledger purge

  /** Removes ledger entries of deleted sessions started before `before`; records the horizon first. */
  private async purgeLedger(before: Date): Promise<number> {
    await upsert(this.state, { _id: 'ledger' }, { $max: { purgedBefore: before } });
    const candidates = (await this.runs.distinct('sessionId', { startedAt: { $lt: before } })) as string[];
    let purged = 0;
    for (let i = 0; i < candidates.length; i += 500) {
      const chunk = candidates.slice(i, i + 500);
      const live = new Set((await this.sessions.find({ _id: { $in: chunk } }, { projection: { _id: 1 } }).toArray()).map((s) => String(s._id)));
      const gone = chunk.filter((id) => !live.has(id));
      if (gone.length === 0) continue;
      const r = await this.runs.deleteMany({ sessionId: { $in: gone }, startedAt: { $lt: before }, status: { $ne: 'running' } });
      await this.deps.rebuildBriefs(gone);
      purged += r.deletedCount;
    }
    return purged;
  }

  /** Runs started before this were purged from the ledger; null if never. */
  async ledgerPurgedBefore(): Promise<Date | null> {
    return (await this.state.findOne({ _id: 'ledger' }))?.purgedBefore ?? null;
  }

  /** A report whose period reaches back before a ledger purge says so, so a total is not taken as complete. */
  async notePurge(report: CostReport, since: Date | undefined): Promise<CostReport> {
    const purgedBefore = await this.ledgerPurgedBefore();
    return purgedBefore && (!since || since < purgedBefore) ? { ...report, ledgerPurgedBefore: purgedBefore } : report;
  }

  // -------------------------------------------------------------------------
  // Holds, log, tombstones

  async setHold(ids: string[], hold: { reason: string; heldAt: Date } | null): Promise<string[]> {
    if (ids.length === 0) return [];
    // Neither holding nor releasing touches updatedAt: a hold is not a use of the session.
    if (hold) await this.sessions.updateMany({ _id: { $in: ids } }, { $set: { hold } });
    else await this.sessions.updateMany({ _id: { $in: ids } }, { $unset: { hold: '' } });
    return ids;
  }

  /** Records a one-off delete (`deleteSession`) as its own log entry and tombstone. */
  async recordDelete(sessionId: string, parentSessionId: string | null, command: string): Promise<void> {
    const now = this.deps.now();
    const logId = `delete-${randomUUID()}`;
    const doc: Omit<LogDoc, '_id'> = {
      startedAt: now,
      finishedAt: now,
      trigger: { kind: 'command', name: command },
      criteria: { maxAgeDays: null, keepTags: [], archive: null, purgeLedgerOlderThanDays: null },
      dryRun: false,
      count: 1,
      sessionIds: [sessionId],
      bytesFreed: 0,
      archiveRefs: [],
      ledgerEntriesPurged: 0,
    };
    await upsert(this.log, { _id: logId }, { $setOnInsert: doc });
    await upsert(this.tombstones, { _id: sessionId }, { $set: { deletedAt: now, logId, parentSessionId, archiveRef: null, bytes: 0, pending: false } });
  }

  async listLog(limit: number): Promise<DeletionRecord[]> {
    const docs = await this.log.find({}).sort({ startedAt: -1, _id: -1 }).limit(limit).toArray();
    return docs.map(toRecord);
  }

  async getLog(logId: string): Promise<DeletionRecord | null> {
    const d = await this.log.findOne({ _id: logId });
    return d ? toRecord(d) : null;
  }

  async getTombstone(sessionId: string): Promise<Tombstone | null> {
    return tombstoneOf(this.deps.db, sessionId);
  }

  /** The session, or every session of its lineage from the oldest ancestor still stored. */
  async holdTargets(sessionId: string, lineage: boolean): Promise<string[]> {
    const { store } = this.deps;
    if (!lineage) return (await store.getSession(sessionId)) ? [sessionId] : [];
    const { ancestors } = await store.getLineage(sessionId);
    const { tree } = await store.getLineage(ancestors[0]?.sessionId ?? sessionId);
    const ids: string[] = [];
    const walk = (n: typeof tree) => {
      ids.push(n.sessionId);
      n.children.forEach(walk);
    };
    walk(tree);
    return ids;
  }
}

async function tombstoneOf(db: Db, sessionId: string): Promise<Tombstone | null> {
  const t = await db.collection<TombstoneDoc>(COLLECTIONS.tombstones).findOne({ _id: sessionId, pending: false });
  if (!t) return null;
  return { sessionId: t._id, deletedAt: t.deletedAt, logId: t.logId, parentSessionId: t.parentSessionId ?? null, archiveRef: t.archiveRef ?? null };
}

/** When a deleted session went (its tombstone), or null if unknown. */
export async function deletedOn(c: StoreContext, sessionId: string): Promise<Date | null> {
  return (await tombstoneOf(c.db, sessionId))?.deletedAt ?? null;
}

function toRecord(d: LogDoc): DeletionRecord {
  const { _id, ...rest } = d;
  return { logId: _id, ...rest };
}

/** Bytes of each session's noted runs: messages (inline lines and overflow) and transcripts, one pass each. */
async function measure(db: Db, noted: Map<string, string[]>): Promise<Map<string, number>> {
  const bytes = new Map<string, number>();
  const add = (sessionId: unknown, n: number) => bytes.set(String(sessionId), (bytes.get(String(sessionId)) ?? 0) + n);
  const sessionIds = { $in: [...noted.keys()] };
  const runIds = { $in: [...noted.values()].flat() };
  for await (const m of db.collection('messages').find({ sessionId: sessionIds, runId: runIds }, { projection: { sessionId: 1, raw: 1, overflow: 1 } })) {
    add(m.sessionId, typeof m.raw === 'string' ? Buffer.byteLength(m.raw, 'utf8') : Number(m.overflow?.bytes ?? 0));
  }
  for await (const f of db.collection('transcripts.files').find({ 'metadata.sessionId': sessionIds, 'metadata.runId': runIds }, { projection: { metadata: 1, length: 1 } })) {
    add((f.metadata as { sessionId?: string } | undefined)?.sessionId, Number(f.length ?? 0));
  }
  return bytes;
}
