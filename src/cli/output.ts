/**
 * Terminal output of the CLI: colours (plain ANSI, off for NO_COLOR and
 * non-TTY streams), tables, a bar chart and the live progress line. Results go
 * to stdout, progress and errors to stderr, so `--json` output stays clean.
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
const ANSI_RE = /\u001b\[[0-9;]*[A-Za-z]/g;
export const visibleLength = (s: string) => s.replace(ANSI_RE, '').length;

export function printJson(io: Io, value: unknown): void {
  io.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

export function usd(n: number): string {
  if (n === 0) return '$0';
  return n < 0.01 ? `$${n.toFixed(6)}` : `$${n.toFixed(4)}`;
}

export function shortDate(d: Date | string): string {
  const iso = (typeof d === 'string' ? new Date(d) : d).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}`;
}

export function truncate(s: string, max: number): string {
  const one = s.replace(/\s+/g, ' ').trim();
  return one.length <= max ? one : `${one.slice(0, Math.max(0, max - 1))}…`;
}

export interface Column<T> {
  header: string;
  value: (row: T) => string;
  /** Right-align (numbers); default left. */
  right?: boolean;
  /** Cut cells to this width; default no limit. */
  max?: number;
}

/** A plain text table: a header, a rule, one line per row. */
export function table<T>(rows: readonly T[], columns: readonly Column<T>[], p: Palette = palette(false)): string {
  const cells = rows.map((r) => columns.map((c) => (c.max ? truncate(c.value(r), c.max) : c.value(r))));
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((row) => visibleLength(row[i]!))));
  const pad = (s: string, i: number) => {
    const fill = ' '.repeat(Math.max(0, widths[i]! - visibleLength(s)));
    return columns[i]!.right ? fill + s : s + fill;
  };
  const line = (row: string[]) => row.map(pad).join('  ').trimEnd();
  return [p.bold(line(columns.map((c) => c.header))), p.dim(line(widths.map((w) => '-'.repeat(w)))), ...cells.map(line)].join('\n') + '\n';
}

const EIGHTHS = ['', '▏', '▎', '▍', '▌', '▋', '▊', '▉'];

/** A horizontal bar chart: one labelled bar per row, scaled to the largest value. */
export function barChart(rows: readonly { label: string; value: number; note?: string }[], width = 40): string {
  const max = Math.max(0, ...rows.map((r) => r.value));
  const labelWidth = Math.max(0, ...rows.map((r) => r.label.length));
  return rows
    .map((r) => {
      const eighths = max > 0 ? Math.round((r.value / max) * width * 8) : 0;
      const bar = '█'.repeat(Math.floor(eighths / 8)) + EIGHTHS[eighths % 8]!;
      return `${r.label.padEnd(labelWidth)} │${bar.padEnd(width + 1)} ${r.note ?? ''}`.trimEnd();
    })
    .join('\n') + (rows.length ? '\n' : '');
}

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/**
 * A status line that redraws in place on a TTY (spinner + text) and prints
 * one plain line per change of text elsewhere.
 */
export interface StatusLine {
  /** `plain`: the line for non-TTY streams (printed when it changes); default `text`. */
  update(text: string, plain?: string): void;
  /** Print a permanent line above the status line. */
  log(text: string): void;
  stop(): void;
}

export function statusLine(stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv, options: { quietPlain?: boolean } = {}): StatusLine {
  const tty = Boolean(stream.isTTY);
  const p = palette(colorEnabled(stream, env));
  let text = '';
  let frame = 0;
  let lastPlain = '';
  let timer: NodeJS.Timeout | undefined;
  // A pseudo-terminal without a size reports 0 columns.
  const columns = () => Math.max(20, (stream.columns || 100) - 1);
  const draw = () => {
    const line = `${p.cyan(FRAMES[frame % FRAMES.length]!)} ${text}`;
    stream.write(`\r\u001b[2K${visibleLength(line) > columns() ? truncate(line.replace(ANSI_RE, ''), columns()) : line}`);
  };
  if (tty) {
    timer = setInterval(() => {
      frame += 1;
      if (text) draw();
    }, 120);
    timer.unref();
  }
  return {
    update(next, plain = next) {
      text = next;
      if (tty) draw();
      else if (!options.quietPlain && plain !== lastPlain) {
        lastPlain = plain;
        stream.write(plain + '\n');
      }
    },
    log(line) {
      if (tty) stream.write(`\r\u001b[2K${line}\n`);
      else if (!options.quietPlain) stream.write(line + '\n');
      if (tty && text) draw();
    },
    stop() {
      if (timer) clearInterval(timer);
      if (tty) stream.write('\r\u001b[2K');
    },
  };
}

export function elapsed(ms: number): string {
  const s = ms / 1000;
  return s < 60 ? `${s.toFixed(1)}s` : `${Math.floor(s / 60)}m${String(Math.floor(s % 60)).padStart(2, '0')}s`;
}
