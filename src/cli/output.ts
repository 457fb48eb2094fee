/**
 * Where the CLI writes and how: the streams, colours (plain ANSI, off for
 * NO_COLOR and non-TTY streams) and JSON. Results go to stdout, progress and
 * errors to stderr, so `--json` output stays clean.
 */

export interface Io {
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  env: NodeJS.ProcessEnv;
  /** `--json` was given: results are JSON on stdout, no decoration. */
  json: boolean;
}

export function colorEnabled(stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  return Boolean(stream.isTTY) && env.TERM !== 'dumb';
}

export interface Palette {
  bold(s: string): string;
  dim(s: string): string;
  red(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
  cyan(s: string): string;
}

const wrap = (on: boolean, open: number, close: number) => (s: string) => (on ? `\u001b[${open}m${s}\u001b[${close}m` : s);

export function palette(on: boolean): Palette {
  return {
    bold: wrap(on, 1, 22),
    dim: wrap(on, 2, 22),
    red: wrap(on, 31, 39),
    green: wrap(on, 32, 39),
    yellow: wrap(on, 33, 39),
    cyan: wrap(on, 36, 39),
  };
}

// eslint-disable-next-line no-control-regex
export const ANSI_RE = /\u001b\[[0-9;]*[A-Za-z]/g;
export const visibleLength = (s: string) => s.replace(ANSI_RE, '').length;

export function printJson(io: Io, value: unknown): void {
  io.stdout.write(JSON.stringify(value, null, 2) + '\n');
}
