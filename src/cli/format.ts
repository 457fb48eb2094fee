/** Text formats of the CLI: money, dates, cut text, durations, tables and a bar chart. */
import { formatUsd } from '../model/formats.js';
import { type Palette, palette, visibleLength } from './output.js';

/** Money as everything prints it (the rule is stated once, in `formatUsd`). */
export const usd = formatUsd;

export function bytesText(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

export { shortDate } from '../model/formats.js';

export function truncate(s: string, max: number): string {
  const one = s.replace(/\s+/g, ' ').trim();
  return one.length <= max ? one : `${one.slice(0, Math.max(0, max - 1))}…`;
}

/** Human age: seconds, minutes, hours, then days. */
export function age(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 172_800) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86_400)}d`;
}

export function elapsed(ms: number): string {
  const s = ms / 1000;
  return s < 60 ? `${s.toFixed(1)}s` : `${Math.floor(s / 60)}m${String(Math.floor(s % 60)).padStart(2, '0')}s`;
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
