/** GridFS files by hand: the buckets' collections, deletion in a crash-safe order, reads into memory. */
import { type Binary, type Collection, type Filter } from 'mongodb';
import { type StoreContext } from './context.js';
import { type FileId, type GridFileDoc } from './documents.js';

export function files(c: Pick<StoreContext, 'db'>, bucket: string): Collection<GridFileDoc> {
  return c.db.collection<GridFileDoc>(`${bucket}.files`);
}

export interface ChunkDoc {
  _id: FileId;
  files_id: FileId;
  n: number;
  data: Binary;
}

export function chunks(c: Pick<StoreContext, 'db'>, bucket: string): Collection<ChunkDoc> {
  return c.db.collection<ChunkDoc>(`${bucket}.chunks`);
}

/** Deletes GridFS files: chunks first, the file document last, so an interrupted delete leaves a findable file. */
export async function deleteFiles(c: Pick<StoreContext, 'db'>, bucket: string, ids: FileId[]): Promise<number> {
  if (ids.length === 0) return 0;
  await chunks(c, bucket).deleteMany({ files_id: { $in: ids } });
  const r = await files(c, bucket).deleteMany({ _id: { $in: ids } });
  return r.deletedCount;
}

export async function fileIds(c: Pick<StoreContext, 'db'>, bucket: string, filter: Filter<GridFileDoc>): Promise<FileId[]> {
  const docs = await files(c, bucket).find(filter, { projection: { _id: 1 } }).toArray();
  return docs.map((d) => d._id);
}

export async function readStream(stream: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of stream) parts.push(chunk);
  return Buffer.concat(parts);
}
