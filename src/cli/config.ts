/**
 * Configuration of the CLI: flags over environment over a config file, and
 * the embedded local stack (`stack up`, its state file in `stack/state.ts`)
 * when no server is configured.
 */
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readStackState, stackRunning, type StackState } from '../stack/state.js';
import { CliError, EXIT, unavailable, usageError } from './exit-codes.js';

/** Keys of the config file, each the camelCase of its environment variable. */
export const CONFIG_KEYS = {
  temporalAddress: 'TEMPORAL_ADDRESS',
  temporalNamespace: 'TEMPORAL_NAMESPACE',
  taskQueue: 'TASK_QUEUE',
  mongodbUri: 'MONGODB_URI',
  mongodbDb: 'MONGODB_DB',
  claudePath: 'CLAUDE_PATH',
} as const;
export type ConfigKey = keyof typeof CONFIG_KEYS;
export type ConfigValues = Partial<Record<ConfigKey, string>>;

export type ConfigSource = 'flag' | 'env' | 'file' | 'stack' | 'default';

export interface ResolvedConfig {
  values: ConfigValues;
  sources: Partial<Record<ConfigKey, ConfigSource>>;
  /** The config file read, if any. */
  file: string | null;
  /** The local stack the addresses came from, when they did. */
  stack: StackState | null;
}

function readConfigFile(file: string, explicit: boolean): ConfigValues {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if (!explicit && (err as { code?: string }).code === 'ENOENT') return {};
    throw usageError('config', `cannot read ${file}: ${(err as Error).message}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw usageError('config', `${file} is not JSON: ${(err as Error).message}`);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw usageError('config', `${file} must hold a JSON object`);
  const out: ConfigValues = {};
  for (const [key, value] of Object.entries(data)) {
    if (!(key in CONFIG_KEYS)) throw usageError(`config ${key}`, `is not a known key (known: ${Object.keys(CONFIG_KEYS).join(', ')})`);
    if (typeof value !== 'string' || value === '') throw usageError(`config ${key}`, 'must be a non-empty string');
    out[key as ConfigKey] = value;
  }
  return out;
}

/** The config file: `--config`, `$CLAUDE_TEMPORAL_CONFIG`, else `~/.config/claude-temporal/config.json` when it exists. */
export function configFileOf(flag: string | undefined, env: NodeJS.ProcessEnv): { file: string; explicit: boolean } {
  if (flag) return { file: path.resolve(flag), explicit: true };
  if (env.CLAUDE_TEMPORAL_CONFIG) return { file: path.resolve(env.CLAUDE_TEMPORAL_CONFIG), explicit: true };
  const home = env.HOME || os.homedir();
  return { file: path.join(home, '.config', 'claude-temporal', 'config.json'), explicit: false };
}

/** Flags > environment > config file; gaps stay empty (the local stack fills them on demand). */
export function resolveConfig(flags: ConfigValues & { config?: string }, env: NodeJS.ProcessEnv): ResolvedConfig {
  const { file, explicit } = configFileOf(flags.config, env);
  const fromFile = readConfigFile(file, explicit);
  const values: ConfigValues = {};
  const sources: ResolvedConfig['sources'] = {};
  for (const [key, envName] of Object.entries(CONFIG_KEYS) as [ConfigKey, string][]) {
    const flag = flags[key];
    if (flag) [values[key], sources[key]] = [flag, 'flag'];
    else if (env[envName]) [values[key], sources[key]] = [env[envName], 'env'];
    else if (fromFile[key]) [values[key], sources[key]] = [fromFile[key], 'file'];
  }
  return { values, sources, file: existsSync(file) ? file : null, stack: null };
}

const START_HINT = 'run `claude-temporal stack up` to start the local stack, or set TEMPORAL_ADDRESS and MONGODB_URI (or a config file)';

/**
 * Fill what a command needs and nobody configured from the running local stack,
 * telling the user on stderr; fails with exit 4 when there is none.
 */
export async function withLocalStack(
  config: ResolvedConfig,
  needs: { temporal?: boolean; mongo?: boolean },
  env: NodeJS.ProcessEnv,
  stderr: NodeJS.WritableStream,
): Promise<ResolvedConfig> {
  const missing = (needs.temporal && !config.values.temporalAddress) || (needs.mongo && !config.values.mongodbUri);
  if (!missing) return config;
  const state = await readStackState(env);
  if (!state || !stackRunning(state)) {
    const what = [needs.temporal && !config.values.temporalAddress ? 'Temporal address' : null, needs.mongo && !config.values.mongodbUri ? 'MongoDB URI' : null]
      .filter(Boolean)
      .join(' and ');
    throw unavailable(`No ${what} configured and no local stack is running: ${START_HINT}`);
  }
  const values = { ...config.values };
  const sources = { ...config.sources };
  if (needs.temporal && !values.temporalAddress) {
    values.temporalAddress = state.temporalAddress;
    values.temporalNamespace ??= state.temporalNamespace;
    sources.temporalAddress = 'stack';
  }
  if (needs.mongo && !values.mongodbUri) {
    values.mongodbUri = state.mongoUri;
    sources.mongodbUri = 'stack';
  }
  if (!config.stack) stderr.write(`using the local stack at ${state.temporalAddress}, ${state.mongoUri} (${state.stateFile})\n`);
  return { ...config, values, sources, stack: state };
}

export function requireValue(value: string | undefined, what: string): string {
  if (!value) throw new CliError(`No ${what} configured: ${START_HINT}`, EXIT.unavailable);
  return value;
}
