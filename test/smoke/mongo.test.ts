import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { MongoClient } from 'mongodb';
import { expect, inject, test } from 'vitest';
import { startMongo } from '../../src/stack/stack.js';

test('the Mongo wire server answers the mongodb driver', async () => {
  const client = await MongoClient.connect(inject('mongoUri'));
  try {
    const coll = client.db(`smoke_${Date.now()}`).collection<{ _id: string; n: number }>('things');
    await coll.insertOne({ _id: 'a', n: 1 });
    expect(await coll.findOne({ _id: 'a' })).toEqual({ _id: 'a', n: 1 });
  } finally {
    await client.close();
  }
});

test.skipIf(Boolean(process.env.MONGODB_URI))('a document survives a restart of the local Mongo wire server', async () => {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'ct-mongo-restart-'));
  try {
    const first = await startMongo({ dataDir });
    let client = await MongoClient.connect(first.uri);
    await client.db('smoke').collection('persist').insertOne({ _id: 'kept' as never, value: 42 });
    await client.close();
    await first.service.stop();
    expect(first.service.exited).toBe(true);

    const second = await startMongo({ dataDir });
    client = await MongoClient.connect(second.uri);
    try {
      expect(await client.db('smoke').collection('persist').findOne({ _id: 'kept' as never })).toEqual({ _id: 'kept', value: 42 });
    } finally {
      await client.close();
      await second.service.stop();
    }
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});
