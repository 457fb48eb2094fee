/**
 * The run ledger: one entry per run, written with `$set` of the whole entry, with the session's
 * fields derived from it (`derived.ts`).
 */
import { type Filter } from 'mongodb';
import { invalidInput } from '../model/failures.js';
import { upsertOne, type StoreContext } from './context.js';
import { readDerivation, withRun, writeDerived, type Derivation, type RecomputeCause } from './derived.js';
import { toEntry, toRunDoc, type RunDoc, type TranscriptFileRef } from './documents.js';
import { guard, isDuplicateKey, mapError } from './errors.js';
import { followsFold } from './ledger-fold.js';
import { FOLD_AT, foldBriefs, noteBrief, toBrief } from './run-briefs.js';
import { sessionFields, tagRuns } from './sessions.js';
import { nameCurrent, pruneFiles, writeTranscriptFile } from './transcripts.js';
import { type RecordRunOptions, type RunLedgerEntry, type RunQuery } from '../model/session.js';
import { type RunRecord } from './types.js';
import { stepRunId } from '../model/workflow.js';
import * as v from '../model/validation/index.js';

/**
 * Writes a ledger entry and the session's fields derived from it. With `transcript`, the session's
 * transcript is stored and named current first, so a run recorded complete has its transcript (the
 * versions it replaces stay listed until `pruneTranscripts`, or a started run's `pruneReplaced`: it
 * answers how many). With `session`, the session's own fields are upserted in the same write (a
 * run's start: its session and its `running` entry).
 */
export async function recordRun(c: StoreContext, entry: RunLedgerEntry, options?: RecordRunOptions): Promise<number> {
  return (await record(c, entry, options, null)).replaced.length;
}

/**
 * `recordRun` of a run's start, answering the write of its end: while the run holds its session's
 * lease no other run writes the session, so the end derives the session's fields from what the
 * start left, plus itself, instead of reading them again. Tags added to or removed from the session
 * meanwhile are on the entry already (`tagSession` writes the ledger too), so the end leaves the
 * entry's tags as they are. A start that folded the session's briefs, and any retry of the end, read.
 */
export async function startRun(c: StoreContext, entry: RunLedgerEntry, options?: RecordRunOptions): Promise<RunRecord> {
  const { written } = await record(c, entry, options, null);
  const run = { sessionId: entry.sessionId, runId: entry.runId };
  // Used once: a retry (the first call failed partway, or the store was out) reads.
  let carried = written;
  let replaced: TranscriptFileRef[] = [];
  return {
    record: async (end, endOptions) => {
      const basis = carried;
      carried = null;
      ({ replaced } = await record(c, end, endOptions, basis ? { ...run, basis } : null));
      return replaced.length;
    },
    pruneReplaced: () => guard(() => pruneFiles(c, run.sessionId, replaced)),
  };
}

/** What a new session's fields derive from. */
const NOTHING_STORED: Derivation = { cause: 'run', session: null, folded: null, runs: [], counted: null };

/**
 * One entry's write. `started`: the run's start as it left the session, for its end (nothing read).
 * Answers the transcript versions it replaced (still listed, for `pruneFiles`), and the session's
 * derivation as written, when the next entry of the run may derive from it.
 */
async function record(
  c: StoreContext,
  entry: RunLedgerEntry,
  options: RecordRunOptions | undefined,
  started: { sessionId: string; runId: string; basis: Derivation } | null,
): Promise<{ replaced: TranscriptFileRef[]; written: Derivation | null }> {
  const e = v.validateRunEntry(entry);
  const { transcript, session, parent, fresh, check } = v.recordRunOptions(options, e.sessionId);
  if (started && (started.sessionId !== e.sessionId || started.runId !== e.runId)) {
    throw invalidInput('entry.runId', `is not the run started (${started.runId} of session ${started.sessionId})`);
  }
  // A starting run has stored no message yet.
  const cause: RecomputeCause = e.status === 'running' ? 'ledger' : 'run';
  return guard(async () => {
    // What the session's fields derive from is read (unless it was; the same reads for a run that starts
    // and one that ended), and the check made, while the transcript's file is written (nothing names it yet).
    const [read, file, fields] = await Promise.all([
      started?.basis ?? (fresh ? NOTHING_STORED : readDerivation(c, e.sessionId, 'run')),
      transcript ? writeTranscriptFile(c, e.sessionId, e.runId, transcript) : null,
      session ? sessionFields(c, session, parent) : null,
      check?.(),
    ]);
    const replaced = file ? await nameCurrent(c, e.sessionId, file) : [];
    const before = { ...read, cause };
    // The ledger carries the session's tags too, so reports by tag see every run of a tagged session.
    const had = before.session?.tags ?? [];
    const added = (session?.tags ?? []).filter((t) => !had.includes(t));
    const tags = [...new Set([...e.tags, ...had, ...added])];
    const { _id, ...doc } = toRunDoc({ ...e, tags });
    const brief = toBrief({ _id, ...doc });
    const opened = fields ? { set: fields, tags: session?.tags ?? [] } : null;
    // The entry before its brief: a rebuild of the briefs that reads the ledger sees every brief written
    // before it. Before the session's fields too, unless the run's start wrote it: an entry refused (its
    // run id is another session's) changes no totals.
    const entryWritten = writeEntry(c, _id, doc, started !== null);
    if (!started) await entryWritten;
    const entryWrites = Promise.all([entryWritten.then(() => noteBrief(c, e.sessionId, brief)), added.length > 0 ? tagRuns(c, e.sessionId, added) : null]);
    const after = withRun(before, brief);
    let written: Derivation | null = null;
    if (followsFold(before.folded, brief)) {
      // The entry as written, laid over the ledger as read: the session's fields need not wait for the write.
      [, written] = await Promise.all([entryWrites, writeDerived(c, e.sessionId, after, e, opened)]);
    } else {
      // A run folded already, written again (or one started on a clock far behind): the fields are
      // read after the write, which the briefs' read takes as its cue to rebuild them from the ledger.
      await entryWrites;
      await writeDerived(c, e.sessionId, await readDerivation(c, e.sessionId, cause), e, opened);
    }
    if (after.runs.length <= FOLD_AT) return { replaced, written };
    await foldBriefs(c, e.sessionId);
    return { replaced, written: null };
  });
}

