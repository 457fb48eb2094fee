/**
 * `console`: serve the web console on this machine. Flags are checked before
 * anything connects; the store must answer, Temporal may not (the live page
 * then says so).
 */
import { type Command } from 'commander';
import { type Action, type Context } from '../context.js';
import { EXIT, usageError } from '../exit-codes.js';
import { printJson } from '../output.js';

/** The environment variable holding the console's access token. */
export const CONSOLE_TOKEN_ENV = 'CLAUDE_TEMPORAL_CONSOLE_TOKEN';
/** Same as the console's defaults, without loading it for `--help`. */
const DEFAULT_HOST = '127.0.0.1';
const DEFAULT_PORT = 8233;

export const registerConsoleCommand = (program: Command, action: Action): void => {
  program
    .command('console')
    .description('serve the web console: sessions, conversations, fork trees, costs and live runs (until Ctrl-C)')
    .option('--port <n>', `port (0: any free port; default ${DEFAULT_PORT})`)
    .option('--host <address>', `interface (default ${DEFAULT_HOST}); a non-loopback one needs ${CONSOLE_TOKEN_ENV}`)
    .option('--temporal-ui <url>', 'Temporal Web UI for workflow links (env TEMPORAL_UI_URL; default: the local stack\'s)')
    .action(action(runConsole));
};

export interface ConsoleFlags {
  port?: string;
  host?: string;
  temporalUi?: string;
}

export function consoleOptions(flags: ConsoleFlags, env: NodeJS.ProcessEnv, isLoopback: (host: string) => boolean): { host: string; port: number; token: string | null } {
  const host = (flags.host ?? DEFAULT_HOST).trim();
  if (!host) throw usageError('--host', 'must not be empty');
  let port = DEFAULT_PORT;
  if (flags.port !== undefined) {
    port = /^\d+$/.test(flags.port) ? Number(flags.port) : NaN;
    if (!Number.isInteger(port) || port > 65_535) throw usageError('--port', `must be an integer from 0 to 65535, got ${flags.port}`);
  }
  const token = env[CONSOLE_TOKEN_ENV]?.trim() || null;
  if (token !== null && token.length < 16) throw usageError(CONSOLE_TOKEN_ENV, 'must be at least 16 characters');
  if (!isLoopback(host) && !token) throw usageError('--host', `${host} is not a loopback address: set ${CONSOLE_TOKEN_ENV} to an access token to serve beyond this machine`);
  return { host, port, token };
}

async function runConsole(ctx: Context, flags: ConsoleFlags): Promise<number> {
  const { io } = ctx;
  const { isLoopback, startConsole } = await import('../../console/server.js');
  const opts = consoleOptions(flags, io.env, isLoopback);
  const store = await ctx.store();
  let client = null;
  try {
    client = await ctx.temporal();
  } catch (err) {
    io.stderr.write(`warning: ${(err as Error).message}; the live page will say so\n`);
  }
  const temporalUiUrl = flags.temporalUi ?? io.env.TEMPORAL_UI_URL ?? ctx.config.stack?.temporalUiUrl ?? null;
  const running = await startConsole(
    { store, client, temporalUiUrl, namespace: ctx.config.values.temporalNamespace ?? 'default' },
    { host: opts.host, port: opts.port, token: opts.token },
  );
  if (io.json) printJson(io, { event: 'ready', url: running.url, tokenRequired: opts.token !== null });
  else io.stdout.write(`console at ${running.url}${opts.token ? ` (open ${running.url}/?token=<token> once)` : ''} (stop with Ctrl-C)\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await running.close();
  if (!io.json) io.stderr.write('console stopped\n');
  return EXIT.ok;
}
