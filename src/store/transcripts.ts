/** Transcripts in GridFS: one current file per session. */
import { type ObjectId } from 'mongodb';
import { type StoreContext } from './context.js';
import { COLLECTIONS, type FileId } from './documents.js';
import { guard } from './errors.js';
import { deleteFiles, fileIds, files, readStream } from './gridfs.js';
import * as v from '../model/validation/index.js';

export async function saveTranscript(c: StoreContext, sessionId: string, runId: string, data: Uint8Array): Promise<void> {
  const sid = v.sessionId(sessionId);
  const rid = v.runId(runId);
  const bytes = v.bytes(data, 'data');
  await guard(async () => {
    // Upload the new file, then delete the older ones: there is always a current transcript,
    // and a retry only uploads again and deletes what it superseded.
    const id = await new Promise<FileId>((resolve, reject) => {
      const upload = c.transcripts.openUploadStream(`${sid}.jsonl`, { metadata: { sessionId: sid, runId: rid } });
      upload.once('finish', () => resolve(upload.id));
      upload.once('error', reject);
      upload.end(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    });
    const older = await fileIds(c, COLLECTIONS.transcripts, { 'metadata.sessionId': sid, _id: { $ne: id } });
    await deleteFiles(c, COLLECTIONS.transcripts, older);
  });
}

export async function loadTranscript(c: StoreContext, sessionId: string): Promise<Uint8Array | null> {
  const sid = v.sessionId(sessionId);
  return guard(async () => {
    const file = await files(c, COLLECTIONS.transcripts).find({ 'metadata.sessionId': sid }).sort({ uploadDate: -1, _id: -1 }).limit(1).next();
    if (!file) return null;
    const buf = await readStream(c.transcripts.openDownloadStream(file._id as ObjectId));
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  });
}
