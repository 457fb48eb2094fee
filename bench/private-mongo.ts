/**
 * A private Mongo wire server for one bench run (FerretDB on a temp data dir), or the
 * server `MONGODB_URI` names, which the bench then leaves running.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startMongo } from '../src/stack/stack.js';

export async function startPrivateMongo(name: string): Promise<{ uri: string; stop: () => Promise<void> }> {
  if (process.env.MONGODB_URI) return { uri: process.env.MONGODB_URI, stop: async () => {} };
  const dir = mkdtempSync(join(tmpdir(), `bench-${name}-`));
  const { uri, service } = await startMongo({ dataDir: dir });
  return {
    uri,
    stop: async () => {
      await service.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
