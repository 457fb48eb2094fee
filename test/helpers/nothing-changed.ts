/**
 * "Nothing written anywhere": document counts of every collection of a test's
 * database (GridFS included) and the workflows of its task queue, taken before
 * and after a refused call.
 */
import { type Client } from '@temporalio/client';
import { type MongoClient } from 'mongodb';

export interface WorldCounts {
  collections: Record<string, number>;
  workflows: number;
}

export async function worldCounts(mongo: MongoClient, dbName: string, temporal: Client, taskQueue: string): Promise<WorldCounts> {
  const db = mongo.db(dbName);
  const names = (await db.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name).sort();
  const counts = await Promise.all(names.map((n) => db.collection(n).countDocuments()));
  let workflows = 0;
  for await (const _ of temporal.workflow.list({ query: `TaskQueue = '${taskQueue}'` })) workflows++;
  return { collections: Object.fromEntries(names.map((n, i) => [n, counts[i]!])), workflows };
}
