/**
 * `stack up|down|status`: the embedded local stack run in the background,
 * remembered in a state file (addresses and pids) under the stack home.
 */
import path from 'node:path';
import { type Command } from 'commander';
import { readStackState, removeStackState, stackHome, stackLiveness, stackRunning, type StackState, stopStackProcesses, writeStackState } from '../../stack/state.js';
import { type Action, type Context } from '../context.js';
import { EXIT } from '../exit-codes.js';
import { colorEnabled, type Io, palette, printJson } from '../output.js';

export const registerStackCommands = (program: Command, action: Action): void => {
  const stack = program.command('stack').description('the embedded local stack: Temporal dev server, MongoDB wire server, Messages API stub');
  stack
    .command('up')
    .description('start it in the background (data in $CLAUDE_TEMPORAL_HOME or .local/stack)')
    .option('--no-ui', 'no Temporal Web UI')
    .action(action(stackUp));
  stack.command('down').description('stop it (data is kept)').action(action(stackDown));
  stack.command('status').description('addresses and processes').action(action(stackStatus));
};

function printState(io: Io, state: StackState, heading: string): void {
  if (io.json) return;
  const p = palette(colorEnabled(io.stdout, io.env));
  const live = stackLiveness(state);
  const w = (k: string, v: string) => io.stdout.write(`${p.bold(k.padEnd(18))}${v}\n`);
  io.stdout.write(`${heading}\n`);
  w('TEMPORAL_ADDRESS', state.temporalAddress);
  w('MONGODB_URI', state.mongoUri);
  if (state.stubUrl) w('stub', state.stubUrl);
  if (state.temporalUiUrl) w('Temporal UI', state.temporalUiUrl);
  w('data', state.dataDir);
  w('processes', Object.entries(state.pids).map(([n, pid]) => `${n} ${pid}${live[n] ? '' : ' (gone)'}`).join(', '));
  w('state file', state.stateFile);
}

async function stackUp(ctx: Context, flags: { ui?: boolean }): Promise<number> {
  const { io } = ctx;
  const existing = await readStackState(io.env);
  if (existing && stackRunning(existing)) {
    if (io.json) printJson(io, { ...existing, running: true, started: false });
    else printState(io, existing, 'the local stack is already running');
    return EXIT.ok;
  }
  if (existing) await stopStackProcesses(existing);
  const home = stackHome(io.env);
  if (!io.json) io.stderr.write(`starting the local stack in ${home} ...\n`);
  const { startStack } = await import('../../stack/stack.js');
  const stack = await startStack({ dataDir: path.join(home, 'data'), ui: flags.ui !== false, detached: true, stub: true });
  const state = await writeStackState(io.env, stack);
  if (io.json) printJson(io, { ...state, running: true, started: true });
  else printState(io, state, 'the local stack is running; commands use it when TEMPORAL_ADDRESS and MONGODB_URI are not set');
  return EXIT.ok;
}

async function stackDown(ctx: Context): Promise<number> {
  const { io } = ctx;
  const state = await readStackState(io.env);
  if (!state) {
    if (io.json) printJson(io, { running: false, stopped: {} });
    else io.stdout.write('no local stack is running\n');
    return EXIT.ok;
  }
  const stopped = await stopStackProcesses(state);
  await removeStackState(io.env);
  if (io.json) printJson(io, { running: false, stopped, dataDir: state.dataDir });
  else io.stdout.write(`stopped the local stack (${Object.entries(stopped).map(([n, pid]) => `${n} ${pid}`).join(', ') || 'nothing was running'}); data kept in ${state.dataDir}\n`);
  return EXIT.ok;
}

async function stackStatus(ctx: Context): Promise<number> {
  const { io } = ctx;
  const state = await readStackState(io.env);
  const running = stackRunning(state);
  if (io.json) printJson(io, state ? { ...state, running, services: stackLiveness(state) } : { running: false, stateFile: null });
  else if (!state) io.stdout.write('no local stack: start it with `claude-temporal stack up`\n');
  else printState(io, state, running ? 'the local stack is running' : 'the local stack is not running (some processes are gone): run `claude-temporal stack up`');
  return EXIT.ok;
}
