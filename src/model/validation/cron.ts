/**
 * Five-field cron expressions (minute hour day-of-month month day-of-week, UTC),
 * checked here so a bad one is refused naming the field rather than by the
 * server's parser, and one that can never fire (`0 3 31 2 *`) is refused too.
 * Pure module.
 */
import { invalidInput } from '../failures.js';

interface CronField {
  name: string;
  min: number;
  max: number;
  names?: readonly string[];
}

const FIELDS: readonly CronField[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'] },
  // 0 and 7 are both Sunday.
  { name: 'day of week', min: 0, max: 7, names: ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'] },
];

const MACROS: Readonly<Record<string, string>> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

export const CRON_FORMS = 'five fields "minute hour day-of-month month day-of-week" in UTC, such as "0 3 * * *", or @hourly, @daily, @weekly, @monthly, @yearly';

function value(text: string, f: CronField, problem: (p: string) => Error): number {
  const byName = f.names?.indexOf(text.toUpperCase()) ?? -1;
  const n = byName >= 0 ? byName + (f.min === 1 ? 1 : 0) : /^\d{1,2}$/.test(text) ? Number(text) : NaN;
  if (Number.isNaN(n)) throw problem(`${f.name} ${JSON.stringify(text)} is not a number${f.names ? ' or a name' : ''}`);
  if (n < f.min || n > f.max) throw problem(`${f.name} ${n} is outside ${f.min}-${f.max}`);
  return n;
}

/** The values one field allows, or null for `*` (unrestricted). */
function parseField(text: string, f: CronField, problem: (p: string) => Error): Set<number> | null {
  if (text === '*' || text === '?') return null;
  const out = new Set<number>();
  for (const part of text.split(',')) {
    const m = /^([^/-]+|\*)(?:-([^/]+))?(?:\/(\d+))?$/.exec(part);
    if (!m) throw problem(`${f.name} ${JSON.stringify(part)} is not a value, range or step`);
    const step = m[3] === undefined ? 1 : Number(m[3]);
    if (step < 1 || step > f.max) throw problem(`${f.name} step ${m[3]} is outside 1-${f.max}`);
    const from = m[1] === '*' ? f.min : value(m[1]!, f, problem);
    const to = m[2] !== undefined ? value(m[2], f, problem) : m[1] === '*' || m[3] !== undefined ? f.max : from;
    if (m[1] === '*' && m[2] !== undefined) throw problem(`${f.name} ${JSON.stringify(part)} mixes * and a range`);
    if (from > to) throw problem(`${f.name} range ${part} runs backwards`);
    for (let v = from; v <= to; v += step) out.add(v);
  }
  return out;
}

const MONTH_DAYS = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Checks a cron expression; returns it trimmed. Errors name `field` and say what is accepted. */
export function cronExpression(input: unknown, field = 'cron'): string {
  if (typeof input !== 'string') throw invalidInput(field, `must be a cron expression: ${CRON_FORMS}`);
  const text = input.trim();
  const problem = (p: string) => invalidInput(field, `${p}; expected ${CRON_FORMS}`);
  if (text.startsWith('@')) {
    if (!(text.toLowerCase() in MACROS)) throw problem(`${JSON.stringify(text)} is not a known shorthand`);
    return text;
  }
  const parts = text.split(/\s+/);
  if (text === '' || parts.length !== 5) throw problem(`${JSON.stringify(text)} has ${text === '' ? 0 : parts.length} fields, not 5`);
  const [, , days, months, weekdays] = parts.map((p, i) => parseField(p, FIELDS[i]!, problem));
  // With a day of week given, cron fires on either match; otherwise some day must exist in some month.
  if (days && !weekdays) {
    const monthList = months ? [...months] : [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
    if (!monthList.some((m) => [...days].some((d) => d <= MONTH_DAYS[m - 1]!))) throw problem(`${JSON.stringify(text)} never fires: no such day in those months`);
  }
  return parts.join(' ');
}
