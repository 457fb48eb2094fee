/**
 * Session archives: one JSONL file per deleted session, in a GridFS bucket or
 * a directory. Each line is MongoDB Extended JSON (relaxed) of one stored
 * document, so dates and ids come back exactly: first the session, then its
 * ledger entries, run starts and messages (the CLI's line in `raw`), and last
 * its transcript (base64). `restoreSession` reads it back.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BSON, GridFSBucket, type Db, type Document } from 'mongodb';
import { archiveRef, invalidInput, type ArchiveLocation, type RestoreResult } from '../model/index.js';
import type { RetentionDeps } from './retention.js';
import { upsert, withoutId, type IdDoc } from './writes.js';

/** Format of the first line, so a later layout can still read older archives. */
export const ARCHIVE_FORMAT = 'claude-temporal-session-archive/1';

export type ArchiveLine =
  | { kind: 'header'; format: string; sessionId: string; archivedAt: Date; logId: string }
  | { kind: 'session'; doc: Document }
  | { kind: 'run'; doc: Document }
  | { kind: 'runStart'; doc: Document }
  | { kind: 'message'; runId: string; seq: number; raw: string }
  | { kind: 'transcript'; runId: string; data: string };

export function encodeLines(lines: Iterable<ArchiveLine>): Buffer {
  const parts: string[] = [];
  for (const l of lines) parts.push(BSON.EJSON.stringify(l, { relaxed: true }));
  return Buffer.from(parts.join('\n') + '\n', 'utf8');
}

export function decodeLines(data: Buffer, ref: string): ArchiveLine[] {
  const lines = data.toString('utf8').split('\n').filter((l) => l.trim() !== '');
  const out: ArchiveLine[] = [];
  for (const [i, l] of lines.entries()) {
    try {
      out.push(BSON.EJSON.parse(l, { relaxed: true }) as ArchiveLine);
    } catch {
      throw invalidInput('archive-ref', `line ${i + 1} of ${ref} is not JSON`);
    }
  }
  const head = out[0];
  if (!head || head.kind !== 'header' || head.format !== ARCHIVE_FORMAT) throw invalidInput('archive-ref', `${ref} is not a session archive`);
  if (!out.some((l) => l.kind === 'session')) throw invalidInput('archive-ref', `${ref} holds no session`);
  return out;
}

/** Writes one session's archive; returns its reference (`gridfs:<bucket>/<file>` or a file path). */
export async function writeArchive(db: Db, where: ArchiveLocation, fileName: string, data: Buffer): Promise<string> {
  if (where.kind === 'dir') {
    await mkdir(where.path, { recursive: true });
    const file = join(where.path, fileName);
    // Write aside, then rename: a reader never sees half an archive.
    await writeFile(`${file}.partial`, data);
    await rename(`${file}.partial`, file);
    return file;
  }
  const bucket = new GridFSBucket(db, { bucketName: where.bucket });
  // Same name again (a retried cleanup): the older copy goes once the new one is complete.
  const older = await db.collection(`${where.bucket}.files`).find({ filename: fileName }, { projection: { _id: 1 } }).toArray();
  await new Promise<void>((resolve, reject) => {
    const upload = bucket.openUploadStream(fileName, { metadata: { archive: ARCHIVE_FORMAT } });
    upload.once('finish', () => resolve());
    upload.once('error', reject);
    upload.end(data);
  });
  for (const o of older) await bucket.delete(o._id).catch(() => undefined);
  return `gridfs:${where.bucket}/${fileName}`;
}

