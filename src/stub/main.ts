/**
 * Standalone stub process: `node --import tsx src/stub/main.ts [--port N]` or
 * `node dist/stub/main.js`. Prints one line `ready <url>` on stdout once listening,
 * and exits on SIGTERM or SIGINT.
 */
import { startStub } from './server.js';

function portFromArgs(argv: string[]): number {
  const i = argv.indexOf('--port');
  const raw = i >= 0 ? argv[i + 1] : process.env.STUB_PORT;
  const port = raw === undefined ? 0 : Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`Invalid stub port: ${raw ?? ''}`);
  return port;
}

export async function main(argv: string[] = process.argv.slice(2)): Promise<void> {
  const stub = await startStub({ port: portFromArgs(argv) });
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    stub.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.stdout.write(`ready ${stub.url}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
