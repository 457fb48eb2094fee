/**
 * Classifies how a run ended into a {@link RunStatus} and, on failure, one of
 * the closed {@link FailureType}s with its evidence. Pure: it sees only facts.
 */
import { RETRYABLE, type FailureEvidence, type FailureType } from '../model/failures.js';
import { type MalformedLine, type ResultData } from './parser.js';
import { type RunFailure, type RunStatus } from '../model/run.js';

/** What the runner observed about one run. */
export interface RunFacts {
  /** The last `result` message, if any. */
  result?: ResultData;
  exitCode: number | null;
  signal: string | null;
  stderrTail: string;
  timedOut: boolean;
  cancelled: boolean;
  /** The first malformed stdout line, if any. */
  malformed?: MalformedLine;
  /** The output ended inside a line (no trailing newline): the child died mid-write. */
  truncatedTail?: boolean;
  /** `error_status` of the last `system/api_retry` line, if any. */
  lastRetryStatus?: number | null;
  /** Session ids of `system/init` and `result` when they differ. */
  sessionMismatch?: { init: string; result: string };
}

export interface Classification {
  status: RunStatus;
  failure?: RunFailure;
}

/** The budget subtype of 2.1.330 (`--max-budget-usd`); any `*budget*` subtype is treated alike. */
export const BUDGET_SUBTYPE = 'error_max_budget_usd';
export const MAX_TURNS_SUBTYPE = 'error_max_turns';

const CLI_USAGE_ERROR = /cannot be used with root|^error: (unknown option|option '|missing required argument|too many arguments)/im;

function failure(type: FailureType, message: string, evidence: FailureEvidence): RunFailure {
  return { type, message, retryable: RETRYABLE[type], evidence };
}

/** The failure type of an HTTP status from the API. */
export function failureTypeForStatus(status: number): FailureType {
  if (status === 401 || status === 403) return 'ClaudeAuthError';
  if (status === 429) return 'RateLimited';
  if (status === 529) return 'Overloaded';
  if (status >= 500) return 'ServerError';
  return 'ClaudeBadRequest';
}

function firstLine(text: string): string {
  return text.trim().split('\n')[0]?.slice(0, 500) ?? '';
}

export function classifyRun(facts: RunFacts): Classification {
  const { result } = facts;
  const errors = Array.isArray(result?.errors) ? result.errors.filter((e): e is string => typeof e === 'string') : undefined;
  const apiStatus = typeof result?.api_error_status === 'number' ? result.api_error_status : undefined;
  const evidence: FailureEvidence = {
    exitCode: facts.exitCode,
    signal: facts.signal,
    stderrTail: facts.stderrTail,
    ...(errors && errors.length > 0 ? { errors } : {}),
    ...(apiStatus !== undefined ? { status: apiStatus } : {}),
  };
  const failed = (type: FailureType, message: string, status: RunStatus = 'failed', extra: FailureEvidence = {}): Classification => ({
    status,
    failure: failure(type, message, { ...evidence, ...extra }),
  });

  if (facts.cancelled) return failed('Cancelled', 'Run was cancelled');
  if (facts.timedOut) return failed('TimedOut', 'Run timed out');
  if (facts.malformed) {
    const m = facts.malformed;
    return failed('MalformedOutput', `Malformed output on line ${m.lineNumber} (${m.reason}): ${m.error}`);
  }
  if (facts.sessionMismatch) {
    return failed('MalformedOutput', `Result session id ${facts.sessionMismatch.result} differs from init session id ${facts.sessionMismatch.init}`);
  }
  const text = [...(errors ?? []), facts.stderrTail].join('\n');
  if (result) {
    if (result.subtype === MAX_TURNS_SUBTYPE) return failed('MaxTurnsReached', errors?.[0] ?? 'Reached the maximum number of turns', 'max_turns');
    if (result.subtype === BUDGET_SUBTYPE || /budget/i.test(result.subtype)) {
      return failed('BudgetExceeded', errors?.[0] ?? 'Reached the maximum budget', 'budget_exceeded');
    }
    if (result.is_error) {
      if (apiStatus !== undefined) {
        return failed(failureTypeForStatus(apiStatus), firstLine(typeof result.result === 'string' ? result.result : `API error ${apiStatus}`) || `API error ${apiStatus}`);
      }
      if (/No conversation found/i.test(text)) return failed('SessionNotFound', firstLine(errors?.[0] ?? 'No conversation found'));
      if (/already in use/i.test(text)) return failed('SessionIdInUse', firstLine(text));
      return failed('Crashed', firstLine(errors?.[0] ?? (typeof result.result === 'string' ? result.result : '')) || `Run ended with error subtype ${result.subtype}`);
    }
    return { status: 'success' };
  }
  // No result: the CLI stopped before it could say how the run ended.
  if (/already in use/i.test(facts.stderrTail)) return failed('SessionIdInUse', firstLine(facts.stderrTail.replace(/^Error:\s*/, '')));
  if (/No conversation found/i.test(facts.stderrTail)) return failed('SessionNotFound', firstLine(facts.stderrTail));
  if (facts.signal) return failed('Crashed', `Claude was killed by ${facts.signal}`);
  if (facts.truncatedTail) return failed('Crashed', `Claude exited with code ${String(facts.exitCode)} in the middle of a line`);
  if (facts.exitCode !== 0 && CLI_USAGE_ERROR.test(facts.stderrTail)) return failed('InvalidInput', firstLine(facts.stderrTail));
  if (typeof facts.lastRetryStatus === 'number') {
    const status = facts.lastRetryStatus;
    return failed(failureTypeForStatus(status), `Claude exited without a result after API error ${status}`, 'failed', { status });
  }
  return failed('Crashed', `Claude exited with code ${String(facts.exitCode)} without a result`);
}