/** Reads an archive by reference. */
export async function readArchive(db: Db, ref: string): Promise<Buffer> {
  const r = archiveRef(ref);
  if (r.kind === 'gridfs') {
    const file = await db.collection(`${r.bucket}.files`).find({ filename: r.file }).sort({ uploadDate: -1 }).limit(1).next();
    if (!file) throw invalidInput('archive-ref', `no archive ${r.file} in bucket ${r.bucket}`);
    const parts: Buffer[] = [];
    for await (const chunk of new GridFSBucket(db, { bucketName: r.bucket }).openDownloadStream(file._id)) parts.push(chunk as Buffer);
    return Buffer.concat(parts);
  }
  try {
    return await readFile(r.path);
  } catch (err) {
    throw invalidInput('archive-ref', `cannot read ${r.path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}

/** Writes one session (document, ledger entries, run starts, messages, current transcript) to an archive; returns its reference. */
export async function archiveSession(deps: RetentionDeps, sessionId: string, logId: string, where: ArchiveLocation): Promise<string> {
  const { db, store } = deps;
  const lines: ArchiveLine[] = [{ kind: 'header', format: ARCHIVE_FORMAT, sessionId, archivedAt: deps.now(), logId }];
  const session = await db.collection<IdDoc>('sessions').findOne({ _id: sessionId });
  if (session) lines.push({ kind: 'session', doc: session });
  for await (const doc of db.collection('runs').find({ sessionId }).sort({ startedAt: 1, _id: 1 })) lines.push({ kind: 'run', doc });
  for await (const doc of db.collection('run_starts').find({ sessionId })) lines.push({ kind: 'runStart', doc });
  const loaded = await store.loadSession(sessionId);
  if (loaded.found) for await (const m of loaded.session.messages()) lines.push({ kind: 'message', runId: m.runId, seq: m.seq, raw: m.raw });
  const file = await db.collection('transcripts.files').find({ 'metadata.sessionId': sessionId }).sort({ uploadDate: -1, _id: -1 }).limit(1).next();
  const transcript = file ? await store.loadTranscript(sessionId) : null;
  if (file && transcript) lines.push({ kind: 'transcript', runId: String((file.metadata as { runId?: string })?.runId ?? ''), data: Buffer.from(transcript).toString('base64') });
  return writeArchive(db, where, `${sessionId}.${logId}.jsonl`, encodeLines(lines));
}

/**
 * Writes everything but the session document first (each write idempotent), the document last,
 * so an interrupted restore is finished by running it again. Ledger entries already present are
 * left as they are, and entries from before a ledger purge are not brought back.
 */
export async function restoreArchive(deps: RetentionDeps, ref: string, purgedBefore: Date | null): Promise<RestoreResult> {
  const { db, store } = deps;
  const lines = decodeLines(await readArchive(db, ref), ref);
  const session = lines.find((l): l is Extract<ArchiveLine, { kind: 'session' }> => l.kind === 'session')!.doc;
  const sessionId = String(session._id);
  const sessions = db.collection<IdDoc>('sessions');
  const result: RestoreResult = { sessionId, restored: false, messages: 0, runs: 0, transcript: false };
  if (await sessions.findOne({ _id: sessionId }, { projection: { _id: 1 } })) return result;
  const byRun = new Map<string, { seq: number; raw: string }[]>();
  for (const l of lines) {
    if (l.kind === 'runStart') await upsert(db.collection<IdDoc>('run_starts'), { _id: String(l.doc._id) }, { $setOnInsert: withoutId(l.doc) });
    if (l.kind === 'run' && !(purgedBefore && l.doc.startedAt < purgedBefore)) {
      await upsert(db.collection<IdDoc>('runs'), { _id: String(l.doc._id) }, { $setOnInsert: withoutId(l.doc) });
      result.runs += 1;
    }
    if (l.kind === 'message') {
      const list = byRun.get(l.runId) ?? [];
      list.push({ seq: l.seq, raw: l.raw });
      byRun.set(l.runId, list);
    }
  }
  // Through appendMessages: the run starts above give the original order, oversize lines go to GridFS.
  for (const [runId, msgs] of byRun) {
    for (let i = 0; i < msgs.length; i += 500) await store.appendMessages(sessionId, runId, msgs.slice(i, i + 500));
    result.messages += msgs.length;
  }
  const t = lines.find((l): l is Extract<ArchiveLine, { kind: 'transcript' }> => l.kind === 'transcript');
  if (t) {
    await store.saveTranscript(sessionId, t.runId || `restored:${sessionId}`, new Uint8Array(Buffer.from(t.data, 'base64')));
    result.transcript = true;
  }
  await deps.rebuildBriefs([sessionId]);
  // Restored as just used, so the next cleanup does not take it straight back.
  await upsert(sessions, { _id: sessionId }, { $setOnInsert: { ...withoutId(session), updatedAt: deps.now() } });
  await deps.advanceScope(sessionId);
  result.restored = true;
  return result;
}
