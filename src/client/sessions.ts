/**
 * The stored sessions for the client's callers (the CLI, a console): the
 * session store opened with its connection checked, typed by the store's
 * contract, so callers need not know the driver.
 */
import { DEFAULT_MONGO_DB } from '../model/defaults.js';
import { createMongoStore } from '../store/mongo-store.js';
import { type SessionStore } from '../store/types.js';

export type { SessionStore } from '../store/types.js';

export interface OpenSessionStoreOptions {
  /** MongoDB connection string. */
  uri: string;
  /** Database; default `claude_temporal`. */
  dbName?: string;
  /** Give up finding the server after this long; default 5000 ms. */
  timeoutMs?: number;
}

/** Open the session store and check its connection (a ping: the worker ensures indexes at start-up); it throws when the server does not answer. */
export async function openSessionStore(options: OpenSessionStoreOptions): Promise<SessionStore> {
  const store = createMongoStore({
    uri: options.uri,
    dbName: options.dbName ?? DEFAULT_MONGO_DB,
    ...(options.timeoutMs !== undefined ? { serverSelectionTimeoutMS: options.timeoutMs } : {}),
  });
  try {
    await store.ping();
  } catch (err) {
    await store.close().catch(() => {});
    throw err;
  }
  return store;
}
