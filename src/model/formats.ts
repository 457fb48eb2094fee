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
