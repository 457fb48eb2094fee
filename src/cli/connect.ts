/**
 * Connections the commands open: a Temporal client and the session store,
 * both failing fast (exit 4) when their server does not answer.
 */
import { createClient, type ClaudeTemporalClient } from '../client/index.js';
import { openSessionStore, type SessionStore } from '../client/sessions.js';
import { type ResolvedConfig, requireValue } from './config.js';
import { unavailable } from './exit-codes.js';

/** How long a command waits for a server before it gives up with exit 4. */
export const CONNECT_TIMEOUT_MS = 3_000;

export async function connectTemporal(config: ResolvedConfig): Promise<ClaudeTemporalClient> {
  const address = requireValue(config.values.temporalAddress, 'Temporal address');
  try {
    return await createClient({ address, namespace: config.values.temporalNamespace ?? 'default', taskQueue: config.values.taskQueue, connectTimeoutMs: CONNECT_TIMEOUT_MS });
  } catch (err) {
    throw unavailable(`Temporal server unavailable at ${address}: ${(err as Error).message}`, err);
  }
}

/** The store, with its connection checked (a ping), so later calls do not hang. */
export async function openStore(config: ResolvedConfig): Promise<SessionStore> {
  const uri = requireValue(config.values.mongodbUri, 'MongoDB URI');
  try {
    return await openSessionStore({ uri, dbName: config.values.mongodbDb, timeoutMs: CONNECT_TIMEOUT_MS });
  } catch (err) {
    const e = err as { type?: string; message?: string };
    if (e.type === 'StoreUnavailable' || /Mongo/.test(String((err as Error).name))) {
      throw unavailable(`MongoDB unavailable at ${redact(uri)}: ${e.message ?? String(err)}`, err);
    }
    throw err;
  }
}

/** A URI without its password, for messages. */
export function redact(uri: string): string {
  return uri.replace(/\/\/([^:/@]+):[^@/]*@/, '//$1:***@');
}