/**
 * The entry's `$set`, applied only over an entry of the same session: a run id another session's
 * entry has already is refused (the upsert's insert meets its `_id`), so a run never moves. With
 * `keepTags`, tags are set only on an entry that is new.
 */
async function writeEntry(c: StoreContext, runId: string, doc: Omit<RunDoc, '_id'>, keepTags: boolean): Promise<void> {
  const { tags, ...rest } = doc;
  const update = keepTags ? { $set: rest, $setOnInsert: { tags } } : { $set: doc };
  try {
    await upsertOne(c.runs, { _id: runId, sessionId: doc.sessionId }, update);
  } catch (error) {
    if (!isDuplicateKey(error)) throw error;
    const other = await c.runs.findOne({ _id: runId }, { projection: { sessionId: 1 } });
    throw invalidInput('entry.sessionId', `differs from the session of run ${runId} (${other?.sessionId ?? 'unknown'})`);
  }
}

export async function getRun(c: StoreContext, runId: string): Promise<RunLedgerEntry | null> {
  const rid = v.runId(runId);
  return guard(async () => {
    const d = await c.runs.findOne({ _id: rid });
    return d ? toEntry(d) : null;
  });
}

/**
 * Ledger entries of one step, oldest first. With `attempts`, those of attempts 1 to `attempts`,
 * each read by its run id (the same cost at any store size); without, every entry with the step's key.
 */
export async function runsOfStep(c: StoreContext, stepKey: string, options?: { attempts?: number }): Promise<RunLedgerEntry[]> {
  const key = v.name(stepKey, 'stepKey');
  const o = v.optionalObject(options, 'options');
  const attempts = o.attempts === undefined ? null : v.count(o.attempts, 'attempts', MAX_ATTEMPT_LOOKUPS);
  return guard(async () => {
    const docs =
      attempts === null
        ? await c.runs.find({ stepKey: key }).sort({ startedAt: 1, attempt: 1, _id: 1 }).limit(10_000).toArray()
        : byLedgerOrder(
            (await Promise.all(Array.from({ length: attempts }, (_, i) => c.runs.findOne({ _id: stepRunId(key, i + 1) })))).filter((d) => d !== null),
          );
    return docs.map(toEntry);
  });
}

/** Attempts a step's by-id read covers at most: Temporal's retry policies here stop far below this. */
const MAX_ATTEMPT_LOOKUPS = 1_000;

function byLedgerOrder(docs: RunDoc[]): RunDoc[] {
  return docs.sort((a, b) => a.startedAt.getTime() - b.startedAt.getTime() || a.attempt - b.attempt || (a._id < b._id ? -1 : a._id > b._id ? 1 : 0));
}

/** Ledger entries of these workflows (every step and attempt), oldest first. */
export async function runsOfWorkflows(c: StoreContext, workflowIds: readonly string[]): Promise<RunLedgerEntry[]> {
  if (!Array.isArray(workflowIds)) throw invalidInput('workflowIds', 'must be an array');
  const ids = workflowIds.map((id, i) => v.name(id, `workflowIds[${i}]`));
  if (ids.length === 0) return [];
  return guard(async () => {
    const docs = await c.runs.find({ workflowId: { $in: ids } }).sort({ startedAt: 1, attempt: 1, _id: 1 }).limit(10_000).toArray();
    return docs.map(toEntry);
  });
}

/** Ledger entries matching the query, oldest first, streamed. */
export async function* listRuns(c: StoreContext, query: RunQuery = {}): AsyncGenerator<RunLedgerEntry> {
  const filter: Filter<RunDoc> = {};
  if (query.sessionId !== undefined) filter.sessionId = v.sessionId(query.sessionId);
  const since = query.since === undefined ? undefined : v.date(query.since, 'since');
  const until = query.until === undefined ? undefined : v.date(query.until, 'until');
  if (since || until) filter.startedAt = { ...(since ? { $gte: since } : {}), ...(until ? { $lt: until } : {}) };
  if (query.tags !== undefined) filter.tags = { $in: v.nonEmptyTags(query.tags, 'tags') };
  const cursor = c.runs.find(filter).sort({ startedAt: 1, _id: 1 }).batchSize(1000);
  try {
    for await (const d of cursor) yield toEntry(d);
  } catch (error) {
    throw mapError(error);
  } finally {
    await cursor.close().catch(() => undefined);
  }
}
