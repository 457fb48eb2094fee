/** Pure helpers shared by the workflows. */
import { isFailureType, type FailureType } from '../model/failures.js';

/** The project failure type of an error, read from `type` along its causes (ActivityFailure → ApplicationFailure). */
export function failureTypeOf(err: unknown): FailureType | null {
  for (let e: unknown = err; typeof e === 'object' && e !== null; e = (e as { cause?: unknown }).cause) {
    const type = (e as { type?: unknown }).type;
    if (isFailureType(type)) return type;
  }
  return null;
}

/** The innermost message in a chain of causes, for reports. */
export function messageOf(err: unknown): string {
  let message = String(err);
  for (let e: unknown = err; typeof e === 'object' && e !== null; e = (e as { cause?: unknown }).cause) {
    const m = (e as { message?: unknown }).message;
    if (typeof m === 'string' && m) message = m;
  }
  return message;
}
