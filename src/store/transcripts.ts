/**
 * Transcripts in GridFS, one current file per session, reached by key: a pointer document per
 * session (`transcript_files`, `_id` = the session id) names its current file and every file not
 * yet pruned (a file is named once its chunks and document are written), and chunk ids are
 * `<file id>:<n>`. Saving, loading and pruning are then lookups by `_id`, which FerretDB v1 serves
 * from an index (it scans for anything else), so they cost the same at any store size. The files
 * stay ordinary GridFS files (`files_id`, `n`, `metadata.encoding: 'gzip'`, since JSONL shrinks
 * about fourfold; a save compresses only what was appended, see `transcript-tails.ts`): the cleanup
 * finds them as before. Sessions saved before pointers existed are read the old way (plain files
 * found by session id).
 */
import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { gunzip as gunzipCb } from 'node:zlib';
import { Binary, ObjectId } from 'mongodb';
import { upsertReturning, type StoreContext } from './context.js';
import { COLLECTIONS, type GridFileDoc, type TranscriptFileRef } from './documents.js';
import { guard } from './errors.js';
import { chunks, files, readStream } from './gridfs.js';
import * as v from '../model/validation/index.js';

/** GridFS's default chunk size. */
const CHUNK_BYTES = 255 * 1024;
const gunzip = promisify(gunzipCb);

export async function saveTranscript(c: StoreContext, sessionId: string, runId: string, data: Uint8Array, options?: { prune?: boolean }): Promise<void> {
  const sid = v.sessionId(sessionId);
  const rid = v.runId(runId);
  const bytes = v.bytes(data, 'data');
  const o = v.optionalObject(options, 'options');
  const prune = o.prune === undefined ? true : v.bool(o.prune, 'prune');
  await guard(async () => {
    const replaced = await nameCurrent(c, sid, await writeTranscriptFile(c, sid, rid, bytes));
    if (prune) await pruneFiles(c, sid, replaced);
  });
}

/**
 * Writes a transcript as a new file that nothing names yet (a write cut off here leaves a file no
 * pointer names: the session's deletion takes it). Its digest is of the transcript itself, as a
 * machine's copy is compared with it.
 */
export async function writeTranscriptFile(c: StoreContext, sessionId: string, runId: string, data: Uint8Array): Promise<TranscriptFileRef> {
  const plain = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const { gz, sha256 } = await c.transcriptTails.compress(sessionId, plain);
  const ref: TranscriptFileRef = { fileId: new ObjectId(), length: gz.length, chunkSize: CHUNK_BYTES, sha256 };
  await writeFile(c, sessionId, runId, gz, ref);
  return ref;
}

/** Names a whole file the session's current transcript; returns the files it replaces, still listed until `pruneFiles` deletes them. */
export async function nameCurrent(c: StoreContext, sessionId: string, ref: TranscriptFileRef): Promise<TranscriptFileRef[]> {
  const pointer = await upsertReturning(c.transcriptFiles, { _id: sessionId }, { $set: { current: ref }, $push: { files: ref } });
  return (pointer?.files ?? []).filter((f) => !ref.fileId.equals(f.fileId));
}

/** Deletes every transcript of the session but the current one; returns how many went. */
export async function pruneTranscripts(c: StoreContext, sessionId: string): Promise<number> {
  const sid = v.sessionId(sessionId);
  return guard(() => pruneFiles(c, sid));
}

export async function loadTranscript(c: StoreContext, sessionId: string): Promise<Uint8Array | null> {
  const sid = v.sessionId(sessionId);
  return guard(async () => {
    const pointer = await c.transcriptFiles.findOne({ _id: sid });
    const buf = pointer ? await gunzip(await readFile(c, pointer.current)) : await readUnkeyed(c, sid);
    return buf ? new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength) : null;
  });
}

