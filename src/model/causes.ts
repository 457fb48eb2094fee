/**
 * Walking an error's chain of causes (ActivityFailure → ApplicationFailure →
 * ...): the one place that reads `type` and `message` along it. Pure module.
 */
import { isFailureType, type FailureType } from './failures.js';

/** Links followed at most: a cycle of causes must not hang the walk. */
const MAX_LINKS = 10;

/** The error and its causes, outermost first. */
export function causeChain(err: unknown): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (let e: unknown = err; typeof e === 'object' && e !== null && out.length < MAX_LINKS; e = (e as { cause?: unknown }).cause) {
    out.push(e as Record<string, unknown>);
  }
  return out;
}

/** The project failure type of an error: the first `type` along its causes that is one. */
export function failureTypeOf(err: unknown): FailureType | null {
  for (const e of causeChain(err)) if (isFailureType(e.type)) return e.type;
  return null;
}

/** The innermost non-empty message in a chain of causes, for reports. */
export function innermostMessage(err: unknown): string {
  let message = err instanceof Error ? err.message : String(err);
  for (const e of causeChain(err)) if (typeof e.message === 'string' && e.message) message = e.message;
  return message;
}

/** The `sessionId` a failure's details carry (the step activity sets it once the session is stored), else null. */
export function failureSessionIdOf(err: unknown): string | null {
  for (const e of causeChain(err)) {
    const id = Array.isArray(e.details) ? (e.details[0] as { sessionId?: unknown } | undefined)?.sessionId : undefined;
    if (typeof id === 'string') return id;
  }
  return null;
}
