/**
 * The state file of a local stack started in the background (`stack up`):
 * its addresses and process ids, so later commands can find and stop it.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { LOCAL_DIR } from '../paths.js';
import { processRunning } from '../processes.js';
import { signalGroup } from './service.js';
// `import type` (erased): reading the state must not load the stack and the Temporal client.
import type { StackInfo } from './stack.js';

/** Where `stack up` keeps its data and state: `$CLAUDE_TEMPORAL_HOME`, else `.local/stack` of the project. */
export function stackHome(env: NodeJS.ProcessEnv): string {
  return path.resolve(env.CLAUDE_TEMPORAL_HOME || path.join(LOCAL_DIR, 'stack'));
}

export interface StackState extends Omit<StackInfo, 'pids'> {
  pids: Record<string, number>;
  startedAt: string;
  stateFile: string;
}

export const stateFileOf = (env: NodeJS.ProcessEnv) => path.join(stackHome(env), 'state.json');

export async function readStackState(env: NodeJS.ProcessEnv): Promise<StackState | null> {
  const file = stateFileOf(env);
  try {
    const state = JSON.parse(await readFile(file, 'utf8')) as StackState;
    return { ...state, stateFile: file };
  } catch {
    return null;
  }
}

export async function writeStackState(env: NodeJS.ProcessEnv, info: StackInfo): Promise<StackState> {
  const file = stateFileOf(env);
  await mkdir(path.dirname(file), { recursive: true });
  const { temporalAddress, temporalNamespace, temporalUiUrl, mongoUri, externalMongo, stubUrl, dataDir, pids } = info;
  const state: StackState = { temporalAddress, temporalNamespace, temporalUiUrl, mongoUri, externalMongo, stubUrl, dataDir, pids, startedAt: new Date().toISOString(), stateFile: file };
  await writeFile(file, JSON.stringify(state, null, 2) + '\n');
  return state;
}

export async function removeStackState(env: NodeJS.ProcessEnv): Promise<void> {
  await rm(stateFileOf(env), { force: true });
}

/** Which services of a state file still run. */
export function stackLiveness(state: StackState): Record<string, boolean> {
  return Object.fromEntries(Object.entries(state.pids).map(([name, pid]) => [name, processRunning(pid)]));
}

export function stackRunning(state: StackState | null): boolean {
  return state !== null && Object.values(stackLiveness(state)).every(Boolean) && Object.keys(state.pids).length > 0;
}

/** Stop the processes of a state file: SIGTERM to each process group, SIGKILL to any still alive after 10 s. */
export async function stopStackProcesses(state: StackState): Promise<Record<string, number>> {
  const stopped: Record<string, number> = {};
  const alive = Object.entries(state.pids).filter(([, pid]) => processRunning(pid));
  for (const [, pid] of alive) signalGroup(pid, 'SIGTERM');
  const deadline = Date.now() + 10_000;
  while (alive.some(([, pid]) => processRunning(pid)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  for (const [name, pid] of alive) {
    if (processRunning(pid)) signalGroup(pid, 'SIGKILL');
    stopped[name] = pid;
  }
  return stopped;
}
