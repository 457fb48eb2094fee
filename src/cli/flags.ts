/**
 * Parsers of flag and argument values shared by the commands. Each checks its
 * value before anything connects and names the flag in its error (exit 2).
 */
import path from 'node:path';
import { type Command, Option } from 'commander';
import { archiveLocation, archiveRef } from '../model/retention.js';
import { dayToIso } from '../model/formats.js';
import { cost as validCost, cursor as validCursor, date as validDate, limit as validLimit, sessionId as validSessionId, tag as validTag } from '../model/validation/fields.js';
import { MAX_MAX_AGE_DAYS } from '../model/defaults.js';
import { usageError } from './exit-codes.js';
import { truncate } from './format.js';

/** Commander's collector of a repeatable flag. */
export const collect = (value: string, previous: string[] = []) => [...previous, value];

export function positiveInt(value: string, field: string): number {
  const n = Number(value);
  if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(n) || n < 1) throw usageError(field, `must be a positive integer, got ${value}`);
  return n;
}

export function positiveNumber(value: string, field: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0) throw usageError(field, `must be a number greater than 0, got ${value}`);
  return n;
}

/** A session id argument: a UUID, checked before anything connects. */
export function sessionIdArg(value: string, field = 'session-id'): string {
  try {
    return validSessionId(value, field);
  } catch {
    throw usageError(field, `must be a UUID, got ${JSON.stringify(truncate(value, 60))}`);
  }
}

export function tagsArg(values: string[] | undefined, field = '--tag'): string[] {
  return (values ?? []).map((t, i) => {
    try {
      return validTag(t, field);
    } catch (err) {
      throw usageError(values!.length > 1 ? `${field}[${i}]` : field, (err as Error).message.replace(/^Invalid [^:]+: /, ''));
    }
  });
}

/** Rethrow a store validation error under the flag's name. */
function asFlag<T>(flag: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if ((err as { type?: string }).type === 'InvalidInput') throw usageError(flag, (err as Error).message.replace(/^Invalid [^:]+: /, ''));
    throw err;
  }
}

/** `--archive <target>`: gridfs, gridfs:<bucket> or an absolute directory. */
export function archiveFlag(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  asFlag('--archive', () => archiveLocation(value, '--archive'));
  return value;
}

/** An archive reference argument: gridfs:<bucket>/<file> or an absolute file path. */
export function archiveRefArg(value: string): string {
  asFlag('archive-ref', () => archiveRef(value));
  return value;
}

/** A number of days, 0-36500, named by its flag. */
export function daysFlag(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0 || n > MAX_MAX_AGE_DAYS) throw usageError(flag, `must be a number between 0 and ${MAX_MAX_AGE_DAYS}, got ${value}`);
  return n;
}

/** `YYYY-MM-DD` (midnight UTC) or an ISO date-time with a zone. */
export function dateFlag(value: string | undefined, flag: string): Date | undefined {
  if (value === undefined) return undefined;
  return asFlag(flag, () => validDate(dayToIso(value), flag));
}

export function costFlag(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = value.trim() === '' ? NaN : Number(value);
  return asFlag(flag, () => validCost(Number.isNaN(n) ? value : n, flag));
}

export function limitFlag(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = /^\d+$/.test(value) ? Number(value) : value;
  return asFlag('--limit', () => validLimit(n, '--limit'));
}

export function cursorFlag(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  return asFlag('--cursor', () => validCursor(value, '--cursor') ?? undefined);
}

/** The working directory flag: `--cwd`, with `--scope` (its former name) accepted as a hidden alias. */
export function addCwdFlag(cmd: Command, description: string): Command {
  return cmd.option('--cwd <dir>', description).addOption(new Option('--scope <dir>').hideHelp());
}

/** The `--cwd` (or `--scope`) directory, resolved; both given must name the same one. */
export function cwdFlag(flags: { cwd?: string; scope?: string }): string | undefined {
  if (flags.cwd !== undefined && flags.scope !== undefined && path.resolve(flags.cwd) !== path.resolve(flags.scope)) {
    throw usageError('--scope', 'and --cwd name the same setting; give one');
  }
  const dir = flags.cwd ?? flags.scope;
  return dir === undefined ? undefined : path.resolve(dir);
}
