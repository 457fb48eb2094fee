/** A running step's progress as it heartbeats it: what was stored, and what the attempt has spent so far. */
import { assistantText, summaryOf } from '../model/messages.js';
import { type StepHeartbeat } from '../model/workflow.js';
import { type StreamedMessage } from './index.js';
import { type SpendSoFar } from './spend.js';

export function newProgress(runId: string, sessionId: string): StepHeartbeat {
  return {
    runId,
    sessionId,
    messages: 0,
    assistantMessages: 0,
    requests: 0,
    inputTokens: 0,
    outputTokens: 0,
    cacheReadInputTokens: 0,
    cacheCreationInputTokens: 0,
    model: null,
    spendUsd: 0,
    summary: null,
    waitingFor: null,
    failure: null,
  };
}

/** The spend so far, as heartbeat fields. */
export function spendFields(s: SpendSoFar): Partial<StepHeartbeat> {
  return {
    requests: s.requests,
    inputTokens: s.inputTokens,
    outputTokens: s.outputTokens,
    cacheReadInputTokens: s.cacheReadInputTokens,
    cacheCreationInputTokens: s.cacheCreationInputTokens,
    model: s.model,
    spendUsd: s.spendUsd,
  };
}

/** A stored line: counted, and the first assistant text kept as the step's summary. */
export function noteLine(progress: StepHeartbeat, m: StreamedMessage): void {
  progress.messages += 1;
  if (m.type !== 'assistant') return;
  progress.assistantMessages = (progress.assistantMessages ?? 0) + 1;
  if (progress.summary !== null) return;
  const text = assistantText(m.data);
  if (text) progress.summary = summaryOf(text);
}
