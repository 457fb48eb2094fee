/**
 * What a running attempt has spent so far, from what it was seen to send and
 * receive: with `--include-partial-messages` the CLI prints `message_start`
 * (the request's input tokens, before any content) and `message_delta` (the
 * output tokens so far) for every API request. If the attempt is lost, this is
 * what its ledger entry records, marked as an estimate; when the run completes
 * the CLI's own figure replaces it.
 */
import { type ModelUsage } from '../model/run.js';

/** List price per million tokens used for estimates (a Sonnet-class model): input, output, cache read, cache write. */
export const ESTIMATE_PRICE_PER_MTOK = { input: 3, output: 15, cacheRead: 0.3, cacheCreation: 3.75 } as const;

export interface SpendSoFar {
  /** API requests started (one `message_start` each). */
  requests: number;
  inputTokens: number;
  cacheReadInputTokens: number;
  cacheCreationInputTokens: number;
  outputTokens: number;
  /** Output tokens of the request in flight, counted in `outputTokens` already. */
  currentOutput: number;
  /** The model the requests went to, as the API named it; null until known. */
  model: string | null;
  /** Whether partial-message events were seen (else assistant messages' usage is counted). */
  partial: boolean;
  spendUsd: number;
}

export function emptySpend(): SpendSoFar {
  return { requests: 0, inputTokens: 0, cacheReadInputTokens: 0, cacheCreationInputTokens: 0, outputTokens: 0, currentOutput: 0, model: null, partial: false, spendUsd: 0 };
}

const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : 0);

type Usage = Record<string, unknown>;

/** Counts one CLI line into the spend so far. */
export function countLine(s: SpendSoFar, type: string, data: Record<string, unknown>): void {
  if (type === 'stream_event') {
    const event = data.event as { type?: string; message?: { model?: unknown; usage?: Usage }; usage?: Usage } | undefined;
    if (event?.type === 'message_start') {
      s.partial = true;
      s.requests += 1;
      addInput(s, event.message?.usage ?? {});
      s.currentOutput = num(event.message?.usage?.output_tokens);
      s.outputTokens += s.currentOutput;
      if (typeof event.message?.model === 'string' && event.message.model !== '<synthetic>') s.model = event.message.model;
    } else if (event?.type === 'message_delta') {
      // Cumulative for its message: add what is new.
      const out = num(event.usage?.output_tokens);
      if (out > s.currentOutput) {
        s.outputTokens += out - s.currentOutput;
        s.currentOutput = out;
      }
    }
  } else if (type === 'assistant' && !s.partial) {
    const message = data.message as { model?: unknown; usage?: Usage } | undefined;
    addInput(s, message?.usage ?? {});
    s.outputTokens += num(message?.usage?.output_tokens);
    if (typeof message?.model === 'string' && message.model !== '<synthetic>') s.model = message.model;
  } else {
    return;
  }
  s.spendUsd = priceOf(s);
}

function addInput(s: SpendSoFar, usage: Usage): void {
  s.inputTokens += num(usage.input_tokens);
  s.cacheReadInputTokens += num(usage.cache_read_input_tokens);
  s.cacheCreationInputTokens += num(usage.cache_creation_input_tokens);
}

function priceOf(s: SpendSoFar): number {
  const p = ESTIMATE_PRICE_PER_MTOK;
  const microUsd = s.inputTokens * p.input + s.outputTokens * p.output + s.cacheReadInputTokens * p.cacheRead + s.cacheCreationInputTokens * p.cacheCreation;
  // Whole pico-dollars: the estimate is a figure of its own, not a float sum.
  return Math.round(microUsd * 1e6) / 1e12;
}

/** The estimate as ledger usage: under the model the API named, or none when no request got that far. */
export function estimatedUsage(s: Pick<SpendSoFar, 'model' | 'inputTokens' | 'outputTokens' | 'cacheReadInputTokens' | 'cacheCreationInputTokens' | 'spendUsd'>): Record<string, ModelUsage> {
  if (!s.model) return {};
  return {
    [s.model]: {
      inputTokens: s.inputTokens,
      outputTokens: s.outputTokens,
      cacheReadInputTokens: s.cacheReadInputTokens,
      cacheCreationInputTokens: s.cacheCreationInputTokens,
      costUSD: s.spendUsd,
    },
  };
}
