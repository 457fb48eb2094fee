/**
 * Processes as Linux shows them under /proc: one reader of `/proc/<pid>/stat`, and one rule for
 * whether a process runs (the runner's process trees, the local stack's servers).
 */
import { existsSync, readFileSync } from 'node:fs';

/** Whether there is a /proc to read; elsewhere a signal 0 is all there is to ask. */
export const HAS_PROC = existsSync('/proc/self/stat');

/**
 * The fields of `/proc/<pid>/stat` from the third on (state, ppid, ...: index = field number - 3),
 * or null when the process is gone or there is no /proc.
 */
export function procStat(pid: number | 'self'): string[] | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Counted from after the `(comm)`, which may itself hold spaces or parentheses.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

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
  const fields = procStat(pid);
  return fields !== null && fields[0] !== 'Z';
}
