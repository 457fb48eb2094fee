/** Text renderings of store reports, shared by the commands and the demo: a lineage tree, a cost report. */
import type { CostReport, LineageNode, LineageResult } from '../model/session.js';
import { barChart, table, truncate, usd } from './format.js';
import { palette } from './output.js';

/** The "parent deleted on <date>" note of `sessions show` and `sessions lineage`. */
export function parentDeletedText(p: { sessionId: string; deletedAt: Date | string | null }): string {
  const day = p.deletedAt === null ? null : new Date(p.deletedAt).toISOString().slice(0, 10);
  return `parent ${p.sessionId} deleted${day ? ` on ${day}` : ''}`;
}

export function lineageText(l: LineageResult): string {
  const lines: string[] = [];
  if (l.parentDeleted) lines.push(parentDeletedText(l.parentDeleted));
  l.ancestors.forEach((a, i) => lines.push(`${'  '.repeat(i)}${i ? '└─ ' : ''}${a.sessionId}  ${usd(a.totalCostUsd)}  ${truncate(a.description ?? '', 50)}`.trimEnd()));
  const indent = '  '.repeat(l.ancestors.length);
  const walk = (n: LineageNode, prefix: string, tail: string, root: boolean) => {
    const at = n.forkedAtMessage !== null ? ` (forked at message ${n.forkedAtMessage})` : '';
    lines.push(`${prefix}${n.sessionId}${root ? ' *' : ''}  ${usd(n.totalCostUsd)}${at}  ${truncate(n.description ?? '', 50)}`.trimEnd());
    n.children.forEach((c, i) => {
      const last = i === n.children.length - 1;
      walk(c, tail + (last ? '└─ ' : '├─ '), tail + (last ? '   ' : '│  '), false);
    });
  };
  walk(l.tree, indent + (l.ancestors.length ? '└─ ' : ''), indent + (l.ancestors.length ? '   ' : ''), true);
  return lines.join('\n') + '\n';
}

export function costText(report: CostReport, p = palette(false)): string {
  const purged = report.ledgerPurgedBefore
    ? `note: ledger entries of deleted sessions from before ${new Date(report.ledgerPurgedBefore).toISOString().slice(0, 10)} were purged; this period reaches back into that time\n`
    : '';
  return costBody(report, p) + purged;
}

function costBody(report: CostReport, p: ReturnType<typeof palette>): string {
  if (report.rows.length === 0) return `no runs\n`;
  // Spend of lost attempts is an estimate: said apart from what the CLI reported.
  const estimated = report.total.estimatedUsd > 0 ? ` (${usd(report.total.estimatedUsd)} of it estimated for lost attempts)` : '';
  const total = `${p.bold('total')} ${usd(report.total.costUsd)}${estimated} · ${report.total.runs} runs · ${report.total.sessions} sessions\n`;
  if (report.by === 'day') {
    const rows = [...report.rows].sort((a, b) => a.key.localeCompare(b.key));
    return barChart(rows.map((r) => ({ label: r.key, value: r.costUsd, note: `${usd(r.costUsd)} · ${r.runs} runs` }))) + total;
  }
  return (
    table(
      report.rows,
      [
        { header: report.by.toUpperCase(), value: (r) => r.key, max: 40 },
        { header: 'COST', value: (r) => usd(r.costUsd), right: true },
        { header: 'ESTIMATED', value: (r) => (r.estimatedUsd > 0 ? usd(r.estimatedUsd) : '-'), right: true },
        { header: 'RUNS', value: (r) => String(r.runs), right: true },
        { header: 'SESSIONS', value: (r) => String(r.sessions), right: true },
        { header: 'IN TOKENS', value: (r) => String(r.inputTokens), right: true },
        { header: 'OUT TOKENS', value: (r) => String(r.outputTokens), right: true },
      ],
      p,
    ) + (report.by === 'total' ? '' : total)
  );
}
