/**
 * Helpers over the parsed messages of a session, possibly concatenated from
 * several runs (query, then resumes and forks).
 */
import { resultSpend, roundUsd } from './cost.js';
import { type ParsedLine, type ResultData } from './parser.js';

const SUMMARY_CHARS = 200;
const SYNTHETIC_MODEL = '<synthetic>';

/** The latest run's session id: its `system/init`, else the latest `result`; null when none said. */
export function extractSessionId(messages: readonly ParsedLine[]): string | null {
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i];
    if (m?.type === 'system' && m.data.subtype === 'init' && typeof m.data.session_id === 'string') return m.data.session_id;
    if (m?.type === 'result' && typeof m.data.session_id === 'string') return m.data.session_id;
  }
  return null;
}

/**
 * What the messages' runs spent, USD: the sum of each result's own spend (its
 * since-last-result figure, or the process total of older CLIs), so a resumed
 * or forked lineage is never counted twice.
 */
export function calculateCost(messages: readonly ParsedLine[]): number {
  let total = 0;
  for (const m of messages) if (m.type === 'result') total += resultSpend(m.data).costUsd;
  return roundUsd(total);
}

/** The number of assistant messages. */
export function countTurns(messages: readonly ParsedLine[]): number {
  let n = 0;
  for (const m of messages) if (m.type === 'assistant') n++;
  return n;
}

/** The latest run's model (`system/init`), else the latest model that answered; null when none. */
export function extractModel(messages: readonly ParsedLine[]): string | null {
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i];
    if (m?.type === 'system' && m.data.subtype === 'init' && typeof m.data.model === 'string') return m.data.model;
    if (m?.type === 'assistant' && typeof m.data.message.model === 'string' && m.data.message.model !== SYNTHETIC_MODEL) return m.data.message.model;
  }
  return null;
}

/** The first assistant text (API error messages excluded), cut to 200 characters; '' when none. */
export function getSummary(messages: readonly ParsedLine[]): string {
  for (const m of messages) {
    if (m.type !== 'assistant' || m.data.is_api_error_message === true) continue;
    const content = Array.isArray(m.data.message.content) ? m.data.message.content : [];
    const text = content.find((b) => b.type === 'text' && typeof b.text === 'string' && b.text.length > 0)?.text;
    if (text) return text.slice(0, SUMMARY_CHARS);
  }
  return '';
}

/** The result messages, oldest first. */
export function resultsOf(messages: readonly ParsedLine[]): ResultData[] {
  const out: ResultData[] = [];
  for (const m of messages) if (m.type === 'result') out.push(m.data);
  return out;
}
