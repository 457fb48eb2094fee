/** How failures cross the activity boundary: an `ApplicationFailure` whose `type` is a `FailureType`. */
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { ClaudeTemporalError, type FailureType } from '../model/failures.js';

/**
 * Runs `fn` so that what it throws crosses the activity boundary typed: a project error keeps its
 * type (store trouble is `StoreUnavailable`, retryable; rejected input `InvalidInput`), anything else is `Crashed`.
 */
export async function withTypedFailures<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw toApplicationFailure(err);
  }
}

export function toApplicationFailure(err: unknown): Error {
  if (err instanceof ApplicationFailure || err instanceof CancelledFailure) return err;
  if (err instanceof ClaudeTemporalError) {
    return ApplicationFailure.create({ type: err.type, message: err.message, nonRetryable: !err.retryable, cause: err, details: [err.evidence] });
  }
  return ApplicationFailure.create({ type: 'Crashed', message: err instanceof Error ? err.message : String(err), cause: err instanceof Error ? err : undefined });
}

/** A failure no retry can mend. */
export function nonRetryable(type: FailureType, message: string): ApplicationFailure {
  return ApplicationFailure.create({ type, message, nonRetryable: true });
}

/** The failure with the step's session id in its details: the session is stored, so reports can name it. */
export function withSessionId(failure: Error, sessionId: string): Error {
  if (!(failure instanceof ApplicationFailure)) return failure;
  const first = (failure.details?.[0] ?? {}) as Record<string, unknown>;
  return ApplicationFailure.create({
    type: failure.type ?? 'Crashed',
    message: failure.message,
    nonRetryable: failure.nonRetryable ?? false,
    cause: failure.cause,
    details: [{ ...first, sessionId }],
  });
}
