/**
 * Killing a run's whole process tree. The child is spawned detached (its own process group), and
 * the CLI's own children may leave that group, so a kill signals the group and every descendant
 * found under `/proc` at that moment: SIGTERM first, SIGKILL after a delay, and a last SIGKILL
 * sweep once the leader has exited (stragglers do not outlive the run).
 */
import { readdirSync } from 'node:fs';
import { procStat, processRunning } from '../processes.js';

/** The execa options that make the child a group leader and let execa escalate to SIGKILL too. */
export function treeKillOptions(killDelayMs: number): { detached: true; forceKillAfterDelay: number; killSignal: 'SIGTERM' } {
  return { detached: true, forceKillAfterDelay: killDelayMs, killSignal: 'SIGTERM' };
}

/** Pids of every descendant of `pid` (Linux /proc; empty elsewhere). Synchronous: taken before any signal, while the tree is intact. */
export function descendants(pid: number): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  const children = new Map<number, number[]>();
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    const fields = procStat(Number(e));
    // Null: the process ended while we looked.
    if (fields === null) continue;
    const ppid = Number(fields[1]);
    const list = children.get(ppid) ?? [];
    list.push(Number(e));
    children.set(ppid, list);
  }
  const out: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const p = queue.shift() as number;
    for (const c of children.get(p) ?? []) {
      out.push(c);
      queue.push(c);
    }
  }
  return out;
}

function signalTree(pgid: number, pids: readonly number[], signal: NodeJS.Signals): void {
  const tryKill = (target: number): void => {
    try {
      process.kill(target, signal);
    } catch {
      // Already gone.
    }
  };
  tryKill(-pgid);
  for (const p of pids) tryKill(p);
}

/** The tree of one group leader: `terminate` on cancel or timeout, `sweep` once the leader has exited. */
export class ProcessTree {
  private pids: number[] = [];
  private forceTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly leader: number,
    private readonly killDelayMs: number,
  ) {}

  /** SIGTERM to the group and its descendants now, SIGKILL to the same after the kill delay. */
  terminate(): void {
    this.pids = descendants(this.leader);
    signalTree(this.leader, this.pids, 'SIGTERM');
    this.forceTimer = setTimeout(() => signalTree(this.leader, this.pids, 'SIGKILL'), this.killDelayMs);
    this.forceTimer.unref();
  }

  /**
   * SIGKILL to whatever is left of the group and of the tree seen at `terminate`, without waiting
   * for the delay; resolves once none of that tree is running (a signal is delivered, not awaited,
   * by the kernel), or after `waitMs`. A run that was not stopped has no tree to wait for.
   */
  async sweep(waitMs = 2_000): Promise<void> {
    if (this.forceTimer) clearTimeout(this.forceTimer);
    signalTree(this.leader, this.pids, 'SIGKILL');
    const deadline = Date.now() + waitMs;
    while (this.pids.some(processRunning) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  }
}
