/** Formats shared by validation in the runner, the store and the pipeline schema. Pure module. */

/** A session id. */
export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A tag: safe in queries, URLs and file names. */
export const TAG_RE = /^[A-Za-z0-9:_\-./@]+$/;
export const TAG_CHARS_MESSAGE = 'may contain only letters, digits and : _ - . / @';

/** Sums of USD floats drift (0.1 + 0.2); keep ten decimals. */
export function roundUsd(value: number): number {
  return Math.round(value * 1e10) / 1e10;
}

/**
 * The one money format of everything a user reads: dollars with four decimals (`$0.0080`, `$1.2500`);
 * an amount under a tenth of a cent that is not zero gets two significant digits instead (`$0.00012`), so it
 * never reads as `$0.0000`. JSON carries the unrounded number.
 */
export function formatUsd(value: number): string {
  const abs = Math.abs(value);
  if (abs === 0 || abs >= 0.001) return `${value < 0 ? '-' : ''}$${abs.toFixed(4)}`;
  const decimals = Math.min(12, 1 - Math.floor(Math.log10(abs)));
  return `${value < 0 ? '-' : ''}$${abs.toFixed(decimals)}`;
}

/**
 * The pipeline name of a single command (`query`, `continue`, `resume`, `fork` from the CLI or the client):
 * what `costs --by pipeline`, `ps` and the Web UI show for it, distinct from any pipeline file's name.
 */
export function oneStepPipelineName(mode: string): string {
  return `one-step ${mode}`;
}

/** A day as people type it (`YYYY-MM-DD`, meaning midnight UTC) as an ISO date-time; anything else unchanged. */
export function dayToIso(value: string): string {
  return /^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value;
}

/** `YYYY-MM-DD HH:MM:SS` in UTC. */
export function shortDate(d: Date | string): string {
  const iso = (typeof d === 'string' ? new Date(d) : d).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}`;
}

/**
 * Exact USD sums: each figure is taken at the decimal it prints as (its shortest
 * round-trip form) in units of 1e-18 USD, summed as integers, and converted back
 * once. So a ledger of $0.00123456789 runs sums to exactly that, and rounding
 * happens only for display.
 */
const USD_SCALE = 18;

/** A USD figure in integer units of 1e-18 USD. */
export function usdUnits(value: number): bigint {
  if (!Number.isFinite(value)) return 0n;
  const [mantissa = '0', exp = '0'] = String(Math.abs(value)).toLowerCase().split('e');
  const [whole = '0', frac = ''] = mantissa.split('.');
  const shift = USD_SCALE + Number(exp) - frac.length;
  const digits = BigInt(whole + frac);
  const units = shift >= 0 ? digits * 10n ** BigInt(shift) : roundDiv(digits, 10n ** BigInt(-shift));
  return value < 0 ? -units : units;
}

function roundDiv(n: bigint, d: bigint): bigint {
  return (n + d / 2n) / d;
}

/** Back to a number: the nearest double to the exact decimal. */
export function unitsToUsd(units: bigint): number {
  const negative = units < 0n;
  const s = (negative ? -units : units).toString().padStart(USD_SCALE + 1, '0');
  const text = `${s.slice(0, -USD_SCALE)}.${s.slice(-USD_SCALE)}`;
  return negative ? -Number(text) : Number(text);
}

/** The exact sum of USD figures. */
export function addUsd(...values: number[]): number {
  let total = 0n;
  for (const v of values) total += usdUnits(v);
  return unitsToUsd(total);
}
