/**
 * What every command gets: its output streams, the resolved configuration and
 * lazily opened connections, closed once the command is done.
 */
import { type Command } from 'commander';
// `import type` (erased): the client and the driver load only when a command connects.
import type { ClaudeTemporalClient } from '../client/index.js';
import type { SessionStore } from '../client/sessions.js';
import { resolveConfig, type ConfigValues, type ResolvedConfig, withLocalStack } from './config.js';
import { type Io } from './output.js';

/** Options every command accepts (declared on the program). */
export interface GlobalFlags extends ConfigValues {
  config?: string;
  json?: boolean;
  namespace?: string;
}

export interface Context {
  io: Io;
  config: ResolvedConfig;
  temporal(): Promise<ClaudeTemporalClient>;
  store(): Promise<SessionStore>;
  close(): Promise<void>;
}

/** Wraps a command's handler: it gets the context and commander's arguments, and resolves to the exit code. */
export type Action = <A extends unknown[]>(fn: (ctx: Context, ...args: A) => Promise<number>) => (...args: unknown[]) => Promise<void>;

/** A command file's entry: declares its commands and their flags on the program. */
export type RegisterCommands = (program: Command, action: Action) => void;

export function createContext(flags: GlobalFlags, streams: { stdout: NodeJS.WriteStream; stderr: NodeJS.WriteStream; env: NodeJS.ProcessEnv }): Context {
  const io: Io = { ...streams, json: Boolean(flags.json) };
  let config = resolveConfig({ ...flags, temporalNamespace: flags.temporalNamespace ?? flags.namespace }, streams.env);
  let client: ClaudeTemporalClient | undefined;
  let store: SessionStore | undefined;
  const ctx: Context = {
    io,
    get config() {
      return config;
    },
    async temporal() {
      if (!client) {
        config = await withLocalStack(config, { temporal: true }, streams.env, streams.stderr);
        client = await (await import('./connect.js')).connectTemporal(config);
      }
      return client;
    },
    async store() {
      if (!store) {
        config = await withLocalStack(config, { mongo: true }, streams.env, streams.stderr);
        store = await (await import('./connect.js')).openStore(config);
      }
      return store;
    },
    async close() {
      await Promise.allSettled([client?.close(), store?.close()]);
    },
  };
  return ctx;
}
