/**
 * A step's store commands by what they are for, from the driver's command monitoring: the bench
 * runs one pipeline through a store whose client monitors its commands (the measured rounds do
 * not), then lays each command on its step (from its activity's start to the next step's, from
 * the history) and on the step's `claude` process (spawn to exit, from its ledger entry).
 */
import { performance } from 'node:perf_hooks';
import { type CommandFailedEvent, type CommandStartedEvent, type CommandSucceededEvent, type MongoClient } from 'mongodb';

/** What a store command is for, by its collection (and, for transcripts, whether it reads or writes). */
export const STORE_PHASES = ['lease', 'restore', 'ledger', 'appends', 'save', 'other'] as const;
export type StorePhase = (typeof STORE_PHASES)[number];

const PHASE_OF_COLLECTION: Record<string, StorePhase> = {
  session_leases: 'lease',
  session_lease_heads: 'lease',
  runs: 'ledger',
  run_briefs: 'ledger',
  sessions: 'ledger',
  scope_latest: 'ledger',
  conversations: 'ledger',
  messages: 'appends',
  run_starts: 'appends',
};
const TRANSCRIPT_COLLECTIONS = new Set(['transcript_files', 'transcripts.files', 'transcripts.chunks']);
/** Commands that carry no collection of the store's (the driver's own). */
const DRIVER_COMMANDS = new Set(['hello', 'isMaster', 'ismaster', 'ping', 'endSessions', 'buildInfo', 'saslStart', 'saslContinue']);

export interface TracedCommand {
  phase: StorePhase;
  /** Epoch ms, with a fraction. */
  start: number;
  end: number;
}

/** Transcript reads put a step's conversation in place; its writes save the new one. */
function phaseOf(event: CommandStartedEvent): StorePhase | null {
  if (DRIVER_COMMANDS.has(event.commandName)) return null;
  const name = event.commandName === 'getMore' ? event.command.collection : event.command[event.commandName];
  if (typeof name !== 'string') return 'other';
  if (TRANSCRIPT_COLLECTIONS.has(name)) return event.commandName === 'find' || event.commandName === 'getMore' ? 'restore' : 'save';
  return PHASE_OF_COLLECTION[name] ?? 'other';
}

const now = () => performance.timeOrigin + performance.now();

/** Records every command of a client made with `monitorCommands: true`. */
export function traceStoreCommands(client: MongoClient): TracedCommand[] {
  const commands: TracedCommand[] = [];
  const open = new Map<number, { phase: StorePhase; start: number }>();
  client.on('commandStarted', (e: CommandStartedEvent) => {
    const phase = phaseOf(e);
    if (phase) open.set(e.requestId, { phase, start: now() });
  });
  const done = (e: CommandSucceededEvent | CommandFailedEvent) => {
    const o = open.get(e.requestId);
    if (!o) return;
    open.delete(e.requestId);
    commands.push({ ...o, end: now() });
  };
  client.on('commandSucceeded', done);
  client.on('commandFailed', done);
  return commands;
}

export interface StepSpan {
  /** Activity started and completed (history), the process's spawn and exit (ledger), epoch ms. */
  started: number;
  completed: number;
  spawn: number;
  exit: number;
}

/** Total ms of the union of intervals: what a step waited for, whatever ran side by side. */
function covered(intervals: Array<[number, number]>): number {
  let total = 0;
  let reach = -Infinity;
  for (const [s, e] of [...intervals].sort((a, b) => a[0] - b[0])) {
    if (e <= reach) continue;
    total += e - Math.max(s, reach);
    reach = e;
  }
  return total;
}

/**
 * One line per step, then the total: commands and ms by phase, and the store's time before the
 * spawn, while the CLI runs (it waits for none of that, bar its prompt's EOF) and from its exit to
 * the activity's completion (what the step waits for).
 */
export function storePhaseLines(commands: readonly TracedCommand[], steps: readonly StepSpan[]): string[] {
  const f = (n: number, w = 6) => (Number.isFinite(n) ? n.toFixed(n < 10 ? 1 : 0) : '-').padStart(w);
  const header = `step   store, commands / ms: ${STORE_PHASES.map((p) => p.padStart(12)).join('')} | store ms before spawn, during the CLI, after exit`;
  const rows: number[][] = steps.map((s, i) => {
    // Up to the next step's start: a step prunes the transcripts it replaced as it answers.
    const until = steps[i + 1]?.started ?? Infinity;
    const mine = commands.filter((c) => c.start >= s.started && c.start < until);
    const byPhase = STORE_PHASES.flatMap((p) => {
      const of = mine.filter((c) => c.phase === p);
      return [of.length, of.reduce((a, c) => a + (c.end - c.start), 0)];
    });
    const window = (from: number, to: number) => covered(mine.filter((c) => c.start >= from && c.start < to).map((c) => [c.start, Math.min(c.end, to)]));
    return [...byPhase, window(s.started, s.spawn), window(s.spawn, s.exit), window(s.exit, s.completed)];
  });
  const line = (label: string, r: number[]) =>
    `${label.padStart(5)}${' '.repeat(24)}${STORE_PHASES.map((_, i) => `${String(r[2 * i]).padStart(4)} /${f(r[2 * i + 1]!)}`).join('')} | ${r.slice(-3).map((x) => f(x, 8)).join(' ')}`;
  const total = rows[0]!.map((_, k) => rows.reduce((a, r) => a + r[k]!, 0));
  return [header, ...rows.map((r, i) => line(String(i + 1), r)), line('total', total)];
}
