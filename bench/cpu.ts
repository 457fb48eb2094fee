/**
 * CPU time by process, from /proc (Linux): this process (worker, runner, stub), the `claude`
 * processes it has waited for, and the stack's servers by pid. Elsewhere there is nothing to read
 * (`HAS_PROC` in `src/processes.ts` is false) and the bench prints no CPU line.
 */
import { procStat } from '../src/processes.js';

export type CpuSnapshot = Record<string, number>;

/** Clock ticks in `/proc/<pid>/stat`: 100 a second on Linux. */
const MS_PER_TICK = 10;

/** utime, stime, cutime and cstime (fields 14 to 17 of `/proc/<pid>/stat`), in ms; null when unreadable. */
function times(pid: number | 'self'): [number, number, number, number] | null {
  const f = procStat(pid);
  return f ? ([f[11], f[12], f[13], f[14]].map((x) => Number(x) * MS_PER_TICK) as [number, number, number, number]) : null;
}

/** CPU ms so far: `self`, `claude` (waited-for children) and one entry per server pid. */
export function cpuSnapshot(servers: Record<string, number>): CpuSnapshot {
  const self = times('self');
  const out: CpuSnapshot = { self: self ? self[0] + self[1] : 0, claude: self ? self[2] + self[3] : 0 };
  for (const [name, pid] of Object.entries(servers)) {
    const t = times(pid);
    if (t) out[name] = t[0] + t[1];
  }
  return out;
}

export function cpuSpent(before: CpuSnapshot, after: CpuSnapshot): CpuSnapshot {
  return Object.fromEntries(Object.keys(after).map((k) => [k, after[k]! - (before[k] ?? 0)]));
}
