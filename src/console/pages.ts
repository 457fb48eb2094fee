/**
 * What each page reads: the store through its public API, Temporal through
 * the client. Each function returns the rendered page; errors in the user's
 * input become a message on the page.
 */
import { type ClaudeTemporalClient } from '../client/index.js';
import { type LiveDetail } from '../client/live.js';
import { type Page, type RunLedgerEntry, type SessionMetadata } from '../model/session.js';
import { type SessionStore } from '../client/sessions.js';
import { buildConversation, transcriptPrompts } from './conversation.js';
import { summarizeCosts, type CostSummary } from './costs.js';
import { type Html } from './html.js';
import { costFilters, ParamError, sessionFilters } from './params.js';
import { costsPage } from './views/costs.js';
import { liveFragment, livePage, type LiveRunView, type LiveView } from './views/live.js';
import { sessionsPage } from './views/sessions.js';
import { sessionPage } from './views/session.js';

/** Messages of a running step shown on the live page. */
export const LIVE_TAIL = 12;

export interface ConsoleDeps {
  store: SessionStore;
  /** Null when Temporal is not reachable: the live page says so, the rest works. */
  client: ClaudeTemporalClient | null;
  /** Base URL of the Temporal Web UI for workflow links; null: ids without links. */
  temporalUiUrl: string | null;
  namespace: string;
  /** Show live work of this task queue only; default: every task queue of the namespace. */
  liveTaskQueue?: string;
}

/** A bad parameter or store input: shown on the page, status 400. */
export function inputProblem(err: unknown): string | null {
  if (err instanceof ParamError) return err.message;
  if ((err as { type?: string }).type === 'InvalidInput') return (err as Error).message;
  return null;
}

export async function sessionsRoute(deps: ConsoleDeps, q: URLSearchParams): Promise<{ status: number; body: Html }> {
  let form: Record<string, string | string[]> = {};
  try {
    const f = sessionFilters(q);
    form = f.form;
    if (q.get('cursor')) form.cursor = q.get('cursor')!;
    const result: Page<SessionMetadata> = await deps.store.search(f.query);
    return { status: 200, body: sessionsPage(form, result, null) };
  } catch (err) {
    const problem = inputProblem(err);
    if (!problem) throw err;
    return { status: 400, body: sessionsPage(form, null, problem) };
  }
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

/** The session page; null when there is no such session. */
export async function sessionRoute(deps: ConsoleDeps, sessionId: string, notice: string | null = null): Promise<Html | null> {
  const loaded = await deps.store.loadSession(sessionId);
  if (!loaded.found) return null;
  const [lineage, runs, transcript, messages] = await Promise.all([
    deps.store.getLineage(sessionId),
    collect(deps.store.listRuns({ sessionId })),
    deps.store.loadTranscript(sessionId),
    collect(loaded.session.messages()),
  ]);
  const items = buildConversation({
    messages,
    runs: new Map(runs.map((r) => [r.runId, r])),
    prompts: transcript ? transcriptPrompts(Buffer.from(transcript).toString('utf8')) : [],
    forks: lineage.tree.children.map((c) => ({ sessionId: c.sessionId, forkedAtMessage: c.forkedAtMessage })),
  });
  return sessionPage({ metadata: loaded.session.metadata, lineage, runs, items, temporalUiUrl: deps.temporalUiUrl, namespace: deps.namespace, notice });
}

export async function costsRoute(deps: ConsoleDeps, q: URLSearchParams): Promise<{ status: number; body: Html }> {
  let form: Record<string, string | string[]> = { stack: 'tag' };
  try {
    const f = costFilters(q);
    form = f.form;
    const entries = deps.store.listRuns({ since: f.since, until: f.until, ...(f.tags.length ? { tags: f.tags } : {}) });
    const summary: CostSummary = await summarizeCosts(entries, { stack: f.stack, tags: f.tags });
    return { status: 200, body: costsPage(form, summary, null) };
  } catch (err) {
    const problem = inputProblem(err);
    if (!problem) throw err;
    return { status: 400, body: costsPage(form, null, problem) };
  }
}

async function runView(deps: ConsoleDeps, detail: LiveDetail): Promise<LiveRunView> {
  const steps = await Promise.all(
    detail.steps.map(async (s) => {
      // The heartbeat's count lags (heartbeats are throttled): start a little before it and keep the newest.
      const after = Math.max(0, s.messages - LIVE_TAIL - 1);
      const messages = s.runId ? await deps.store.messagesOfRun(s.runId, after, 1000) : [];
      const recent = messages.slice(-LIVE_TAIL);
      const run = new Map<string, RunLedgerEntry>();
      const tail = buildConversation({ messages: recent, runs: run }).filter((i) => i.kind !== 'run');
      return { sessionId: s.sessionId, runId: s.runId, attempt: s.attempt, messages: Math.max(s.messages, after + messages.length), spendUsd: s.spendUsd, tail };
    }),
  );
  return { detail, steps };
}

export async function liveView(deps: ConsoleDeps): Promise<LiveView> {
  const base = { temporalUiUrl: deps.temporalUiUrl, namespace: deps.namespace };
  if (!deps.client) return { ...base, runs: [], error: 'Temporal is not reachable: live work cannot be shown' };
  try {
    const client = deps.client;
    const running = await client.listRunning({ ...(deps.liveTaskQueue ? { taskQueue: deps.liveTaskQueue } : {}) });
    const details = (await Promise.all(running.map((w) => client.describeLive(w).catch(() => null)))).filter((d): d is LiveDetail => d !== null);
    return { ...base, runs: await Promise.all(details.map((d) => runView(deps, d))), error: null };
  } catch (err) {
    return { ...base, runs: [], error: `Could not read live work: ${(err as Error).message}` };
  }
}

export async function liveRoute(deps: ConsoleDeps): Promise<Html> {
  return livePage(await liveView(deps));
}

export async function liveFragmentHtml(deps: ConsoleDeps): Promise<string> {
  return liveFragment(await liveView(deps)).value;
}
