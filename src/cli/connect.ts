/**
 * Connections the commands open: a Temporal client and the session store,
 * both failing fast (exit 4) when their server does not answer.
 */
import { createClient, type ClaudeTemporalClient } from '../client/index.js';
import { openSessionStore, type SessionStore } from '../client/sessions.js';
import { invalidInput } from '../model/failures.js';
import { mongoUri, temporalAddress } from '../model/validation/user-input.js';
import { CONFIG_KEYS, type ConfigKey, type ResolvedConfig, requireValue } from './config.js';
import { unavailable } from './exit-codes.js';

/** How long a command waits for a server before it gives up with exit 4. */
export const CONNECT_TIMEOUT_MS = 3_000;

/** A setting as its user gave it: `--mongodb-uri`, `MONGODB_URI` or `config mongodbUri`. */
export function settingName(config: ResolvedConfig, key: ConfigKey): string {
  const source = config.sources[key];
  if (source === 'flag') return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
  if (source === 'file') return `config ${key}`;
  return CONFIG_KEYS[key];
}

export async function connectTemporal(config: ResolvedConfig): Promise<ClaudeTemporalClient> {
  const address = temporalAddress(requireValue(config.values.temporalAddress, 'Temporal address'), settingName(config, 'temporalAddress'));
  try {
    return await createClient({ address, namespace: config.values.temporalNamespace ?? 'default', taskQueue: config.values.taskQueue, connectTimeoutMs: CONNECT_TIMEOUT_MS });
  } catch (err) {
    if ((err as Error).name === 'NotTemporalError') throw unavailable((err as Error).message, err);
    throw unavailable(`Temporal server unavailable at ${address}: ${(err as Error).message}`, err);
  }
}

/** The store, with its connection checked (a ping), so later calls do not hang. */
export async function openStore(config: ResolvedConfig): Promise<SessionStore> {
  const setting = settingName(config, 'mongodbUri');
  const uri = mongoUri(requireValue(config.values.mongodbUri, 'MongoDB URI'), setting);
  // The driver's own parse errors (unknown options and the like) are bad settings too.
  const badSetting = (err: unknown) => (/^Mongo(Parse|InvalidArgument|API)Error$/.test(String((err as Error).name)) ? invalidInput(setting, `${(err as Error).message}: ${redact(uri)}`) : err);
  try {
    return await openSessionStore({ uri, dbName: config.values.mongodbDb, timeoutMs: CONNECT_TIMEOUT_MS });
  } catch (err) {
    if (badSetting(err) !== err) throw badSetting(err);
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
