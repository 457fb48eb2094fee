/**
 * Parsers of flag and argument values shared by the commands. Each checks its
 * value before anything connects and names the flag in its error (exit 2).
 */
import path from 'node:path';
import { type Command, Option } from 'commander';
import { archiveLocation, archiveRef } from '../model/retention.js';
import { cursor as validCursor, scope as validScope, sessionId as validSessionId, tag as validTag } from '../model/validation/fields.js';
import { dateValue, decimalText, integerText, positiveDecimalText } from '../model/validation/user-input.js';
import { MAX_LIMIT, MAX_MAX_AGE_DAYS } from '../model/defaults.js';
import { asFlag, usageError } from './exit-codes.js';
import { truncate } from './format.js';

/** Commander's collector of a repeatable flag. */
export const collect = (value: string, previous: string[] = []) => [...previous, value];

/** A whole number of at least 1 (`--max-turns`). */
export const positiveInt = (value: string, field: string): number => integerText(value, field);

/** A decimal greater than 0 (`--budget-usd`): decimal only, so `0x10` is not read as 16. */
export const positiveNumber = (value: string, field: string): number => positiveDecimalText(value, field);

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
  const n = decimalText(value, flag);
  if (n > MAX_MAX_AGE_DAYS) throw usageError(flag, `must be a number between 0 and ${MAX_MAX_AGE_DAYS}, got ${value}`);
  return n;
}

/** A date flag in one of the model's `DATE_FORMS`, the calendar checked. */
export function dateFlag(value: string | undefined, flag: string): Date | undefined {
  return value === undefined ? undefined : dateValue(value, flag);
}

/** A cost flag: a decimal of at least 0. */
export function costFlag(value: string | undefined, flag: string): number | undefined {
  return value === undefined ? undefined : decimalText(value, flag);
}

export function limitFlag(value: string | undefined): number | undefined {
  return value === undefined ? undefined : integerText(value, '--limit', 1, MAX_LIMIT);
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
  if (dir !== undefined) asFlag(flags.cwd !== undefined ? '--cwd' : '--scope', () => validScope(dir));
  return dir === undefined ? undefined : path.resolve(dir);
}
