/** A process's name as the tests look for it (whether one runs: `src/processes.ts`; its descendants: `src/runner/process-tree.ts`). */
import { readFileSync } from 'node:fs';

/** The process's command name, or null once it is gone. */
export function commOf(pid: number): string | null {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return null;
  }
}
