/**
 * The one closed union of failure types used across the project. Activities
 * throw `ApplicationFailure` with one of these as `type`; workflows and the CLI
 * branch on the string, never on `instanceof`.
 *
 * Pure module: no Node built-ins, so workflows may import it.
 */
export const FAILURE_TYPES = [
  'InvalidInput',
  'ClaudeBinaryMissing',
  'SessionNotFound',
  'SessionIdInUse',
  'ClaudeAuthError',
  'ClaudeBadRequest',
  'RateLimited',
  'Overloaded',
  'ServerError',
  'MaxTurnsReached',
  'BudgetExceeded',
  'TimedOut',
  'Cancelled',
  'Crashed',
  'MalformedOutput',
  'StoreUnavailable',
  'SessionBusy',
] as const;

export type FailureType = (typeof FAILURE_TYPES)[number];

/** Whether the durable layer should retry a failure of this type. */
export const RETRYABLE: Readonly<Record<FailureType, boolean>> = {
  InvalidInput: false,
  ClaudeBinaryMissing: false,
  SessionNotFound: false,
  // The step activity clears a stale local transcript before it retries.
  SessionIdInUse: true,
  ClaudeAuthError: false,
  ClaudeBadRequest: false,
  RateLimited: true,
  Overloaded: true,
  ServerError: true,
  // Outcomes a pipeline acts on, not faults: repeating the run would end the same way.
  MaxTurnsReached: false,
  BudgetExceeded: false,
  TimedOut: true,
  Cancelled: false,
  Crashed: true,
  MalformedOutput: false,
  StoreUnavailable: true,
  // Another run holds the session; trying again later works.
  SessionBusy: true,
};

/** Failure types that the durable layer never retries, for `RetryPolicy.nonRetryableErrorTypes`. */
export const NON_RETRYABLE_TYPES: FailureType[] = FAILURE_TYPES.filter((t) => !RETRYABLE[t]);

export function isFailureType(value: unknown): value is FailureType {
  return typeof value === 'string' && (FAILURE_TYPES as readonly string[]).includes(value);
}

/** What a failure carries besides its type: the facts that led to the classification. */
export interface FailureEvidence {
  /** HTTP status of the API error, when there was one. */
  status?: number;
  /** `errors[]` of the CLI's result message. */
  errors?: string[];
  /** The last lines the CLI wrote on stderr. */
  stderrTail?: string;
  exitCode?: number | null;
  signal?: string | null;
  /** The input field that was rejected (InvalidInput). */
  field?: string;
}

/** An error of the project: a failure type, a message, retryability and evidence. */
export class ClaudeTemporalError extends Error {
  readonly type: FailureType;
  readonly retryable: boolean;
  readonly evidence: FailureEvidence;

  constructor(type: FailureType, message: string, evidence: FailureEvidence = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ClaudeTemporalError';
    this.type = type;
    this.retryable = RETRYABLE[type];
    this.evidence = evidence;
  }
}

/** Bad input, naming the field: thrown before anything runs or is written. */
export function invalidInput(field: string, problem: string): ClaudeTemporalError {
  return new ClaudeTemporalError('InvalidInput', `Invalid ${field}: ${problem}`, { field });
}
