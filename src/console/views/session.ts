/**
 * One session: metadata with editable tags and description, its runs with
 * links to their workflows, the fork tree, and the conversation with tool
 * calls collapsed.
 */
import { formatUsd as usd, shortDate } from '../../model/formats.js';
import { type LineageNode, type LineageResult, type RunLedgerEntry, type SessionMetadata } from '../../model/session.js';
import { type ConversationItem, type RunOutcome, type ToolCall } from '../conversation.js';
import { isEstimated } from '../costs.js';
import { html, type Html } from '../html.js';
import { markdown } from '../markdown.js';
import { page } from './layout.js';
import { tagLink } from './sessions.js';

/** Longer tool inputs and results are cut for the page (the full text stays in the store). */
export const MAX_TOOL_TEXT = 20_000;

export interface SessionView {
  metadata: SessionMetadata;
  lineage: LineageResult;
  runs: RunLedgerEntry[];
  items: ConversationItem[];
  /** Base URL of the Temporal Web UI, when known. */
  temporalUiUrl: string | null;
  namespace: string;
  notice?: string | null;
}

export function workflowLink(ui: string | null, namespace: string, workflowId: string | null): Html | string {
  if (!workflowId) return '-';
  if (!ui) return html`<code>${workflowId}</code>`;
  return html`<a class="wf" href="${ui}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}" rel="noopener noreferrer">${workflowId}</a>`;
}

const cut = (text: string) => (text.length > MAX_TOOL_TEXT ? `${text.slice(0, MAX_TOOL_TEXT)}\n… (${text.length - MAX_TOOL_TEXT} more characters)` : text);

function pretty(value: unknown): string {
  if (value === undefined) return '';
  try {
    return JSON.stringify(value, null, 2);
  } catch {
    return String(value);
  }
}

function preview(call: ToolCall): string {
  const input = call.input as Record<string, unknown> | undefined;
  const first = input && typeof input === 'object' ? Object.values(input).find((v) => typeof v === 'string') : undefined;
  return typeof first === 'string' ? first.replace(/\s+/g, ' ').slice(0, 80) : '';
}

function toolCall(call: ToolCall): Html {
  const mark = call.result ? (call.result.isError ? html`<span class="err">error</span>` : html`<span class="ok">done</span>`) : html`<span class="pending">no result</span>`;
  return html`<details class="tool"><summary><span class="tool-name">${call.name}</span> <span class="preview">${preview(call)}</span> ${mark}</summary>
${call.input !== undefined ? html`<div class="label">input</div><pre class="tool-input">${cut(pretty(call.input))}</pre>` : ''}
${call.result ? html`<div class="label">result</div><pre class="tool-result${call.result.isError ? ' is-error' : ''}">${cut(call.result.text)}</pre>` : ''}
</details>`;
}

function runFigures(run: RunLedgerEntry | null, outcome?: RunOutcome): Html {
  const usage = run ? Object.values(run.usageByModel ?? {}) : [];
  const input = usage.length ? usage.reduce((s, u) => s + (u.inputTokens ?? 0), 0) : (outcome?.inputTokens ?? 0);
  const output = usage.length ? usage.reduce((s, u) => s + (u.outputTokens ?? 0), 0) : (outcome?.outputTokens ?? 0);
  const cost = run ? run.costUsd : (outcome?.costUsd ?? 0);
  return html`<span class="figures">${usd(cost)}${run && isEstimated(run) ? html` <span class="badge est">estimated</span>` : ''} · ${input} in / ${output} out tokens${outcome?.numTurns !== null && outcome?.numTurns !== undefined ? html` · ${outcome.numTurns} turns` : ''}</span>`;
}

/** One conversation item; `view` gives the Temporal UI base for run links. */
export function renderItem(i: ConversationItem, view: Pick<SessionView, 'temporalUiUrl' | 'namespace'>): Html {
  switch (i.kind) {
    case 'run':
      return html`<div class="run-mark" id="run-${i.index}">Run ${i.index}${i.run ? html` · ${i.run.mode} · ${shortDate(i.run.startedAt)}` : ''}${i.run?.workflowId ? html` · ${workflowLink(view.temporalUiUrl, view.namespace, i.run.workflowId)}` : ''}</div>`;
    case 'prompt':
      return html`<div class="msg user"><div class="who">user</div><div class="text plain">${i.text}</div></div>`;
    case 'text':
      return html`<div class="msg assistant"><div class="who">assistant</div><div class="text md">${markdown(i.text)}</div></div>`;
    case 'thinking':
      return html`<details class="thinking"><summary>thinking</summary><pre>${i.text}</pre></details>`;
    case 'tool':
      return toolCall(i);
    case 'system':
      return html`<div class="system">${i.text}</div>`;
    case 'outcome': {
      const o = i.outcome;
      const status = i.run?.status ?? (o.isError ? 'failed' : 'completed');
      return html`<div class="outcome ${o.isError ? 'failed' : 'ok'}"><span class="status ${status}">${status}</span>${o.subtype ? html` <code>${o.subtype}</code>` : ''} · ${runFigures(i.run, o)}</div>`;
    }
    case 'forked':
      return html`<div class="forked-here">forked here → ${i.sessionIds.map((id) => html`<a href="/sessions/${id}">${id.slice(0, 8)}</a> `)}</div>`;
  }
}

