/** Whether a process runs: one rule for the runner's process trees and the local stack's servers. */
import { existsSync, readFileSync } from 'node:fs';

/** Linux shows a process's state under /proc; elsewhere a signal 0 is all there is to ask. */
const HAS_PROC = existsSync('/proc/self/stat');

/**
 * Whether `pid` runs: it exists (ours or another user's) and is not a zombie, one that exited and
 * waits to be reaped by its parent. An orphan waits for pid 1, which in some containers never reaps.
 */
export function processRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as { code?: string }).code !== 'EPERM') return false;
  }
  if (!HAS_PROC) return true;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The state follows the `(comm)`, which may itself hold spaces or parentheses.
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}
