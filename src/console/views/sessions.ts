/** The sessions page: the CLI's search filters as a form, a sortable table and cursor paging. */
import { formatUsd as usd, shortDate } from '../../model/formats.js';
import { SESSION_STATUSES, type Page, type SessionMetadata } from '../../model/session.js';
import { html, type Html } from '../html.js';
import { page, query } from './layout.js';

type Form = Record<string, string | string[]>;


function field(form: Form, name: string): string {
  const v = form[name];
  return Array.isArray(v) ? v.join(',') : (v ?? '');
}

function filterForm(form: Form): Html {
  const input = (name: string, label: string, type = 'text', placeholder = '') =>
    html`<label>${label}<input name="${name}" type="${type}" value="${field(form, name)}" placeholder="${placeholder}"></label>`;
  return html`<form class="filters" method="get" action="/sessions">
${input('tag', 'Tags', 'text', 'a,b')}
<label class="check"><input type="checkbox" name="all" value="1"${form.all === '1' ? html` checked` : ''}>all tags</label>
${input('after', 'Created after', 'text', 'YYYY-MM-DD')}
${input('before', 'Created before', 'text', 'YYYY-MM-DD')}
${input('minCost', 'Min $', 'text')}
${input('maxCost', 'Max $', 'text')}
${input('model', 'Model')}
<label>Status<select name="status"><option value="">any</option>${SESSION_STATUSES.map((s) => html`<option${form.status === s ? html` selected` : ''}>${s}</option>`)}</select></label>
${input('scope', 'Scope')}
${form.sort ? html`<input type="hidden" name="sort" value="${field(form, 'sort')}">` : ''}
${form.order ? html`<input type="hidden" name="order" value="${field(form, 'order')}">` : ''}
<button type="submit">Search</button> <a href="/sessions">Clear</a>
</form>`;
}

function sortHeader(form: Form, key: string, label: string): Html {
  const current = (form.sort ?? 'updatedAt') === key;
  const order = current && (form.order ?? 'desc') === 'desc' ? 'asc' : 'desc';
  const { cursor: _c, ...rest } = form;
  const arrow = current ? ((form.order ?? 'desc') === 'desc' ? ' ▾' : ' ▴') : '';
  return html`<a href="/sessions${query({ ...rest, sort: key, order })}">${label}${arrow}</a>`;
}

export function tagLink(tag: string): Html {
  return html`<a class="tag" href="/sessions${query({ tag })}">${tag}</a>`;
}

function row(s: SessionMetadata): Html {
  const title = s.description ?? s.summary ?? '';
  return html`<tr>
<td><a class="sid" href="/sessions/${s.sessionId}">${s.sessionId.slice(0, 8)}</a>${s.lineage.parentSessionId ? html` <span class="badge" title="forked">fork</span>` : ''}<div class="desc">${title.slice(0, 120)}</div></td>
<td>${shortDate(s.updatedAt)}</td><td>${shortDate(s.createdAt)}</td>
<td><span class="status ${s.status}">${s.status}</span></td>
<td>${s.model ?? '-'}</td><td class="num">${s.messageCount}</td><td class="num">${usd(s.totalCostUsd)}</td>
<td>${s.tags.map(tagLink)}</td>
</tr>`;
}

export function sessionsPage(form: Form, result: Page<SessionMetadata> | null, error: string | null): Html {
  const { cursor: _cursor, ...base } = form;
  const table = result
    ? result.items.length === 0
      ? html`<p class="empty">No sessions match</p>`
      : html`<table class="sessions">
<thead><tr><th>Session</th><th>${sortHeader(form, 'updatedAt', 'Updated')}</th><th>${sortHeader(form, 'createdAt', 'Created')}</th><th>Status</th><th>Model</th><th class="num">Msgs</th><th class="num">${sortHeader(form, 'totalCostUsd', 'Cost')}</th><th>Tags</th></tr></thead>
<tbody>${result.items.map(row)}</tbody></table>`
    : '';
  const paging = html`<nav class="paging">${form.cursor ? html`<a href="/sessions${query(base)}">First page</a>` : ''}${result?.nextCursor ? html`<a rel="next" href="/sessions${query({ ...base, cursor: result.nextCursor })}">Next page</a>` : ''}</nav>`;
  return page('Sessions', '/sessions', html`<h1>Sessions</h1>${filterForm(form)}${error ? html`<p class="error" role="alert">${error}</p>` : ''}${table}${paging}`);
}