/** SHA-256 (hex) of the session's current transcript; null when there is none or it was stored without one. */
export async function transcriptDigest(c: StoreContext, sessionId: string): Promise<string | null> {
  const sid = v.sessionId(sessionId);
  return guard(async () => (await c.transcriptFiles.findOne({ _id: sid }, { projection: { current: 1 } }))?.current.sha256 ?? null);
}

/** The digest `transcriptDigest` answers: SHA-256 of the bytes, hex. */
export function transcriptDigestOf(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** The chunks and the file document at once: only the pointer says a file is whole. */
async function writeFile(c: StoreContext, sessionId: string, runId: string, data: Buffer, ref: TranscriptFileRef): Promise<void> {
  const parts = Array.from({ length: Math.ceil(data.length / ref.chunkSize) }, (_, n) => ({
    _id: chunkId(ref, n),
    files_id: ref.fileId,
    n,
    data: new Binary(data.subarray(n * ref.chunkSize, (n + 1) * ref.chunkSize)),
  }));
  const doc: GridFileDoc & { chunkSize: number; filename: string } = {
    _id: ref.fileId,
    length: ref.length,
    chunkSize: ref.chunkSize,
    uploadDate: c.clock(),
    filename: `${sessionId}.jsonl`,
    metadata: { sessionId, runId, sha256: ref.sha256, encoding: 'gzip' },
  };
  await Promise.all([parts.length > 0 ? chunks(c, COLLECTIONS.transcripts).insertMany(parts) : null, files(c, COLLECTIONS.transcripts).insertOne(doc)]);
}

async function readFile(c: StoreContext, ref: TranscriptFileRef): Promise<Buffer> {
  const count = Math.ceil(ref.length / ref.chunkSize);
  const parts = await Promise.all(Array.from({ length: count }, (_, n) => chunks(c, COLLECTIONS.transcripts).findOne({ _id: chunkId(ref, n) })));
  const buf = Buffer.concat(
    parts.map((p, n) => {
      if (!p) throw new Error(`Transcript file ${ref.fileId.toHexString()} lacks chunk ${n}`);
      return Buffer.from(p.data.read(0, p.data.length()));
    }),
  );
  if (buf.length !== ref.length) throw new Error(`Transcript file ${ref.fileId.toHexString()} has ${buf.length} bytes, not ${ref.length}`);
  return buf;
}

/**
 * Deletes the files the pointer lists but does not name current (`stale`: those, as the caller
 * just read them). A file stays listed until all of it is gone, so an interrupted prune is finished
 * by the next one, and the current file is never touched: pruning is safe from any writer at any time.
 */
export async function pruneFiles(c: StoreContext, sessionId: string, stale?: readonly TranscriptFileRef[]): Promise<number> {
  if (!stale) {
    const pointer = await c.transcriptFiles.findOne({ _id: sessionId });
    if (!pointer) return 0;
    stale = pointer.files.filter((f) => !pointer.current.fileId.equals(f.fileId));
  }
  if (stale.length === 0) return 0;
  await Promise.all(
    stale.flatMap((f) => [
      files(c, COLLECTIONS.transcripts).deleteOne({ _id: f.fileId }),
      ...Array.from({ length: Math.ceil(f.length / f.chunkSize) }, (_, n) => chunks(c, COLLECTIONS.transcripts).deleteOne({ _id: chunkId(f, n) })),
    ]),
  );
  await c.transcriptFiles.updateOne({ _id: sessionId }, { $pullAll: { files: [...stale] } });
  return stale.length;
}

/** A session saved before pointers: its newest file, read by GridFS. */
async function readUnkeyed(c: StoreContext, sessionId: string): Promise<Buffer | null> {
  const file = await files(c, COLLECTIONS.transcripts).find({ 'metadata.sessionId': sessionId }).sort({ uploadDate: -1, _id: -1 }).limit(1).next();
  return file ? readStream(c.transcripts.openDownloadStream(file._id as ObjectId)) : null;
}

function chunkId(ref: TranscriptFileRef, n: number): string {
  return `${ref.fileId.toHexString()}:${n}`;
}
