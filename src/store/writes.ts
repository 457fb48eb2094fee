/** Small helpers of the retention modules: string-keyed documents, and a document without its id. */
import { type Collection, type Document, type Filter, type UpdateFilter } from 'mongodb';
import { upsertOne } from './context.js';

/** Our collections key documents by string ids. */
export type IdDoc = Document & { _id: string };

/** The store's idempotent upsert by `_id`, for the untyped retention collections. */
export function upsert<T extends IdDoc>(coll: Collection<T>, filter: Filter<T>, update: Document): Promise<void> {
  return upsertOne(coll, filter, update as UpdateFilter<T>);
}

export function withoutId(doc: Document): Document {
  const { _id, ...rest } = doc;
  void _id;
  return rest;
}