function tree(node: LineageNode, current: string): Html {
  const label = html`<a href="/sessions/${node.sessionId}"${node.sessionId === current ? html` aria-current="true" class="current"` : ''}>${node.sessionId.slice(0, 8)}</a> <span class="muted">${usd(node.totalCostUsd)}${node.forkedAtMessage !== null ? ` · at message ${node.forkedAtMessage}` : ''} ${node.description ?? ''}</span>`;
  return html`<li>${label}${node.children.length ? html`<ul>${node.children.map((c) => tree(c, current))}</ul>` : ''}</li>`;
}

function lineageSection(l: LineageResult, current: string): Html {
  const parent = l.ancestors.at(-1);
  const ancestors = l.ancestors.map((a) => html`<li><a href="/sessions/${a.sessionId}">${a.sessionId.slice(0, 8)}</a> <span class="muted">${usd(a.totalCostUsd)} ${a.description ?? ''}</span></li>`);
  return html`<section class="lineage"><h2>Fork tree</h2>
${parent ? html`<p>Parent: <a class="parent" href="/sessions/${parent.sessionId}">${parent.sessionId}</a></p>` : html`<p class="muted">A root session</p>`}
<ul class="tree">${ancestors}${tree(l.tree, current)}</ul></section>`;
}

function runsTable(runs: RunLedgerEntry[], view: SessionView): Html {
  if (runs.length === 0) return html``;
  return html`<section><h2>Runs</h2><table class="runs"><thead><tr><th>Started</th><th>Mode</th><th>Status</th><th>Attempt</th><th class="num">Spend</th><th class="num">Tokens in/out</th><th class="num">Duration</th><th>Workflow</th></tr></thead><tbody>
${runs.map((r) => {
  const usage = Object.values(r.usageByModel ?? {});
  const tin = usage.reduce((s, u) => s + (u.inputTokens ?? 0), 0);
  const tout = usage.reduce((s, u) => s + (u.outputTokens ?? 0), 0);
  return html`<tr><td>${shortDate(r.startedAt)}</td><td>${r.mode}</td><td><span class="status ${r.status}">${r.status}</span>${r.failureType ? html` <code>${r.failureType}</code>` : ''}</td><td class="num">${r.attempt}</td><td class="num">${usd(r.costUsd)}${isEstimated(r) ? html` <span class="badge est">estimated</span>` : ''}</td><td class="num">${tin} / ${tout}</td><td class="num">${(r.durationMs / 1000).toFixed(1)} s</td><td>${workflowLink(view.temporalUiUrl, view.namespace, r.workflowId)}</td></tr>`;
})}</tbody></table></section>`;
}

function metadataSection(s: SessionMetadata): Html {
  const rows: [string, Html | string][] = [
    ['Status', html`<span class="status ${s.status}">${s.status}</span>`],
    ['Created', shortDate(s.createdAt)],
    ['Updated', shortDate(s.updatedAt)],
    ['Models', s.models.join(', ') || '-'],
    ['Messages', `${s.messageCount} (${s.turnCount} assistant turns, ${s.runCount} runs)`],
    ['Spend', `${usd(s.totalCostUsd)} (lineage ${usd(s.lineageCostUsd)})`],
    ['Scope', s.scope ?? '-'],
    ['Origin', [s.origin.pipeline, s.origin.step, s.origin.workflowId].filter(Boolean).join(' / ') || '-'],
  ];
  return html`<dl class="meta">${rows.map(([k, v]) => html`<dt>${k}</dt><dd>${v}</dd>`)}</dl>
<div class="tags"><span class="label">Tags</span> ${s.tags.map((t) => html`<form class="inline" method="post" action="/sessions/${s.sessionId}/tags"><input type="hidden" name="remove" value="${t}">${tagLink(t)}<button class="x" title="remove tag ${t}" aria-label="remove tag ${t}">×</button></form>`)}
<form class="inline" method="post" action="/sessions/${s.sessionId}/tags"><input name="add" placeholder="new tag" aria-label="new tag" required><button>Add tag</button></form></div>
<form class="description" method="post" action="/sessions/${s.sessionId}/description"><label>Description <input name="description" value="${s.description ?? ''}" maxlength="1000"></label><button>Save</button></form>`;
}

export function sessionPage(view: SessionView): Html {
  const s = view.metadata;
  return page(
    `Session ${s.sessionId.slice(0, 8)}`,
    '/sessions',
    html`<h1>Session <code>${s.sessionId}</code></h1>
${view.notice ? html`<p class="error" role="alert">${view.notice}</p>` : ''}
<div class="session-head">${metadataSection(s)}${lineageSection(view.lineage, s.sessionId)}</div>
${runsTable(view.runs, view)}
<section class="conversation"><h2>Conversation</h2><p class="muted">${s.messageCount} messages; tool calls are collapsed: <button type="button" class="expand-all" hidden>expand all</button></p>
${view.items.map((i) => renderItem(i, view))}</section>`,
  );
}
