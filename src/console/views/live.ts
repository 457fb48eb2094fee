/**
 * The live page: running pipelines, fan-outs and conversations with their
 * progress, and the messages their running steps have stored so far. The
 * `#live` fragment is re-sent over Server-Sent Events as it changes.
 */
import { type LiveDetail } from '../../client/live.js';
import { formatUsd as usd, shortDate } from '../../model/formats.js';
import { type ConversationItem } from '../conversation.js';
import { html, type Html } from '../html.js';
import { page } from './layout.js';
import { renderItem, workflowLink } from './session.js';

export interface LiveStepView {
  sessionId: string | null;
  runId: string | null;
  attempt: number;
  messages: number;
  spendUsd: number;
  /** The step's latest stored messages as conversation items. */
  tail: ConversationItem[];
}

export interface LiveRunView {
  detail: LiveDetail;
  steps: LiveStepView[];
}

export interface LiveView {
  runs: LiveRunView[];
  error: string | null;
  temporalUiUrl: string | null;
  namespace: string;
}

const KIND: Record<string, string> = { sessionPipeline: 'pipeline', exploreAlternatives: 'fan-out', conversation: 'conversation' };

function progress(d: LiveDetail): Html {
  const unit = d.type === 'conversation' ? 'turns' : d.type === 'exploreAlternatives' ? 'branches' : 'steps';
  return html`<div class="progress">${d.total ? html`<progress value="${d.done}" max="${d.total}"></progress>` : ''} <span class="count">${d.done}${d.total ? ` / ${d.total}` : ''} ${unit} done</span> · ${usd(d.costUsd)}${d.currentStep ? html` · running <strong>${d.currentStep}</strong>` : ''}</div>`;
}

function stepList(d: LiveDetail): Html | string {
  if (!d.pipeline) return '';
  return html`<ol class="steps">${d.pipeline.steps.map((s) => html`<li class="step ${s.state}"><span class="state">${s.state}</span> ${s.name} <span class="muted">${s.mode}${s.sessionId ? html` · <a href="/sessions/${s.sessionId}">${s.sessionId.slice(0, 8)}</a>` : ''}${s.state === 'done' ? ` · ${usd(s.costUsd)}` : ''}</span></li>`)}</ol>`;
}

function stepView(s: LiveStepView, view: LiveView): Html {
  return html`<div class="running-step"><div class="step-head">running step${s.sessionId ? html` in <a href="/sessions/${s.sessionId}">${s.sessionId.slice(0, 8)}</a>` : ''} · attempt ${s.attempt} · <span class="msg-count">${s.messages}</span> messages · ${usd(s.spendUsd)} so far</div>
<div class="tail">${s.tail.length ? s.tail.map((i) => renderItem(i, view)) : html`<p class="muted">waiting for the first messages</p>`}</div></div>`;
}

function runCard(r: LiveRunView, view: LiveView): Html {
  const d = r.detail;
  return html`<article class="live-run" data-workflow-id="${d.workflowId}">
<header><span class="badge">${KIND[d.type] ?? d.type}</span> <strong>${d.name}</strong> ${workflowLink(view.temporalUiUrl, view.namespace, d.workflowId)} <span class="muted">started ${shortDate(d.startTime)}</span>
<a class="cancel" href="/live/${encodeURIComponent(d.workflowId)}/cancel">Cancel…</a></header>
${progress(d)}${stepList(d)}${r.steps.map((s) => stepView(s, view))}
</article>`;
}

/** The part of the page that live updates replace. */
export function liveFragment(view: LiveView): Html {
  if (view.error) return html`<p class="error" role="alert">${view.error}</p>`;
  if (view.runs.length === 0) return html`<p class="empty">Nothing is running</p>`;
  return html`${view.runs.map((r) => runCard(r, view))}`;
}

export function livePage(view: LiveView): Html {
  return page('Live', '/live', html`<h1>Live</h1><p class="muted live-state">Updates as the worker stores messages.</p><div id="live" data-events="/live/events">${liveFragment(view)}</div>`);
}

export function cancelPage(workflowId: string, detail: LiveDetail | null): Html {
  return page(
    'Cancel run',
    '/live',
    html`<h1>Cancel <code>${workflowId}</code>?</h1>
${detail ? html`<p>${KIND[detail.type] ?? detail.type} <strong>${detail.name}</strong>, ${detail.done}${detail.total ? ` of ${detail.total}` : ''} done, ${usd(detail.costUsd)} spent so far. The running step's claude process is stopped.</p>` : html`<p class="muted">This run is not running any more.</p>`}
<form method="post" action="/live/${encodeURIComponent(workflowId)}/cancel"><button class="danger" type="submit">Yes, cancel it</button> <a href="/live">No, go back</a></form>`,
  );
}
