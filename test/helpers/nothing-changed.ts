/**
 * "Nothing written anywhere": document counts of every collection of a test's
 * database (GridFS included) and the workflows of its task queue, taken before
 * and after a refused call.
 */
import { Client, Connection } from '@temporalio/client';
import { MongoClient } from 'mongodb';
import { inject } from 'vitest';

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

/** Connections to the test stack's store and Temporal, for tests that count what a refused call left behind. */
export interface World {
  mongo: MongoClient;
  temporal: Client;
  counts(dbName: string, taskQueue: string): Promise<WorldCounts>;
  close(): Promise<void>;
}

export async function openWorld(): Promise<World> {
  const mongo = await MongoClient.connect(inject('mongoUri'));
  const connection = await Connection.connect({ address: inject('temporalAddress') });
  const temporal = new Client({ connection });
  return {
    mongo,
    temporal,
    counts: (dbName, taskQueue) => worldCounts(mongo, dbName, temporal, taskQueue),
    close: async () => {
      await mongo.close();
      await connection.close();
    },
  };
}
