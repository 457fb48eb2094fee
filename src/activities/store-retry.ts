/**
 * Store calls of a step: an outage is waited out with capped backoff for as
 * long as the step's own timeout allows, heartbeating meanwhile, instead of
 * failing the step (and its pipeline) after the driver's first timeout.
 */
import { type Info } from '@temporalio/activity';
import { CancelledFailure } from '@temporalio/common';
import { toApplicationFailure } from './failures.js';

const FIRST_DELAY_MS = 250;
/** Store calls stop retrying this long before the attempt's own deadline, to record how it ended. */
const DEADLINE_MARGIN_MS = 10_000;
const MAX_DELAY_MS = 5_000;

export interface StoreRetryOptions {
  /** Give up (rethrow `StoreUnavailable`) after this instant, epoch ms. */
  deadline: number;
  /** Stops the waiting (the step was cancelled). */
  signal?: AbortSignal;
  /** Called before each wait: the step heartbeats here so Temporal knows it is alive. */
  onRetry?: (error: unknown, attempt: number) => void;
}

/** When an attempt's store retries must give up: its start-to-close deadline, less a margin. */
export function attemptDeadline(info: Info): number {
  const start = info.currentAttemptScheduledTimestampMs || Date.now();
  return start + (info.startToCloseTimeoutMs || 3_600_000) - DEADLINE_MARGIN_MS;
}

/** A call wrapper: retries `StoreUnavailable`, maps every other error to an `ApplicationFailure`. */
export function storeCaller(options: StoreRetryOptions) {
  return async function call<T>(fn: () => Promise<T>): Promise<T> {
    let delay = FIRST_DELAY_MS;
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (err) {
        if (!isStoreUnavailable(err) || Date.now() + delay > options.deadline) throw toApplicationFailure(err);
        if (options.signal?.aborted) throw new CancelledFailure('Step cancelled while the store was unavailable');
        options.onRetry?.(err, attempt);
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(MAX_DELAY_MS, delay * 2);
      }
    }
  };
}

function isStoreUnavailable(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { type?: unknown }).type === 'StoreUnavailable';
}
