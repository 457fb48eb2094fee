/** The costs page: charts by day and month stacked by tag or model, and tables by tag, model and pipeline. */
import { formatUsd as usd } from '../../model/formats.js';
import { stackedBars } from '../charts.js';
import { STACK_BY, type CostSummary, type CostTableRow } from '../costs.js';
import { html, type Html } from '../html.js';
import { page } from './layout.js';

type Form = Record<string, string | string[]>;

function table(title: string, rows: CostTableRow[], id: string): Html {
  if (rows.length === 0) return html``;
  return html`<section class="cost-table"><h2>${title}</h2><table id="${id}"><thead><tr><th>${title.replace(/^By /, '')}</th><th class="num">Exact</th><th class="num">Estimated</th><th class="num">Total</th><th class="num">Runs</th><th class="num">Sessions</th><th class="num">Tokens in/out</th></tr></thead><tbody>
${rows.map((r) => html`<tr><td>${r.key}</td><td class="num">${usd(r.exactUsd)}</td><td class="num">${r.estimatedUsd ? usd(r.estimatedUsd) : '-'}</td><td class="num">${usd(r.exactUsd + r.estimatedUsd)}</td><td class="num">${r.runs}</td><td class="num">${r.sessions}</td><td class="num">${r.inputTokens} / ${r.outputTokens}</td></tr>`)}
</tbody></table></section>`;
}

function filterForm(form: Form): Html {
  const v = (k: string) => (Array.isArray(form[k]) ? (form[k] as string[]).join(',') : ((form[k] as string | undefined) ?? ''));
  return html`<form class="filters" method="get" action="/costs">
<label>Since<input name="since" value="${v('since')}" placeholder="YYYY-MM-DD"></label>
<label>Until<input name="until" value="${v('until')}" placeholder="YYYY-MM-DD"></label>
<label>Tags<input name="tag" value="${v('tag')}" placeholder="a,b"></label>
<label>Stack by<select name="stack">${STACK_BY.map((s) => html`<option${form.stack === s ? html` selected` : ''}>${s}</option>`)}</select></label>
<button type="submit">Apply</button> <a href="/costs">Clear</a></form>`;
}

export function costsPage(form: Form, summary: CostSummary | null, error: string | null): Html {
  const body = summary
    ? html`<p class="totals"><strong>${usd(summary.total.exactUsd + summary.total.estimatedUsd)}</strong> · exact <span id="exact-total">${usd(summary.total.exactUsd)}</span> · estimated <span id="estimated-total">${usd(summary.total.estimatedUsd)}</span> · ${summary.total.runs} runs · ${summary.total.sessions} sessions</p>
${summary.total.runs === 0 ? html`<p class="empty">No runs match</p>` : html`${stackedBars(summary.days, `Spend by day, stacked by ${String(form.stack)}`)}${stackedBars(summary.months, `Spend by month, stacked by ${String(form.stack)}`)}
<div class="cost-tables">${table('By tag', summary.byTag, 'by-tag')}${table('By model', summary.byModel, 'by-model')}${table('By pipeline', summary.byPipeline, 'by-pipeline')}</div>`}`
    : '';
  return page('Costs', '/costs', html`<h1>Costs</h1>${filterForm(form)}${error ? html`<p class="error" role="alert">${error}</p>` : ''}${body}<p class="muted">Estimated spend is what lost attempts had spent by their last heartbeat; exact spend is what the CLI reported.</p>`);
}
