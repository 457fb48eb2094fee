/**
 * The `claude-temporal` command tree (commander): the global flags, then each
 * command group from its file under `commands/`. Each action returns an exit
 * code; `runCli` maps thrown errors to exit codes and `error: ...` lines.
 */
import { Command, CommanderError } from 'commander';
import { type Action, type Context, createContext, type GlobalFlags, type RegisterCommands } from './context.js';
import { classify, EXIT } from './exit-codes.js';
import { printJson } from './output.js';
import { registerCleanupCommands } from './commands/cleanup.js';
import { registerConsoleCommand } from './commands/console.js';
import { registerCostsCommand } from './commands/costs.js';
import { registerDemoCommand } from './commands/demo.js';
import { registerQueryCommands } from './commands/query.js';
import { registerRunCommand } from './commands/run.js';
import { registerSchemaCommand } from './commands/schema.js';
import { registerSessionsCommands } from './commands/sessions.js';
import { registerStackCommands } from './commands/stack.js';
import { registerWorkerCommand } from './commands/worker.js';
import { registerLiveCommands } from './commands/live.js';
import { registerChatCommand } from './commands/chat.js';

export interface CliStreams {
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  env: NodeJS.ProcessEnv;
}

/** The command groups, in the order `--help` lists them. */
const COMMAND_GROUPS: readonly RegisterCommands[] = [
  registerWorkerCommand,
  registerQueryCommands,
  registerRunCommand,
  registerLiveCommands,
  registerChatCommand,
  registerSessionsCommands,
  registerCostsCommand,
  registerConsoleCommand,
  registerCleanupCommands,
  registerStackCommands,
  registerDemoCommand,
  registerSchemaCommand,
];

/** Build the program; `onExit` receives each action's code. */
export function buildProgram(streams: CliStreams, onExit: (code: number) => void): Command {
  let ctx: Context | undefined;
  const program = new Command('claude-temporal');
  const context = (cmd: Command): Context => (ctx ??= createContext(cmd.optsWithGlobals<GlobalFlags>(), streams));
  const action: Action =
    <A extends unknown[]>(fn: (ctx: Context, ...args: A) => Promise<number>) =>
    async (...args: unknown[]) => {
      const cmd = args.at(-1) as Command;
      const c = context(cmd);
      try {
        onExit(await fn(c, ...(args.slice(0, -1) as A)));
      } finally {
        await c.close();
      }
    };

  program
    .description('Run Claude Code sessions as durable Temporal workflows, sessions kept in MongoDB')
    .version('0.1.0')
    .option('--json', 'print results as JSON (shapes in docs/cli.md)')
    .option('--config <file>', 'config file (default $CLAUDE_TEMPORAL_CONFIG or ~/.config/claude-temporal/config.json)')
    .option('--temporal-address <host:port>', 'Temporal frontend (env TEMPORAL_ADDRESS)')
    .option('--namespace <ns>', 'Temporal namespace (env TEMPORAL_NAMESPACE, default default)')
    .option('--task-queue <name>', 'task queue (env TASK_QUEUE, default claude-temporal)')
    .option('--mongodb-uri <uri>', 'MongoDB URI (env MONGODB_URI)')
    .option('--mongodb-db <name>', 'MongoDB database (env MONGODB_DB, default claude_temporal)')
    .option('--claude-path <path>', 'the claude binary, for `worker` (env CLAUDE_PATH)')
    .showSuggestionAfterError()
    .exitOverride()
    .configureOutput({ writeOut: (s) => streams.stdout.write(s), writeErr: (s) => streams.stderr.write(s) });

  for (const register of COMMAND_GROUPS) register(program, action);
  return program;
}

/** Parse and run; resolves to the process exit code (never throws). */
export async function runCli(argv: string[], streams: CliStreams): Promise<number> {
  let code: number = EXIT.ok;
  const json = argv.includes('--json');
  const program = buildProgram(streams, (c) => (code = c));
  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (err) {
    if (err instanceof CommanderError || (err as { code?: string }).code?.startsWith?.('commander.')) {
      const e = err as CommanderError;
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return EXIT.ok;
      if (json) printJson({ stdout: streams.stdout, stderr: streams.stderr, env: streams.env, json }, { error: { type: 'InvalidInput', message: e.message.replace(/^error: /, ''), exitCode: EXIT.usage } });
      return EXIT.usage;
    }
    const c = classify(err);
    streams.stderr.write(`error: ${c.message}\n`);
    if (json) printJson({ stdout: streams.stdout, stderr: streams.stderr, env: streams.env, json }, { error: { type: c.type, message: c.message, ...(c.field ? { field: c.field } : {}), exitCode: c.exitCode } });
    if (streams.env.CLAUDE_TEMPORAL_DEBUG && err instanceof Error && err.stack) streams.stderr.write(err.stack + '\n');
    return c.exitCode;
  }
}
