/** A running step's progress as it heartbeats it, and what a lost attempt is charged from it. */
import { roundUsd } from '../model/formats.js';
import { assistantText, summaryOf } from '../model/messages.js';
import { type ModelUsage } from '../model/run.js';
import { type StepHeartbeat } from '../model/workflow.js';
import { type StreamedMessage } from './index.js';

export function newProgress(runId: string, sessionId: string): StepHeartbeat {
  return { runId, sessionId, messages: 0, inputTokens: 0, outputTokens: 0, spendUsd: 0, summary: null };
}

/** Token counts of assistant messages, and a rough price, for a lost attempt's heartbeat. */
export function accumulate(progress: StepHeartbeat, m: StreamedMessage): void {
  progress.messages += 1;
  if (m.type !== 'assistant') return;
  const message = m.data.message as { usage?: Record<string, unknown> } | undefined;
  const text = progress.summary === null ? assistantText(m.data) : null;
  if (text) progress.summary = summaryOf(text);
  const usage = message?.usage ?? {};
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
  progress.inputTokens += num(usage.input_tokens) + num(usage.cache_creation_input_tokens) + num(usage.cache_read_input_tokens);
  progress.outputTokens += num(usage.output_tokens);
  // List price of a Sonnet-class model; the CLI's own figure replaces this when the run completes.
  progress.spendUsd = roundUsd((progress.inputTokens * 3 + progress.outputTokens * 15) / 1e6);
}

export function estimatedUsage(hb: StepHeartbeat): ModelUsage {
  return { inputTokens: hb.inputTokens, outputTokens: hb.outputTokens, cacheReadInputTokens: 0, cacheCreationInputTokens: 0, costUSD: hb.spendUsd };
}
