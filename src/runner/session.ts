/**
 * Helpers over the messages of a session, possibly concatenated from several
 * runs (query, then resumes and forks). Each takes what users have: the
 * runner's `{ type, data }` records (`parseLine`, `parseText`), the CLI's
 * JSON lines as plain parsed objects, or the stored messages as
 * `sessions show --messages --json` prints them (`{ runId, seq, message }`).
 */
import { resultSpend, roundUsd } from '../model/cost.js';
import { assistantText, summaryOf } from '../model/messages.js';
import { type ParsedLine, type ResultData } from './parser.js';

const SYNTHETIC_MODEL = '<synthetic>';

/** A message as the helpers take it: a runner record, a parsed CLI line or a stored message as the CLI prints it. */
export type SessionMessage = ParsedLine | { type?: unknown; [key: string]: unknown };

type Line = { type?: unknown; subtype?: unknown; session_id?: unknown; model?: unknown; message?: { model?: unknown } };

function isObject(value: unknown): value is object {
  return typeof value === 'object' && value !== null;
}

/** The CLI line itself: a record's `data` (records carry their `raw` text), a stored message's `message`, else the object. */
function lineOf(m: SessionMessage): Line {
  const o = m as { data?: unknown; raw?: unknown; runId?: unknown; seq?: unknown; message?: unknown };
  if (typeof o.raw === 'string' && isObject(o.data)) return o.data as Line;
  if (typeof o.runId === 'string' && typeof o.seq === 'number' && isObject(o.message)) return o.message as Line;
  return o as Line;
}

/** The latest run's session id: its `system/init`, else the latest `result`; null when none said. */
export function extractSessionId(messages: readonly SessionMessage[]): string | null {
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = lineOf(messages[i]!);
    if (m.type === 'system' && m.subtype === 'init' && typeof m.session_id === 'string') return m.session_id;
    if (m.type === 'result' && typeof m.session_id === 'string') return m.session_id;
  }
  return null;
}

/**
 * What the messages' runs spent, USD: the sum of each result's own spend (its
 * since-last-result figure, or the process total of older CLIs), so a resumed
 * or forked lineage is never counted twice.
 */
export function calculateCost(messages: readonly SessionMessage[]): number {
  let total = 0;
  for (const result of resultsOf(messages)) total += resultSpend(result).costUsd;
  return roundUsd(total);
}

/** The number of assistant messages. */
export function countTurns(messages: readonly SessionMessage[]): number {
  let n = 0;
  for (const m of messages) if (lineOf(m).type === 'assistant') n++;
  return n;
}

/** The latest run's model (`system/init`), else the latest model that answered; null when none. */
export function extractModel(messages: readonly SessionMessage[]): string | null {
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = lineOf(messages[i]!);
    if (m.type === 'system' && m.subtype === 'init' && typeof m.model === 'string') return m.model;
    const model = m.type === 'assistant' ? m.message?.model : undefined;
    if (typeof model === 'string' && model !== SYNTHETIC_MODEL) return model;
  }
  return null;
}

/** The first assistant text (API error messages excluded), cut to 200 characters; '' when none. */
export function getSummary(messages: readonly SessionMessage[]): string {
  for (const m of messages) {
    const line = lineOf(m);
    const text = line.type === 'assistant' ? assistantText(line) : null;
    if (text) return summaryOf(text);
  }
  return '';
}

/** The result messages, oldest first. */
export function resultsOf(messages: readonly SessionMessage[]): ResultData[] {
  const out: ResultData[] = [];
  for (const m of messages) {
    const line = lineOf(m);
    if (line.type === 'result') out.push(line as ResultData);
  }
  return out;
}
