/**
 * Exit codes of the CLI and the mapping of any error to one of them. Errors
 * are recognised by their `type`, `code` or `name` strings, never `instanceof`
 * (the CLI may load two copies of a library, and the rule says so).
 */
import { causeChain, innermostMessage } from '../model/causes.js';
import { isFailureType } from '../model/failures.js';

export const EXIT = {
  ok: 0,
  other: 1,
  usage: 2,
  failedRun: 3,
  unavailable: 4,
  /** The run was cancelled (by `cancel`, a second Ctrl-C or `--cancel-on-interrupt`). */
  cancelled: 5,
  /** Ctrl-C detached from a run that goes on. */
  detached: 130,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** An error the CLI raises itself, with its exit code. */
export class CliError extends Error {
  readonly exitCode: ExitCode;
  readonly field: string | undefined;
  readonly kind: string;

  constructor(message: string, exitCode: ExitCode, options: { field?: string; kind?: string; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = 'CliError';
    this.exitCode = exitCode;
    this.field = options.field;
    this.kind = options.kind ?? (exitCode === EXIT.usage ? 'InvalidInput' : exitCode === EXIT.unavailable ? 'Unavailable' : 'Error');
  }
}

export const usageError = (field: string, problem: string) => new CliError(`Invalid ${field}: ${problem}`, EXIT.usage, { field });
/** Run a model or store check under a flag's name: its `InvalidInput` is rethrown naming `flag`. */
export function asFlag<T>(flag: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if ((err as { type?: string }).type === 'InvalidInput') throw usageError(flag, (err as Error).message.replace(/^Invalid [^:]+: /, ''));
    throw err;
  }
}

export const unavailable = (message: string, cause?: unknown) => new CliError(message, EXIT.unavailable, { cause });

export interface ClassifiedError {
  exitCode: ExitCode;
  /** A failure type, `Unavailable`, `InvalidInput`, `NotFound` or `Error`. */
  type: string;
  message: string;
  field?: string;
}

const GRPC_INVALID_ARGUMENT = 3;
const GRPC_UNAVAILABLE = 14;
const GRPC_DEADLINE_EXCEEDED = 4;
const MONGO_UNAVAILABLE_NAMES = ['MongoServerSelectionError', 'MongoNetworkError', 'MongoNetworkTimeoutError', 'MongoNotConnectedError', 'MongoTopologyClosedError'];

/** The exit code, type and message of any error the CLI meets. */
export function classify(err: unknown): ClassifiedError {
  const links = causeChain(err);
  const first = links[0] ?? {};
  const message = err instanceof Error ? err.message : String(err);
  if (first.name === 'CliError') {
    const e = err as CliError;
    return { exitCode: e.exitCode, type: e.kind, message, ...(e.field ? { field: e.field } : {}) };
  }
  // A Temporal connection that cannot be made, or a server that stopped answering.
  for (const e of links) {
    if (e.code === GRPC_UNAVAILABLE || (e.code === GRPC_DEADLINE_EXCEEDED && links.length > 0 && /connect/i.test(String(e.details ?? e.message)))) {
      return { exitCode: EXIT.unavailable, type: 'Unavailable', message: `Temporal server unavailable: ${innermostMessage(err)}` };
    }
    if (e.code === GRPC_INVALID_ARGUMENT && typeof e.details === 'string') {
      return { exitCode: EXIT.usage, type: 'InvalidInput', message: `Rejected by the Temporal server: ${e.details}` };
    }
    if (typeof e.name === 'string' && MONGO_UNAVAILABLE_NAMES.includes(e.name)) {
      return { exitCode: EXIT.unavailable, type: 'Unavailable', message: `MongoDB unavailable: ${innermostMessage(err)}` };
    }
  }
  if (first.type === 'StoreUnavailable') return { exitCode: EXIT.unavailable, type: 'Unavailable', message };
  if (first.type === 'InvalidInput') {
    const field = (first.evidence as { field?: string } | undefined)?.field;
    return { exitCode: EXIT.usage, type: 'InvalidInput', message, ...(field ? { field } : {}) };
  }
  // A cancelled workflow (or step): its own outcome, not a failure.
  if (links.some((e) => e.name === 'CancelledFailure' || e.type === 'Cancelled')) {
    return { exitCode: EXIT.cancelled, type: 'Cancelled', message: innermostMessage(err) };
  }
  // A workflow that failed: its cause carries the failure type of the step.
  if (first.name === 'WorkflowFailedError' || first.name === 'WorkflowUpdateFailedError') {
    const typed = links.find((e) => isFailureType(e.type));
    return { exitCode: EXIT.failedRun, type: typed ? String(typed.type) : 'WorkflowFailed', message: innermostMessage(err) };
  }
  if (isFailureType(first.type)) return { exitCode: EXIT.failedRun, type: first.type, message };
  if (first.name === 'WorkflowNotFoundError') return { exitCode: EXIT.other, type: 'NotFound', message };
  return { exitCode: EXIT.other, type: 'Error', message };
}
