/** How driver errors reach callers: "not now" becomes `StoreUnavailable`, the rest passes through. */
import {
  MongoError,
  MongoNetworkError,
  MongoNotConnectedError,
  MongoServerError,
  MongoServerSelectionError,
  MongoTopologyClosedError,
} from 'mongodb';
import { ClaudeTemporalError } from '../model/failures.js';

// Server codes that mean "not now" rather than "never": shutdown, failover, network.
const TRANSIENT_CODES = new Set([6, 7, 89, 91, 189, 262, 9001, 10107, 11600, 11602, 13435, 13436]);
const TRANSIENT_LABELS = ['RetryableWriteError', 'ResetPool', 'RetryableError', 'SystemOverloadedError'];

function isUnavailable(error: unknown, depth = 0): boolean {
  if (depth > 4 || typeof error !== 'object' || error === null) return false;
  if (
    error instanceof MongoNetworkError ||
    error instanceof MongoServerSelectionError ||
    error instanceof MongoTopologyClosedError ||
    error instanceof MongoNotConnectedError
  ) {
    return true;
  }
  if (error instanceof MongoError) {
    for (const label of TRANSIENT_LABELS) if (error.hasErrorLabel(label)) return true;
    if (typeof error.code === 'number' && TRANSIENT_CODES.has(error.code)) return true;
  }
  // A bulk write that failed to reach the server wraps the network error.
  const e = error as { cause?: unknown; errorResponse?: unknown };
  return isUnavailable(e.errorResponse, depth + 1) || isUnavailable(e.cause, depth + 1);
}

export function mapError(error: unknown): unknown {
  if (error instanceof ClaudeTemporalError) return error;
  if (isUnavailable(error)) {
    const message = error instanceof Error ? error.message : String(error);
    return new ClaudeTemporalError('StoreUnavailable', `Session store unavailable: ${message}`, {}, { cause: error });
  }
  return error;
}

/** Runs a store operation, mapping driver trouble to `StoreUnavailable`. */
export async function guard<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw mapError(error);
  }
}

export function isDuplicateKey(error: unknown): boolean {
  return error instanceof MongoServerError && error.code === 11000;
}

export function isNamespaceNotFound(error: unknown): boolean {
  return error instanceof MongoServerError && error.code === 26;
}

export function notFound(sessionId: string): ClaudeTemporalError {
  return new ClaudeTemporalError('SessionNotFound', `Session ${sessionId} not found`);
}
